"""What ``--db`` names: a SQLite file, a SQLAlchemy URL, or ``bundled:<name>``, a database of the
bundled dataset (generated into the cache on first use). One resolver for `kosql ask` and `kosql serve`."""

from __future__ import annotations

from pathlib import Path

from kosql.errors import UserError

BUNDLED_DB_PREFIX = "bundled:"


def resolve_db(spec: str) -> str:
    """A SQLite path or SQLAlchemy URL for ``spec``; ``bundled:<db_id>`` is a database of the bundled
    dataset (``bundled:hr``; generated into the cache on first use)."""
    if spec.startswith(BUNDLED_DB_PREFIX):
        from kosql.data.resolve import bundled_database_names
        from kosql.data.synth import SIZES, bundled_dataset

        name = spec[len(BUNDLED_DB_PREFIX):].strip() or "hr"
        if name.partition("+")[0] in SIZES:
            raise UserError(f"--db {spec}: {name!r} is a bundled dataset size (for --data); --db takes a bundled "
                            f"database name: {', '.join(bundled_database_names())}.")
        dbs = Path(bundled_dataset("small")) / "dbs"
        path = dbs / f"{name}.sqlite"
        if not path.exists():
            known = ", ".join(sorted(p.stem for p in dbs.glob("*.sqlite")))
            raise UserError(f"The bundled dataset has no database '{name}': choose one of {known}.")
        return str(path)
    if "://" not in spec and not Path(spec).expanduser().exists():
        raise UserError(f"The database file {spec} does not exist (give a SQLite file or a SQLAlchemy URL).")
    return spec if "://" in spec else str(Path(spec).expanduser().resolve())


def read_comments(path: str | None) -> str | None:
    """The text of a ``--comments`` DDL file (None without one); an unreadable file is a UserError."""
    if path is None:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"--comments: cannot read '{path}' ({exc.strerror}).") from None
