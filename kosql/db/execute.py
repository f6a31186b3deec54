"""Run one read-only SQL query on a SQLite database, with a time limit and a row cap.

Isolation (layered, each layer alone blocks writes):

1. **Leading keyword.** After comments, whitespace and opening parentheses, the statement must start
   with ``SELECT``, ``WITH`` or ``VALUES``; a statement that starts with a write/DDL/control keyword
   (``INSERT UPDATE DELETE DROP CREATE ALTER ATTACH DETACH PRAGMA VACUUM REPLACE ...``) is refused
   as ``forbidden`` without being prepared (``VACUUM INTO`` would otherwise write a new file).
2. **Read-only open.** :func:`execute_sql` opens ``file:<path>?mode=ro`` (URI), so SQLite itself
   refuses to write to the database file.
3. **No attached databases.** ``setlimit(SQLITE_LIMIT_ATTACHED, 0)``: ``ATTACH`` (which would create
   a new file even on a read-only connection) fails.
4. **Authorizer.** ``set_authorizer`` permits only ``SQLITE_SELECT``, ``SQLITE_READ``,
   ``SQLITE_RECURSIVE`` (recursive CTEs) and ``SQLITE_FUNCTION`` for functions in
   :data:`ALLOWED_FUNCTIONS` (plus ``extra_functions`` given by the caller). Everything else
   (writes, DDL, temp tables, PRAGMA, transactions, ``load_extension`` ...) is denied -> ``forbidden``.
5. **One statement.** ``SELECT 1; DROP TABLE t`` is refused (``multiple_statements``) before anything
   runs (Python's sqlite3 only prepares the first statement and refuses a non-empty tail).

Limits:

- **Time:** a progress handler checks a monotonic deadline every few thousand VM instructions and
  interrupts the query, so a cartesian join or a runaway recursive CTE stops within ``timeout`` plus a
  few milliseconds; it is reported as ``timeout`` (``error_kind='timeout'``). The deadline covers
  preparing, running and fetching.
- **Rows:** at most ``max_rows`` rows are fetched (``fetchmany``); ``truncated`` tells whether more
  existed. Strings/blobs are capped at :data:`MAX_LENGTH` bytes (``SQLITE_LIMIT_LENGTH``).

``error_kind`` is one of ``'syntax', 'unknown_table', 'unknown_column', 'runtime', 'timeout',
'forbidden', 'multiple_statements'`` or ``None`` when the query ran.

Read-only connections opened by :func:`execute_sql` are cached per process (keyed by path, inode,
size and mtime, so a rewritten file is reopened); :func:`close_cached_connections` closes them.
:func:`execute_on_connection` applies the same guards to a connection the caller owns (for example
an in-memory test-suite database): it installs the authorizer and the progress handler for the call
and removes them afterwards, so the caller can keep writing to its own connection.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kosql.db.reads import denied_read
from kosql.sql.guard_functions import SQLITE_READ_FUNCTIONS

ERROR_KINDS: tuple[str, ...] = (
    "syntax", "unknown_table", "unknown_column", "runtime", "timeout", "forbidden",
    "multiple_statements",
)
MAX_LENGTH = 10_000_000
_PROGRESS_STEPS = 2000
_CACHE_SIZE = 32

ALLOWED_FUNCTIONS: frozenset[str] = SQLITE_READ_FUNCTIONS  # the functions the authorizer lets a query call

_ALLOWED_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ})
_SQLITE_RECURSIVE = getattr(sqlite3, "SQLITE_RECURSIVE", 33)
FORBIDDEN_KEYWORDS = frozenset(
    "insert update delete drop create alter attach detach pragma vacuum replace reindex analyze "
    "upsert merge truncate grant revoke begin commit rollback savepoint release".split()
)
_COMMENT_RE = re.compile(r"\s+|--[^\n]*(?:\n|$)|/\*.*?(?:\*/|$)", re.S)


@dataclass
class ExecResult:
    """What one query returned (``ok``) or why it failed (``error``, ``error_kind``)."""

    ok: bool
    timeout: bool = False
    error: str | None = None
    error_kind: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    truncated: bool = False
    seconds: float = 0.0


def _fail(kind: str, message: str, seconds: float = 0.0) -> ExecResult:
    return ExecResult(ok=False, timeout=kind == "timeout", error=message, error_kind=kind,
                      seconds=seconds)


def leading_keyword(sql: str) -> str:
    """The first word of ``sql`` after comments, whitespace and '(' (lower case; '' if none)."""
    pos = 0
    n = len(sql)
    while pos < n:
        m = _COMMENT_RE.match(sql, pos)
        if m and m.end() > pos:
            pos = m.end()
            continue
        if sql[pos] == "(":
            pos += 1
            continue
        break
    m2 = re.match(r"[A-Za-z_]+", sql[pos:])
    return m2.group(0).lower() if m2 else ""


def classify_error(message: str) -> str:
    """Map a SQLite error message to an ``error_kind``."""
    low = message.lower()
    if "no such table" in low or "no such view" in low:
        return "unknown_table"
    if "no such column" in low:
        return "unknown_column"
    if ("not authorized" in low or "too many attached" in low or "readonly" in low
            or "is prohibited" in low):
        return "forbidden"
    if "one statement at a time" in low:
        return "multiple_statements"
    if ("syntax error" in low or "incomplete input" in low or "unrecognized token" in low
            or "near \"" in low):
        return "syntax"
    return "runtime"


def _make_authorizer(allowed: frozenset[str],
                     denied_columns: frozenset[tuple[str, str]] = frozenset()) -> Any:
    """``denied_columns``: ``(table, column)`` pairs (lower case; table ``'*'`` = any table) whose
    reading is denied (the whole statement fails with 'not authorized')."""
    def authorizer(action: int, arg1: str | None, arg2: str | None,
                   db_name: str | None, trigger: str | None) -> int:
        if action == sqlite3.SQLITE_READ and denied_columns and arg2 is not None:
            col = arg2.lower()
            if ((arg1 or "").lower(), col) in denied_columns or ("*", col) in denied_columns:
                return sqlite3.SQLITE_DENY
        if action in _ALLOWED_ACTIONS or action == _SQLITE_RECURSIVE:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION and arg2 is not None and arg2.lower() in allowed:
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY

    return authorizer


_DEFAULT_AUTHORIZER = _make_authorizer(ALLOWED_FUNCTIONS)


def execute_on_connection(conn: sqlite3.Connection, sql: str, *, timeout: float = 5.0,
                          max_rows: int = 10000,
                          extra_functions: Iterable[str] = (),
                          denied_columns: Iterable[tuple[str, str]] = ()) -> ExecResult:
    """Run one read-only statement on ``conn`` with the guards and limits of this module.

    The authorizer and progress handler are installed for the call and removed afterwards.
    ``extra_functions`` extends :data:`ALLOWED_FUNCTIONS` (names of functions the caller registered);
    ``denied_columns`` are ``(table, column)`` pairs (table ``'*'``: any table) the statement may not
    read, wherever it reads them (``forbidden``), a join's ``USING``/``NATURAL`` comparison included
    (:func:`kosql.db.reads.denied_read`).
    """
    start = time.monotonic()
    if not sql or not sql.strip():
        return _fail("syntax", "empty statement")
    lead = leading_keyword(sql)
    if lead in FORBIDDEN_KEYWORDS:
        return _fail("forbidden", f"{lead.upper()} statements are not allowed (read-only evaluation)")
    extra = frozenset(f.lower() for f in extra_functions)
    denied = frozenset((t.lower(), c.lower()) for t, c in denied_columns)
    authorizer = (_DEFAULT_AUTHORIZER if not extra and not denied
                  else _make_authorizer(ALLOWED_FUNCTIONS | extra, denied))
    deadline = start + max(0.0, timeout)
    hit = denied_read(conn, sql, denied, authorizer) if denied else None
    if hit is not None:  # a column the authorizer is not told about (JOIN ... USING, NATURAL JOIN)
        return _fail("forbidden", f"access to {hit[0]}.{hit[1]} is prohibited (a join compares it)",
                     time.monotonic() - start)

    def progress() -> int:
        return 1 if time.monotonic() > deadline else 0

    conn.set_authorizer(authorizer)
    conn.set_progress_handler(progress, _PROGRESS_STEPS)
    cursor: sqlite3.Cursor | None = None
    try:
        cursor = conn.execute(sql)
        rows = cursor.fetchmany(max_rows + 1)
        columns = [d[0] for d in cursor.description or []]
    except (sqlite3.Error, sqlite3.Warning) as exc:
        seconds = time.monotonic() - start
        message = str(exc)
        if isinstance(exc, sqlite3.OperationalError) and "interrupted" in message.lower():
            return _fail("timeout", f"query stopped after {timeout:g} s time limit", seconds)
        return _fail(classify_error(message), message, seconds)
    except (MemoryError, OverflowError, ValueError) as exc:
        return _fail("runtime", f"{type(exc).__name__}: {exc}", time.monotonic() - start)
    finally:
        if cursor is not None:
            try:
                cursor.close()
            except sqlite3.Error:
                pass
        conn.set_progress_handler(None, 0)
        conn.set_authorizer(None)
    truncated = len(rows) > max_rows
    if truncated:
        rows = rows[:max_rows]
    return ExecResult(ok=True, columns=columns, rows=[tuple(r) for r in rows], truncated=truncated,
                      seconds=time.monotonic() - start)


_CACHE: OrderedDict[tuple[str, int, int, int], sqlite3.Connection] = OrderedDict()
_CACHE_PID = [os.getpid()]


def open_readonly(db_path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open ``db_path`` read-only (URI ``mode=ro``) with no attachable databases."""
    uri = Path(db_path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_LENGTH)
    return conn


def _cached_connection(db_path: str | os.PathLike[str]) -> sqlite3.Connection:
    if _CACHE_PID[0] != os.getpid():  # forked child: never reuse the parent's connections
        _CACHE.clear()
        _CACHE_PID[0] = os.getpid()
    path = os.path.abspath(os.fspath(db_path))
    st = os.stat(path)
    key = (path, st.st_ino, st.st_size, st.st_mtime_ns)
    conn = _CACHE.get(key)
    if conn is not None:
        _CACHE.move_to_end(key)
        return conn
    conn = open_readonly(path)
    _CACHE[key] = conn
    while len(_CACHE) > _CACHE_SIZE:
        _, old = _CACHE.popitem(last=False)
        old.close()
    return conn


def close_cached_connections() -> None:
    """Close the read-only connections cached by :func:`execute_sql` in this process."""
    if _CACHE_PID[0] == os.getpid():
        for conn in _CACHE.values():
            conn.close()
    _CACHE.clear()


def execute_sql(db_path: str | os.PathLike[str], sql: str, *, timeout: float = 5.0,
                max_rows: int = 10000) -> ExecResult:
    """Run one read-only statement on the SQLite file ``db_path`` (see the module docstring)."""
    try:
        conn = _cached_connection(db_path)
    except FileNotFoundError:
        return _fail("runtime", f"database file not found: {db_path}")
    except (sqlite3.Error, OSError) as exc:
        return _fail("runtime", f"cannot open database {db_path}: {exc}")
    return execute_on_connection(conn, sql, timeout=timeout, max_rows=max_rows)
