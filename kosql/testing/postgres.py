"""A throw-away PostgreSQL server for tests: Debian's packages, a temporary data folder, localhost.

:func:`start_postgres` installs the ``postgresql`` package when needed
(:func:`kosql.testing.debian.ensure_debian_packages`), creates the OS user ``kosqlpg`` when run as
root (PostgreSQL refuses to run as root), runs ``initdb`` in a temporary folder owned by that user,
and starts the server on a free localhost port with password (scram) authentication over TCP.
:meth:`TempPostgres.stop` stops it and removes the folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kosql.testing.debian import ensure_debian_packages, postgres_bin_dir

OS_USER = "kosqlpg"
SUPERUSER = "postgres"


@dataclass
class TempPostgres:
    """A running server: ``url(user, password)`` builds a SQLAlchemy URL for a role on it."""

    port: int
    data_dir: Path
    bin_dir: Path
    password: str
    run_as: str | None

    def url(self, user: str = SUPERUSER, password: str | None = None, database: str = "postgres") -> str:
        return f"postgresql://{user}:{password or self.password}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        _run(self, [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"],
             check=False)
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(pg: TempPostgres | None, cmd: list[str], *, check: bool = True, run_as: str | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:
    user = pg.run_as if pg is not None else run_as
    if user is not None:
        cmd = ["runuser", "-u", user, "--", *cmd]
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=timeout)


def _ensure_os_user() -> str | None:
    if os.geteuid() != 0:
        return None
    if subprocess.run(["id", "-u", OS_USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/false", OS_USER],
                       check=True, capture_output=True)
    return OS_USER


def postgres_available() -> bool:
    """Install PostgreSQL's server packages if needed; False when they cannot be had here."""
    if postgres_bin_dir() is None:
        ensure_debian_packages(["postgresql"], ["pg_ctlcluster"])  # the server's packages, not the client
    return postgres_bin_dir() is not None


def start_postgres(password: str = "kosql-test-superuser") -> TempPostgres:
    """Start a fresh server (see the module docstring); raises RuntimeError when it cannot."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    run_as = _ensure_os_user()
    root = Path(tempfile.mkdtemp(prefix="kosql-pg-"))
    data, pwfile = root / "data", root / "pw"
    pwfile.write_text(password + "\n", encoding="utf-8")
    if run_as is not None:
        shutil.chown(root, run_as)
        shutil.chown(pwfile, run_as)
    root.chmod(0o700)
    pg = TempPostgres(port=_free_port(), data_dir=data, bin_dir=bin_dir, password=password, run_as=run_as)
    init = _run(pg, [str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--pwfile", str(pwfile),
                     "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8",
                     "--locale=C.UTF-8"], check=False)
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.stderr.strip()[-400:]}")
    opts = f"-c listen_addresses=127.0.0.1 -c port={pg.port} -c unix_socket_directories={root} -c fsync=off"
    start = _run(pg, [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-o", opts,
                      "-w", "-t", "60", "start"], check=False)
    if start.returncode != 0:
        log = (root / "log").read_text(encoding="utf-8", errors="replace")[-400:] if (root / "log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"pg_ctl start failed: {start.stderr.strip()[-200:]} {log}")
    _wait_ready(pg.port)
    return pg


def _wait_ready(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"PostgreSQL did not listen on port {port} within {timeout:g} s")


_PG_TYPE = {"int": "BIGINT", "real": "DOUBLE PRECISION", "decimal": "NUMERIC", "text": "TEXT", "date": "DATE",
            "datetime": "TIMESTAMP", "time": "TIME", "bool": "BOOLEAN", "json": "JSONB", "blob": "BYTEA"}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_domain(conn: object, ddl: str, sqlite_path: str | Path) -> dict[str, int]:
    """Create the tables of ``ddl`` (MySQL-flavoured CREATE TABLEs with COMMENTs) in the PostgreSQL
    connection ``conn`` with typed columns, keys and comments, copy their rows from the SQLite file,
    and return each table's row count."""
    import sqlite3

    from kosql.data.schema import parse_schema, quote_literal

    schema = parse_schema(ddl)
    cur = conn.cursor()  # type: ignore[attr-defined]
    src = sqlite3.connect(Path(sqlite_path).resolve().as_uri() + "?mode=ro", uri=True)
    counts: dict[str, int] = {}
    try:
        for table in schema.tables.values():
            cols = [f"{_q(c.name)} {_PG_TYPE.get(c.kind, 'TEXT')}{'' if c.nullable else ' NOT NULL'}"
                    for c in table.columns]
            if table.primary_key:
                cols.append("PRIMARY KEY (" + ", ".join(_q(c) for c in table.primary_key) + ")")
            for fk in table.foreign_keys:
                cols.append(f"FOREIGN KEY ({', '.join(map(_q, fk.columns))}) REFERENCES {_q(fk.ref_table)} "
                            f"({', '.join(map(_q, fk.ref_columns))})")
            cur.execute(f"CREATE TABLE {_q(table.name)} ({', '.join(cols)})")
            if table.comment:
                cur.execute(f"COMMENT ON TABLE {_q(table.name)} IS {quote_literal(table.comment)}")
            for c in table.columns:
                if c.comment:
                    cur.execute(f"COMMENT ON COLUMN {_q(table.name)}.{_q(c.name)} IS {quote_literal(c.comment)}")
            kinds = [c.kind for c in table.columns]
            rows = src.execute(f"SELECT {', '.join(_q(c.name) for c in table.columns)} FROM {_q(table.name)}")
            data = [tuple(bool(v) if k == "bool" and v is not None else v for v, k in zip(r, kinds, strict=True))
                    for r in rows]
            marks = ", ".join(["%s"] * len(kinds))
            cur.executemany(f"INSERT INTO {_q(table.name)} VALUES ({marks})", data)
            counts[table.name] = len(data)
    finally:
        src.close()
    return counts
