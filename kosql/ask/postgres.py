"""The PostgreSQL connector (psycopg 3): every request read-only, time-limited and rolled back.

Each call takes a pooled connection and runs, one statement per round trip::

    BEGIN READ ONLY;
    SET LOCAL statement_timeout = <ms>; SET LOCAL lock_timeout = <ms>;
    SELECT 1;              -- after a query, SET TRANSACTION READ WRITE is refused
    <the one statement>    -- extended query protocol: a second statement is a syntax error
    ROLLBACK;

and ``DISCARD ALL`` before the connection goes back to the pool (a ``set_config(..., false)`` that
slipped through is forgotten). ``EXPLAIN ANALYZE DELETE`` and a CTE write fail in the read-only
transaction; ``set_config('statement_timeout', '0', false)`` cannot lift the ``SET LOCAL`` limit of
the transaction it runs in. ``dblink_exec`` opens another connection, which only the role's
privileges stop: :meth:`PostgresConnector.write_privileges` reports it (docs/ask.md shows a role
that cannot).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from kosql.ask.dbtypes import PlanInfo
from kosql.data.schema import Schema
from kosql.db.execute import ExecResult
from kosql.errors import UserError

_POOL_SIZE = 4
_TIMEOUT_STATES = {"57014"}  # query_canceled (statement_timeout)
_KIND_OF_STATE = {"42P01": "unknown_table", "42703": "unknown_column", "42601": "syntax",
                  "42501": "forbidden", "25006": "forbidden", "55P03": "timeout"}


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise UserError("Asking a PostgreSQL database needs psycopg 3: pip install 'psycopg[binary]'.") from None
    return psycopg


class PostgresConnector:
    """Read-only access to one PostgreSQL database (thread-safe; a small connection pool)."""

    dialect = "postgres"

    def __init__(self, url: Any) -> None:
        self._url = url.set(drivername="postgresql+psycopg")
        self.url = self._url.render_as_string(hide_password=True)
        self._lock = threading.Lock()
        self._idle: list[Any] = []
        self._sizes: dict[str, int] | None = None
        self._put(self._connect())  # fail now, in one sentence, when the server cannot be reached

    # ------------------------------------------------------------------ connections
    def _connect(self) -> Any:
        psycopg = _psycopg()
        u = self._url
        kwargs = {k: v for k, v in {"host": u.host, "port": u.port, "user": u.username,
                                    "password": u.password, "dbname": u.database}.items() if v is not None}
        kwargs.update({k: v for k, v in u.query.items() if isinstance(v, str)})
        kwargs.setdefault("connect_timeout", 10)
        try:
            return psycopg.connect(autocommit=True, prepare_threshold=None, **kwargs)  # DISCARD ALL-safe
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(f"--db: cannot connect to {self.url} ({first}).") from None

    def _get(self) -> Any:
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed:
                    return conn
        return self._connect()

    def _put(self, conn: Any) -> None:
        psycopg = _psycopg()
        try:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
            conn.execute("DISCARD ALL")
        except psycopg.Error:
            conn.close()
            return
        with self._lock:
            if len(self._idle) < _POOL_SIZE:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    # ------------------------------------------------------------------ read-only requests
    def _read_only(self, conn: Any, timeout: float) -> None:
        ms = max(1, int(timeout * 1000))
        conn.execute("BEGIN READ ONLY")
        conn.execute(f"SET LOCAL statement_timeout = {ms}")
        conn.execute(f"SET LOCAL lock_timeout = {ms}")
        conn.execute(f"SET LOCAL idle_in_transaction_session_timeout = {ms + 5000}")
        conn.execute("SELECT 1", prepare=False)

    def execute(self, sql: str, *, max_rows: int, timeout: float,
                denied_columns: list[tuple[str, str]] | None = None) -> ExecResult:
        """Run one statement read-only (``denied_columns`` are enforced by the role's GRANTs)."""
        psycopg = _psycopg()
        start = time.monotonic()
        conn = self._get()
        try:
            self._read_only(conn, timeout)
            cur = conn.cursor()
            cur.execute(sql, prepare=False, binary=True)  # extended protocol: one statement only
            columns = [d.name for d in cur.description or []]
            rows = cur.fetchmany(max_rows + 1) if cur.description else []
            conn.execute("ROLLBACK")
        except psycopg.Error as exc:
            return _failure(exc, timeout, time.monotonic() - start)
        finally:
            self._put(conn)
        truncated = len(rows) > max_rows
        return ExecResult(ok=True, columns=columns, rows=[tuple(r) for r in rows[:max_rows]],
                          truncated=truncated, seconds=time.monotonic() - start)

    def plan(self, sql: str, *, timeout: float) -> PlanInfo:
        """``EXPLAIN (FORMAT JSON)`` of ``sql`` (the query itself does not run)."""
        from kosql.ask.cost import postgres_plan_info

        res = self.execute("EXPLAIN (FORMAT JSON) " + sql, max_rows=10, timeout=timeout)
        if not res.ok:
            return PlanInfo(kind="postgres", error=res.error)
        doc = res.rows[0][0] if res.rows else []
        if isinstance(doc, str):
            import json

            doc = json.loads(doc)
        return postgres_plan_info(doc, self.table_rows())

    def table_rows(self) -> dict[str, int]:
        """Planner row estimates (``pg_class.reltuples``) of the tables in the search path."""
        if self._sizes is None:
            res = self.execute(
                "SELECT c.relname, c.reltuples::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = "
                "c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY (current_schemas(false))",
                max_rows=100_000, timeout=10)
            self._sizes = {str(r[0]): int(r[1]) for r in res.rows} if res.ok else {}
        return self._sizes

    def schema(self) -> Schema:
        from sqlalchemy import create_engine

        from kosql.ask.schema import inspect_schema

        engine = create_engine(self._url, poolclass=_null_pool())
        try:
            return inspect_schema(engine)
        except Exception as exc:  # SQLAlchemy wraps the driver's errors
            raise UserError(f"--db: cannot read the schema of {self.url} ({str(exc).splitlines()[0]}).") from None
        finally:
            engine.dispose()

    def unreadable_columns(self) -> set[tuple[str, str]]:
        """(table, column) pairs the role may not SELECT (column GRANTs): left out of the prompt."""
        res = self.execute(_UNREADABLE_SQL, max_rows=1_000_000, timeout=10)
        return {(str(r[0]), str(r[1])) for r in res.rows} if res.ok else set()

    def write_privileges(self) -> list[str]:
        """What the connecting role could change outside kosql's read-only transaction."""
        res = self.execute(_PRIVILEGES_SQL, max_rows=1000, timeout=10)
        if not res.ok:
            return [f"(could not check the role's privileges: {res.error})"]
        return [str(r[0]) for r in res.rows]


_UNREADABLE_SQL = """
SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = ANY (current_schemas(false)) AND c.relkind IN ('r', 'p') AND a.attnum > 0
  AND NOT a.attisdropped AND NOT has_column_privilege(c.oid, a.attnum, 'SELECT')
"""

_PRIVILEGES_SQL = """
SELECT 'superuser' FROM pg_roles WHERE rolname = current_user AND rolsuper
UNION ALL
SELECT 'INSERT/UPDATE/DELETE/TRUNCATE on ' || c.relname FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY (current_schemas(false))
  AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
UNION ALL
SELECT 'CREATE in schema ' || n.nspname FROM pg_namespace n
  WHERE n.nspname = ANY (current_schemas(false)) AND has_schema_privilege(n.oid, 'CREATE')
UNION ALL
SELECT 'EXECUTE on ' || p.oid::regprocedure::text FROM pg_proc p
  WHERE p.proname IN ('dblink_exec', 'dblink', 'dblink_connect', 'dblink_connect_u', 'lo_import')
  AND has_function_privilege(p.oid, 'EXECUTE')
"""


def _null_pool() -> Any:
    from sqlalchemy.pool import NullPool

    return NullPool


def _failure(exc: Exception, timeout: float, seconds: float) -> ExecResult:
    state = getattr(exc, "sqlstate", None) or ""
    message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if state in _TIMEOUT_STATES:
        return ExecResult(ok=False, timeout=True, error=f"query stopped after {timeout:g} s time limit",
                          error_kind="timeout", seconds=seconds)
    kind = _KIND_OF_STATE.get(state, "multiple_statements" if "multiple commands" in message else "runtime")
    return ExecResult(ok=False, error=message, error_kind=kind, seconds=seconds)
