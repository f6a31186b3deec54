"""From raw model text to one SQL statement.

Models wrap SQL in code fences, prefix it with "SQL:", and keep talking after it (the seed's base
model continues with "### SQL 봇:"). :func:`extract_sql` keeps the first statement only:

1. the content of the first code fence, when there is one;
2. leading "### SQL:" / "SQL:" / "SQL 봇:" prefixes removed;
3. the text from the first line that starts with a SQL keyword (else the first ``SELECT``);
4. cut after the first ``;`` outside string literals and quoted identifiers, or before ``###``,
   a code fence or a blank line outside them.

String literals (Korean or not) are kept byte for byte. No SQL found -> ``""``.
"""

from __future__ import annotations

import re

_FENCE_RE = re.compile(r"```(?:[ \t]*[A-Za-z0-9_+-]*[ \t]*\n)?(.*?)(?:```|\Z)", re.DOTALL)
_PREFIX_RE = re.compile(
    r"^\s*(?:#+\s*)?(?:SQL\s*봇|SQL\s*쿼리|SQL|쿼리|Query|Answer|답변|정답)\s*[:：]\s*", re.IGNORECASE
)
_KEYWORDS = (
    "SELECT|WITH|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|REPLACE|UPSERT|MERGE|TRUNCATE|EXPLAIN|"
    "VALUES|SHOW|DESCRIBE|PRAGMA"
)
_LINE_START_RE = re.compile(rf"^[ \t]*(?:\(\s*)?(?:{_KEYWORDS})\b", re.IGNORECASE | re.MULTILINE)
_SELECT_RE = re.compile(r"\bSELECT\b", re.IGNORECASE)
_QUOTES = {"'": "'", '"': '"', "`": "`", "[": "]"}


def _unfence(text: str) -> str:
    """The content of the first code fence, or the text itself when it has none."""
    match = _FENCE_RE.search(text)
    if match is None:
        return text
    return match.group(1)


def _strip_prefixes(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = _PREFIX_RE.sub("", text, count=1)
    return text


def _find_start(text: str) -> int:
    """Offset where the SQL starts, or -1 when the text holds no SQL."""
    match = _LINE_START_RE.search(text)
    if match is not None:
        return match.start()
    match = _SELECT_RE.search(text)
    return match.start() if match is not None else -1


def _first_statement(sql: str) -> str:
    """Cut ``sql`` after its first statement (``;`` outside quotes) or before trailing chatter."""
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in _QUOTES and not (ch == "[" and not _bracket_ident(sql, i)):
            close = _QUOTES[ch]
            j = i + 1
            while j < n:
                if sql[j] == close:
                    if close != "]" and j + 1 < n and sql[j + 1] == close:  # '' escape
                        j += 2
                        continue
                    break
                j += 1
            if j >= n:  # unterminated literal: fall back to cutting at obvious chatter only
                return _cut_chatter(sql)
            i = j + 1
            continue
        if ch == ";":
            return sql[: i + 1]
        if sql.startswith("###", i) or sql.startswith("```", i):
            return sql[:i]
        if ch == "\n" and _blank_line_follows(sql, i):
            return sql[:i]
        if sql.startswith("--", i):  # line comment: skip to the end of the line
            end = sql.find("\n", i)
            i = n if end < 0 else end
            continue
        i += 1
    return sql


def _bracket_ident(sql: str, i: int) -> bool:
    """True when ``[`` at ``i`` opens a T-SQL style quoted identifier (closed on the same line)."""
    end = sql.find("]", i)
    newline = sql.find("\n", i)
    return end > i and (newline < 0 or end < newline)


def _blank_line_follows(sql: str, i: int) -> bool:
    j = i + 1
    while j < len(sql) and sql[j] in " \t\r":
        j += 1
    return j < len(sql) and sql[j] == "\n"


def _cut_chatter(sql: str) -> str:
    cuts = [pos for pos in (sql.find("###"), sql.find("```"), sql.find("\n\n")) if pos >= 0]
    return sql[: min(cuts)] if cuts else sql


def extract_sql(text: str) -> str:
    """The first SQL statement in model output ``text`` (``""`` when there is none)."""
    if not text or not text.strip():
        return ""
    body = _strip_prefixes(_unfence(text))
    start = _find_start(body)
    if start < 0:
        return ""
    return _first_statement(body[start:]).strip()


def stop_index(text: str, stops: tuple[str, ...] | list[str]) -> int | None:
    """Where a generation should be cut (exclusive), or None when no stop string occurs yet.

    ``;`` counts only outside string literals, scanning from where the SQL starts (so an
    apostrophe in chatter before the SQL does not hide the end of the statement) and is kept;
    any other stop string (``###``, blank lines) is cut off wherever it occurs.
    """
    best: int | None = None
    for stop in stops:
        if stop == ";":
            cut = _semicolon_end(text)
        else:
            pos = text.find(stop)
            cut = pos if pos >= 0 else None
        if cut is not None and (best is None or cut < best):
            best = cut
    return best


def _semicolon_end(text: str) -> int | None:
    start = _find_start(text)
    i = max(start, 0)
    quote: str | None = None
    n = len(text)
    while i < n:
        ch = text[i]
        if quote is not None:
            if ch == quote:
                if i + 1 < n and text[i + 1] == quote:
                    i += 2
                    continue
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif ch == ";":
            return i + 1
        i += 1
    return None
