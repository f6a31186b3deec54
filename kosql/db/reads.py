"""Which stored columns a SQLite statement touches, read from its compiled program (``EXPLAIN``).

SQLite's authorizer reports a ``SQLITE_READ`` for every column a statement names, but not for the
columns a ``JOIN ... USING (col)`` or a ``NATURAL JOIN`` compares: SQLite builds those comparisons
itself. :func:`denied_read` closes that gap for :func:`kosql.db.execute.execute_on_connection`: it
compiles ``EXPLAIN <sql>`` (nothing runs) and looks at what the program does with each table and
index cursor (``OpenRead``): a ``Column`` read, a key comparison on an index (``SeekGE`` ...,
``IdxGT`` ..., ``Found``: the first ``p4`` key columns), a rowid read or seek (the ``INTEGER
PRIMARY KEY`` column). Counting rows over an index (``SELECT count(*)``) touches no column.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable

_OPENS = frozenset({"OpenRead", "ReopenIdx"})
_KEY_COMPARES = frozenset({"SeekGE", "SeekGT", "SeekLE", "SeekLT", "IdxGE", "IdxGT", "IdxLE", "IdxLT",
                           "Found", "NotFound", "NoConflict", "SeekScan"})
_ROWID_READS = frozenset({"Rowid", "IdxRowid", "SeekRowid", "NotExists"})
_WITHOUT_ROWID = re.compile(r"\bwithout\s+rowid\b", re.IGNORECASE)

Layout = tuple[str, list[str], str | None]  # (table, stored columns in cursor order, rowid column)


def denied_read(conn: sqlite3.Connection, sql: str, denied: Iterable[tuple[str, str]],
                authorizer: Callable[[int, str | None, str | None, str | None, str | None], int]
                ) -> tuple[str, str] | None:
    """The first ``(table, column)`` of ``denied`` (lower case; table ``'*'`` = any) that ``sql``'s
    program touches, or None (also when ``sql`` does not compile: running it reports why). ``sql``
    is compiled under ``authorizer`` (the one it will run under), which is removed afterwards."""
    wanted = frozenset(denied)
    conn.set_authorizer(authorizer)
    try:
        program = conn.execute("EXPLAIN " + sql).fetchall()
    except (sqlite3.Error, sqlite3.Warning, ValueError):
        return None
    finally:
        conn.set_authorizer(None)
    cursors = {int(r[2]): int(r[3]) for r in program if r[1] in _OPENS and r[4] == 0}
    if not cursors:
        return None
    layouts = _layouts(conn, set(cursors.values()))
    for row in program:
        op, p1, p2, p4 = row[1], row[2], row[3], row[5]
        layout = layouts.get(cursors.get(p1, -1))
        if layout is None:
            continue
        table, columns, rowid = layout
        if op == "Column":
            touched = columns[p2:p2 + 1]
        elif op in _KEY_COMPARES:
            fields = int(p4) if isinstance(p4, int | str) and str(p4).isdigit() and int(p4) else len(columns)
            touched = columns[:fields]
        elif op in _ROWID_READS:
            touched = [rowid] if rowid else []
        else:
            continue
        for column in touched:
            if (table.lower(), column.lower()) in wanted or ("*", column.lower()) in wanted:
                return table, column
    return None


def _layouts(conn: sqlite3.Connection, roots: set[int]) -> dict[int, Layout]:
    """Root page -> the layout of the table or index stored there (main database only)."""
    out: dict[int, Layout] = {}
    objects = conn.execute("SELECT type, name, tbl_name, rootpage, sql FROM main.sqlite_schema "
                           "WHERE type IN ('table', 'index')").fetchall()
    for kind, name, table, root, ddl in objects:
        if root not in roots:
            continue
        info = conn.execute("SELECT cid, name, type, pk FROM pragma_table_xinfo(?)", (table,)).fetchall()
        with_rowid = not _WITHOUT_ROWID.search(ddl if kind == "table" else _table_sql(objects, table))
        keys = [n for _, n, t, pk in info if pk]
        rowid = keys[0] if with_rowid and len(keys) == 1 and any(
            pk and str(t).upper() == "INTEGER" for _, _, t, pk in info) else None
        if kind == "table" and with_rowid:
            out[root] = (table, [n for _, n, _, _ in sorted(info)], rowid)
        else:  # an index, or a WITHOUT ROWID table (stored as the index of its primary key)
            index = conn.execute("SELECT name, cid FROM pragma_index_xinfo(?)", (name,)).fetchall()
            out[root] = (table, [n if n is not None else (rowid or "") if cid == -1 else ""
                                 for n, cid in index], rowid)
    return out


def _table_sql(objects: list[tuple[str, str, str, int, str | None]], table: str) -> str:
    return next((ddl or "" for kind, name, _, _, ddl in objects if kind == "table" and name == table), "")
