"""SQLite access for evaluation: guarded read-only execution (see :mod:`kosql.db.execute`)."""

from kosql.db.execute import ExecResult, execute_on_connection, execute_sql

__all__ = ["ExecResult", "execute_on_connection", "execute_sql"]
