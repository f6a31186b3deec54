"""Does a query compile against a schema? Asked of an empty SQLite copy of the DDL's tables.

``EXPLAIN <sql>`` makes SQLite parse the statement and resolve every table, column and function
without running it, so the answer needs the DDL only (no rows, nothing the model could not see in
its prompt). The check runs the text as the evaluator does (:func:`kosql.db.execute.execute_sql`:
kosql's SQLite functions registered, read-only statements only), so a query it passes fails
evaluation only on its result, a time limit or a runtime error.

Used by schema-checked decoding (:mod:`kosql.models.runner`, ``kosql generate --repair-beams``).
"""

from __future__ import annotations

import sqlite3

from kosql.data.schema import SchemaError, parse_schema, to_sqlite_ddl
from kosql.db.build import empty_database
from kosql.db.execute import FORBIDDEN_KEYWORDS, execute_on_connection, leading_keyword


def _empty_connection(ddl: str) -> sqlite3.Connection | None:
    """The cached empty database of ``ddl`` (None when the DDL cannot be parsed or built)."""
    try:
        return empty_database(to_sqlite_ddl(parse_schema(ddl)))
    except (SchemaError, sqlite3.Error):
        return None


def schema_error(sql: str, ddl: str) -> str | None:
    """None when ``sql`` compiles against the tables of ``ddl``, else SQLite's error (one line).

    DDL that cannot be parsed or built gives None: nothing can be checked, nothing is refused.
    """
    if not sql or not sql.strip():
        return "empty statement"
    lead = leading_keyword(sql)
    if lead in FORBIDDEN_KEYWORDS or lead == "explain":
        return f"{lead.upper()} statements are not allowed"
    conn = _empty_connection(ddl)
    if conn is None:
        return None
    res = execute_on_connection(conn, "EXPLAIN " + sql.strip(), timeout=2.0, max_rows=0)
    if res.ok:
        return None
    return f"{res.error_kind}: {res.error}"
