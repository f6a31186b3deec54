"""Read-only connectors: the database refuses writes even when the guard misses one.

:func:`open_database` takes a SQLite path or a SQLAlchemy URL and returns a connector with
``schema()``, ``plan(sql)``, ``execute(sql, ...)`` and ``write_privileges()``.

- **SQLite** (:class:`SQLiteConnector`): each call opens its own connection with ``mode=ro``, no
  ATTACH (limit 0), an authorizer that allows only reads (and denies reading a denied column), a
  progress-handler time limit and ``fetchmany(max_rows + 1)`` (:mod:`kosql.db.execute`).
- **PostgreSQL** (:mod:`kosql.ask.postgres`): each request in ``BEGIN READ ONLY`` with
  ``SET LOCAL statement_timeout`` / ``lock_timeout``, one statement per round trip, always rolled
  back, and ``DISCARD ALL`` before a pooled connection is reused.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from kosql.ask.dbtypes import Connector, PlanInfo
from kosql.data.schema import Schema
from kosql.db.execute import ExecResult, execute_on_connection, open_readonly
from kosql.errors import UserError

__all__ = ["Connector", "PlanInfo", "SQLiteConnector", "is_url", "open_database"]


def is_url(db: str) -> bool:
    return "://" in db


def open_database(db: str) -> Connector:
    """A connector for ``db`` (a SQLite file path or a SQLAlchemy URL); UserError when unreachable."""
    if not is_url(db):
        return SQLiteConnector(db)
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(db)
    except ArgumentError:
        raise UserError(f"--db '{db}' is neither a SQLite file nor a valid database URL.") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database:
            raise UserError("--db: an in-memory SQLite database has no tables to ask about.")
        return SQLiteConnector(url.database)
    if backend == "postgresql":
        from kosql.ask.postgres import PostgresConnector

        return PostgresConnector(url)
    raise UserError(f"--db: the {backend} database is not supported yet (SQLite and PostgreSQL are).")


def _table_aliases(sql: str) -> dict[str, str]:
    """alias (or name) -> real table name for every table ``sql`` reads (CTE names excluded)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
    except sqlglot.errors.SqlglotError:
        return {}
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return {t.alias_or_name: t.name for t in tree.find_all(exp.Table)
            if t.name and t.name not in ctes and isinstance(t.this, exp.Identifier)}


class SQLiteConnector:
    """A SQLite file opened read-only for every call."""

    dialect = "sqlite"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self.url = str(self.path)
        if not self.path.is_file():
            raise UserError(f"--db: the SQLite database '{self.path}' does not exist.")
        try:
            with self._connect() as conn:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise UserError(f"--db: '{self.path}' is not a SQLite database ({exc}).") from None
        self._sizes: dict[str, int] = {}

    def _connect(self) -> sqlite3.Connection:
        return open_readonly(self.path)

    def schema(self) -> Schema:
        from sqlalchemy import create_engine

        from kosql.ask.schema import inspect_schema

        uri = self.path.resolve().as_uri() + "?mode=ro"
        engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
        try:
            return inspect_schema(engine)
        finally:
            engine.dispose()

    def table_rows(self, table: str, timeout: float) -> int:
        """Row count of ``table`` (cached; -1 when counting ran out of time)."""
        if table not in self._sizes:
            conn = self._connect()
            try:
                quoted = '"' + table.replace('"', '""') + '"'
                res = execute_on_connection(conn, f"SELECT count(*) FROM {quoted}", timeout=timeout,
                                            max_rows=1)
            finally:
                conn.close()
            self._sizes[table] = int(res.rows[0][0]) if res.ok and res.rows else -1
        return self._sizes[table]

    def plan(self, sql: str, *, timeout: float) -> PlanInfo:
        conn = self._connect()
        try:
            res = execute_on_connection(conn, "EXPLAIN QUERY PLAN " + sql, timeout=timeout, max_rows=10_000)
        finally:
            conn.close()
        if not res.ok:
            return PlanInfo(kind="sqlite", error=res.error)
        from kosql.ask.cost import sqlite_full_scans

        aliases = _table_aliases(sql)
        scans = [aliases[s] for s in sqlite_full_scans([str(r[-1]) for r in res.rows]) if s in aliases]
        sizes = {t: self.table_rows(t, timeout) for t in dict.fromkeys(scans)}
        return PlanInfo(kind="sqlite", full_scans=scans, table_rows=sizes, raw=res.rows)

    def execute(self, sql: str, *, max_rows: int, timeout: float,
                denied_columns: list[tuple[str, str]]) -> ExecResult:
        conn = self._connect()
        try:
            return execute_on_connection(conn, sql, timeout=timeout, max_rows=max_rows,
                                         denied_columns=denied_columns)
        finally:
            conn.close()

    def write_privileges(self) -> list[str]:
        return []  # opened with mode=ro: SQLite itself refuses every write

    def unreadable_columns(self) -> set[tuple[str, str]]:
        return set()

    def close(self) -> None:
        return None
