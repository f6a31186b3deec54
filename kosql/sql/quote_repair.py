"""Schema-aware identifier repair: quote the names that need quotes and spell them as the schema does.

A model that has seen ``"출신 학교/팀"`` in the DDL often writes it bare (``WHERE 출신 학교/팀 = 'x'``,
a syntax error), writes a camelCase column in another case (``userid``; PostgreSQL folds a bare
name to lower case, so ``"userId"`` must be quoted there), or uses MySQL backticks.
:func:`repair_identifiers` fixes exactly that, from the SQL text and the schema's names alone:

- a bare run of text that spells a schema name which needs quotes (anything but
  ``[A-Za-z_][A-Za-z0-9_]*``, or an SQL keyword) is wrapped in double quotes; spaces inside such a
  name may be missing or doubled in the SQL (longest name first, never inside string literals or
  already-quoted identifiers);
- a backtick- or bracket-quoted identifier becomes double-quoted; a quoted identifier whose case
  differs from the schema's spelling is respelled;
- a bare simple name that equals a schema name except for case is respelled (and double-quoted for
  PostgreSQL when the schema's spelling has capitals); function calls and SQL keywords are left alone.

Pure: text in, text out (no parsing library, no database), so it also repairs SQL that does not parse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

SIMPLE_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NAME_CLASS = r"A-Za-z0-9_\u3131-\u318e\uac00-\ud7a3$"
_NAME_CHAR = re.compile(f"[{_NAME_CLASS}]")
_WORD = re.compile(f"(?<![{_NAME_CLASS}])[A-Za-z_][A-Za-z0-9_]*(?![{_NAME_CLASS}])")

# words that cannot be a bare identifier in SQLite or PostgreSQL (a small, common subset)
RESERVED: frozenset[str] = frozenset("""
add all alter analyse analyze and any array as asc autoincrement between both by case cast check collate
column commit constraint create cross current_date current_time current_timestamp current_user default
deferrable delete desc distinct do drop else end escape except exists false fetch for foreign from full
grant group having if in index inner insert intersect into is isnull join key lateral leading left like limit
natural not nothing notnull null offset on only or order outer primary raise references returning right
select session_user set some table then to trailing transaction true union unique update user using values
when where window with
""".split())


def needs_quotes(name: str, dialect: str | None = None) -> bool:
    """Whether ``name`` must be double-quoted to be read as itself: it is not a simple ASCII name,
    it is an SQL keyword, or (PostgreSQL) it has capitals, which a bare name would lose."""
    if not SIMPLE_IDENT.match(name) or name.lower() in RESERVED:
        return True
    return dialect in ("postgres", "postgresql") and name != name.lower()


def quote_ident(name: str, dialect: str | None = None) -> str:
    """``name`` as it must be written in SQL: bare when it can be, else in double quotes."""
    if not needs_quotes(name, dialect):
        return name
    return '"' + name.replace('"', '""') + '"'


def _segments(sql: str) -> list[tuple[str, str]]:
    """``(kind, text)`` pieces: 'str' (a '...' literal), 'ident' (a "..", `..` or [..] identifier),
    'comment', or 'code'."""
    out: list[tuple[str, str]] = []
    i, n, start = 0, len(sql), 0
    closers = {"'": "'", '"': '"', "`": "`", "[": "]"}
    while i < n:
        ch = sql[i]
        if ch in closers or sql.startswith("--", i):
            if start < i:
                out.append(("code", sql[start:i]))
            if ch == "-":
                end = sql.find("\n", i)
                end = n if end < 0 else end
                out.append(("comment", sql[i:end]))
                i = start = end
                continue
            close = closers[ch]
            j = i + 1
            while j < n:
                if sql[j] == close:
                    if close != "]" and j + 1 < n and sql[j + 1] == close:
                        j += 2
                        continue
                    break
                j += 1
            out.append(("str" if ch == "'" else "ident", sql[i:j + 1]))
            i = start = j + 1
            continue
        i += 1
    if start < n:
        out.append(("code", sql[start:]))
    return out


def _unquote(token: str) -> str:
    inner = token[1:-1] if len(token) >= 2 else token.strip('"`[]')
    if token.startswith('"'):
        return inner.replace('""', '"')
    if token.startswith("`"):
        return inner.replace("``", "`")
    return inner


class _Names:
    """The schema's names, indexed for the repair."""

    def __init__(self, names: Iterable[str], dialect: str | None) -> None:
        self.dialect = dialect
        spell: dict[str, set[str]] = {}
        for name in names:
            if name:
                spell.setdefault(name.lower(), set()).add(name)
        # lower-case key -> the one schema spelling (None when two spellings collide)
        self.by_lower = {k: (next(iter(v)) if len(v) == 1 else None) for k, v in spell.items()}
        exact = {n for v in spell.values() for n in v}
        quoted = sorted((n for n in exact if needs_quotes(n) and not SIMPLE_IDENT.match(n)),
                        key=len, reverse=True)
        self.pattern = re.compile("|".join(_flexible(n) for n in quoted), re.IGNORECASE) if quoted else None

    def spelling(self, text: str) -> str | None:
        return self.by_lower.get(text.lower())


def _flexible(name: str) -> str:
    """A regex for ``name`` whose inner spaces may be missing or repeated."""
    parts = [re.escape(p) for p in name.split()]
    body = r"\s*".join(parts)
    return body if name.strip() == name else re.escape(name)


def _repair_code(code: str, names: _Names) -> str:
    if names.pattern is not None:
        code = _quote_runs(code, names)
    return _respell_words(code, names)


def _quote_runs(code: str, names: _Names) -> str:
    out: list[str] = []
    pos = 0
    for m in names.pattern.finditer(code) if names.pattern else ():
        before = code[m.start() - 1] if m.start() > 0 else ""
        after = code[m.end()] if m.end() < len(code) else ""
        if (before and _NAME_CHAR.match(before)) or (after and _NAME_CHAR.match(after)):
            continue
        spelled = names.spelling(m.group(0)) or _match_flexible(m.group(0), names)
        if spelled is None:
            continue
        out.append(code[pos:m.start()])
        out.append('"' + spelled.replace('"', '""') + '"')
        pos = m.end()
    out.append(code[pos:])
    return "".join(out)


def _match_flexible(text: str, names: _Names) -> str | None:
    squashed = re.sub(r"\s+", "", text).lower()
    hits = {n for k, n in names.by_lower.items() if n and re.sub(r"\s+", "", k) == squashed}
    return next(iter(hits)) if len(hits) == 1 else None


def _respell_words(code: str, names: _Names) -> str:
    # placeholders from _quote_runs are already double-quoted and are not in ``code`` as words
    pieces = _segments(code)
    out: list[str] = []
    for kind, text in pieces:
        if kind != "code":
            out.append(text)
            continue
        out.append(_WORD.sub(lambda m: _respell(m, names), text))
    return "".join(out)


def _respell(m: re.Match[str], names: _Names) -> str:
    word = m.group(0)
    spelled = names.spelling(word)
    if spelled is None or word.lower() in RESERVED:
        return word
    if not SIMPLE_IDENT.match(spelled):
        return word
    rest = m.string[m.end():].lstrip()
    if rest.startswith("("):  # a function call such as COUNT( or a table-valued call
        return word
    if needs_quotes(spelled, names.dialect):
        return '"' + spelled + '"'
    return spelled


def repair_identifiers(sql: str, tables: Mapping[str, Iterable[str]], *, dialect: str | None = None) -> str:
    """``sql`` with every schema identifier written as the schema spells it, quoted where it must be.

    ``tables`` maps each table name to its column names; ``dialect`` 'postgres' also quotes names
    with capitals (PostgreSQL folds bare names to lower case). Text that names nothing in the schema
    is left as it is; applying the repair twice changes nothing more.
    """
    all_names = list(tables)
    for cols in tables.values():
        all_names.extend(cols)
    names = _Names(all_names, dialect)
    out: list[str] = []
    for kind, text in _segments(sql):
        if kind == "code":
            out.append(_repair_code(text, names))
        elif kind == "ident":
            spelled = names.spelling(_unquote(text))
            if spelled is None and text.startswith("["):  # not a name of the schema: maybe a subscript
                out.append(text)
                continue
            spelled = spelled or _unquote(text)
            out.append('"' + spelled.replace('"', '""') + '"')
        else:
            out.append(text)
    return "".join(out)
