"""Training rows for a user's own database (``kosql data synth --db``).

:func:`synth_from_database` opens the database read-only (:func:`kosql.ask.connect.open_database`:
a SQLite file or a PostgreSQL URL), reads its schema, samples real values with bounded queries
(``LIMIT``, the time limit of every request), infers each column's role and the joins
(:mod:`kosql.data.synth.infer`), runs the templates (projection, filters on every column kind,
LIKE, IN, BETWEEN, NULL checks, aggregates, GROUP BY / HAVING, ORDER BY / LIMIT, joins along
declared and inferred keys, subqueries, set operations, date ranges) and executes every query on
the database (read-only, time-limited). It keeps the queries that run with a non-degenerate result
that differs from their siblings', each with ``phrasings`` Korean questions, and writes
``train.jsonl`` / ``dev.jsonl`` / ``test.jsonl`` in the ko_text2sql row format. The test split
holds every query of some held-out templates and some held-out tables, so it measures whether a
model generalizes beyond the queries it was trained on; dev is a share of the rest.

The ``context`` of a row is the schema as ``kosql ask`` shows it (:func:`kosql.ask.schema.render_ddl`).
For PostgreSQL the SQL is written in its dialect and ``db_url`` records the URL without the password.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kosql.data.rows import Example, write_jsonl
from kosql.data.schema import Schema
from kosql.errors import UserError

SAMPLE_ROWS = 500
DEV_SHARE = 0.1


@dataclass
class SynthDbSummary:
    out_dir: Path
    db: str
    dialect: str
    tables: list[str]
    counts: dict[str, int]
    queries: int
    heldout_templates: list[str]
    heldout_tables: list[str]
    seconds: float
    stats: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def read_names(path: str | Path) -> dict[str, str]:
    """A glossary file: one ``column: 한국어 이름`` or ``table.column: 이름`` (or ``table: 이름``) a line;
    blank lines and ``#`` comments are skipped. A malformed line is a UserError naming it."""
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"--names: cannot read '{p}' ({exc.__class__.__name__}).") from None
    names: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip() or not value.strip():
            raise UserError(f"--names: line {n} of '{p}' is not 'column: 이름' or 'table.column: 이름': {line!r}.")
        names[key.strip().strip('"`')] = value.strip()
    return names


def check_names(names: dict[str, str], schema: Schema) -> dict[str, str]:
    """``names`` with keys spelled as the schema does; UserError naming the keys it does not have."""
    out: dict[str, str] = {}
    unknown: list[str] = []
    for key, value in names.items():
        table = schema.table(key)
        if table is not None:
            out[table.name] = value
            continue
        head, dot, tail = key.partition(".")
        owner = schema.table(head) if dot else None
        col = owner.column(tail) if owner is not None else None
        if owner is not None and col is not None:
            out[f"{owner.name}.{col.name}"] = value
            continue
        spelled = {c.name for t in schema.tables.values() for c in t.columns if c.name.lower() == key.lower()}
        if spelled:
            for name in spelled:
                out[name] = value
        else:
            unknown.append(key)
    if unknown:
        raise UserError(f"--names: the database has no table or column {', '.join(map(repr, unknown[:5]))}"
                        + (f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else "") + ".")
    return out


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sample(connector: Any, schema: Schema, timeout: float) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, int]]:
    """Up to SAMPLE_ROWS rows and the row count of every readable table (bounded queries)."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    counts: dict[str, int] = {}
    for table in schema.tables.values():
        cols = ", ".join(_q(c) for c in table.column_names())
        res = connector.execute(f"SELECT {cols} FROM {_q(table.name)} LIMIT {SAMPLE_ROWS}", max_rows=SAMPLE_ROWS,
                                timeout=timeout, denied_columns=[])
        if not res.ok:
            continue
        rows[table.name] = [tuple(r) for r in res.rows]
        n = connector.execute(f"SELECT COUNT(*) FROM {_q(table.name)}", max_rows=1, timeout=timeout,
                              denied_columns=[])
        counts[table.name] = int(n.rows[0][0]) if n.ok and n.rows else len(res.rows)
    return rows, counts


def _public_url(db: str) -> str:
    from sqlalchemy.engine import URL, make_url

    u = make_url(db)
    bare = URL.create(u.drivername, username=u.username, host=u.host, port=u.port, database=u.database, query=u.query)
    return bare.render_as_string(hide_password=False)


def _open(db: str) -> tuple[Any, Schema]:
    from kosql.ask.connect import open_database

    connector = open_database(db)
    try:
        schema = connector.schema()
    except UserError:
        connector.close()
        raise
    except Exception as exc:  # a driver error while reading the catalog
        connector.close()
        raise UserError(f"--db: cannot read the schema of {connector.url} ({exc.__class__.__name__}).") from None
    if not schema.tables:
        connector.close()
        raise UserError(f"--db: {connector.url} has no tables.")
    return connector, _readable(schema, connector.unreadable_columns())


def _readable(schema: Schema, unreadable: set[tuple[str, str]]) -> Schema:
    """``schema`` without the columns the role may not read (PostgreSQL column GRANTs)."""
    if not unreadable:
        return schema
    kept = {name: {c.name for c in t.columns if (name, c.name) not in unreadable} for name, t in schema.tables.items()}
    tables = {}
    for name, t in schema.tables.items():
        if not kept[name]:
            continue
        fks = [fk for fk in t.foreign_keys if set(fk.columns) <= kept[name]
               and set(fk.ref_columns) <= kept.get(fk.ref_table, set())]
        tables[name] = replace(t, columns=[c for c in t.columns if c.name in kept[name]],
                               primary_key=[c for c in t.primary_key if c in kept[name]], foreign_keys=fks)
    return Schema(tables=tables, dialect=schema.dialect)


def synth_from_database(db: str, out_dir: str | Path, *, names: dict[str, str] | None = None, phrasings: int = 3,
                        seed: int = 0, max_queries: int | None = None, timeout: float = 5.0,
                        progress: bool = True) -> SynthDbSummary:
    """Generate, execute and write training rows for database ``db`` (see the module docstring)."""
    from kosql.data.synth.engine import EngineStats, generate_queries
    from kosql.data.synth.infer import build_view

    if phrasings < 1:
        raise UserError("--phrasings must be at least 1.")
    start = time.perf_counter()
    connector, schema = _open(db)
    try:
        glossary = check_names(names or {}, schema)
        sampled, counts = _sample(connector, schema, timeout)
        if not sampled:
            raise UserError(f"--db: no table of {connector.url} could be read.")
        filled = {t: r for t, r in sampled.items() if r}
        if not filled:
            raise UserError(f"--db: every table of {connector.url} is empty; there are no values to ask about.")
        dialect = "postgres" if connector.dialect == "postgres" else None
        sub = Schema(tables={t: schema.tables[t] for t in filled}, dialect=schema.dialect)
        view = build_view(sub, filled, names=glossary, dialect=dialect)
        want = max_queries if max_queries is not None else min(600, max(60, 30 * len(filled)))
        translate = _translator(connector.dialect)
        stats = EngineStats()
        bar = _progress(progress, want)
        queries = generate_queries(view, _executor(connector, translate, timeout, bar), rng=random.Random(f"kosql-db:{seed}"),
                                   want=want, phrasings=phrasings, table_rows=counts, stats=stats)
        bar.stop()
    finally:
        connector.close()
    if not queries:
        raise UserError(f"--db: no generated query gave a useful result on {connector.url}; nothing was written.")
    db_id = _db_id(db)
    rows, held_t, held_tab = _split_rows(queries, schema, db_id, seed)
    extra = {"db_path": str(Path(db).expanduser().resolve())} if not _is_url(db) else {"db_url": _public_url(db)}
    for split_rows in rows.values():
        for ex in split_rows:
            ex.extra.update(extra)
            ex.extra["dialect"] = connector.dialect
            if connector.dialect == "postgres":
                ex.answer = translate(ex.answer.rstrip(";")) + ";"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / f"{s}.jsonl" for s in ("train", "dev", "test")]
    result = {s: write_jsonl(out / f"{s}.jsonl", rows[s]) for s in ("train", "dev", "test")}
    summary = SynthDbSummary(out, extra.get("db_path") or extra["db_url"], connector.dialect, list(filled), result,
                             len(queries), held_t, held_tab, time.perf_counter() - start, stats.__dict__.copy(), files)
    (out / "summary.json").write_text(json.dumps(_summary_dict(summary), ensure_ascii=False, indent=2) + "\n",
                                      encoding="utf-8")
    files.append(out / "summary.json")
    return summary


def _is_url(db: str) -> bool:
    return "://" in db


def _db_id(db: str) -> str:
    if _is_url(db):
        from sqlalchemy.engine import make_url

        return make_url(db).database or "db"
    return Path(db).stem or "db"


def _translator(dialect: str) -> Any:
    if dialect != "postgres":
        return lambda sql: sql
    import sqlglot

    def translate(sql: str) -> str:
        return str(sqlglot.transpile(sql, read="sqlite", write="postgres")[0])

    return translate


def _executor(connector: Any, translate: Any, timeout: float, bar: Any) -> Any:
    def execute(sql: str) -> list[tuple[Any, ...]] | None:
        try:
            text = translate(sql)
        except Exception:  # sqlglot could not write it in the database's dialect
            return None
        res = connector.execute(text, max_rows=1000, timeout=timeout, denied_columns=[])
        if res.ok and res.rows and not all(v is None for r in res.rows for v in r):
            bar.advance()
        return [tuple(r) for r in res.rows] if res.ok else None

    return execute


def _progress(enabled: bool, total: int) -> Any:
    from kosql.progress import ProgressBar

    bar = ProgressBar("generating queries", total, enabled=enabled)
    bar.start()
    return bar


def _split_rows(queries: list[Any], schema: Schema, db_id: str,
                seed: int) -> tuple[dict[str, list[Example]], list[str], list[str]]:
    """Test: every query of the held-out templates or touching a held-out table; dev: a share of
    the rest (all phrasings of a query stay together); train: the others."""
    rng = random.Random(f"kosql-db-split:{seed}")
    templates = sorted({q.template for q in queries})
    tables = sorted({t for q in queries for t in q.tables})
    held_t = rng.sample(templates, max(1, round(0.1 * len(templates)))) if len(templates) >= 4 else []
    held_tab = rng.sample(tables, max(1, round(0.15 * len(tables)))) if len(tables) >= 4 else []
    out: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
    from kosql.ask.schema import render_ddl

    for q in queries:
        if q.template in held_t or any(t in held_tab for t in q.tables):
            split = "test"
        else:
            split = "dev" if rng.random() < DEV_SHARE else "train"
        context = render_ddl(schema, _context_tables(schema, q.tables))
        for question in q.questions:
            n = len(out[split])
            out[split].append(Example(id=f"{db_id}-{split}-{n:05d}", db_id=db_id, context=context,
                                      question=question, answer=q.sql + ";",
                                      extra={"split": split, "template": q.template, "hardness": q.hardness,
                                             "features": q.features}))
    return out, held_t, held_tab


def _context_tables(schema: Schema, needed: list[str]) -> list[str] | None:
    """All tables of a small schema; else the needed ones and two others fixed per set of tables."""
    names = schema.table_names()
    if len(names) <= 8:
        return None
    rng = random.Random("kosql-db-context:" + "|".join(sorted(needed)))
    others = [t for t in names if t not in needed]
    keep = set(needed) | set(rng.sample(others, min(2, len(others))))
    return [t for t in names if t in keep]


def _summary_dict(s: SynthDbSummary) -> dict[str, Any]:
    return {"db": s.db, "dialect": s.dialect, "tables": s.tables, "counts": s.counts, "queries": s.queries,
            "heldout_templates": s.heldout_templates, "heldout_tables": s.heldout_tables,
            "seconds": round(s.seconds, 2), "stats": s.stats}
