"""Roles, joins and Korean names for any schema, from its DDL and rows sampled from its database.

:func:`build_view` turns a :class:`kosql.data.schema.Schema` (``parse_schema`` of any DDL, or
``kosql.ask.schema.inspect_schema`` of a live database) plus sampled rows into a
:class:`SchemaView`: a :class:`kosql.data.synth.domains.Domain` whose table and column names are
the SQL spellings (double-quoted where they must be), so the bundled templates
(:mod:`kosql.data.synth.templates`, :mod:`kosql.data.synth.templates_multi`) run on it unchanged,
with values taken from the real rows.

Each column gets a role (:func:`infer_role`): ``pk``, ``fk``, ``label`` (the column that names a
row), ``cat`` (few repeated values), ``text`` (free text), ``num`` (numbers, also numbers stored as
TEXT when text order equals number order), ``date`` (date types and ISO dates stored as TEXT),
``bool``, or ``skip`` (blobs, JSON, empty columns). Joins follow declared foreign keys and inferred
keys (``<table>_id`` / ``<singular>Id`` / a column named like another table's key, whose values
are found among that table's keys). Korean names come from comments, then a glossary
(``names``: ``{"table": "이름", "table.column": "이름"}``), then the identifier itself when it is
Korean, then :func:`kosql.data.synth.naming.korean_name`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from dataclasses import dataclass, field
from typing import Any

from kosql.data.schema import Column as SchemaColumn
from kosql.data.schema import Schema
from kosql.data.schema import Table as SchemaTable
from kosql.data.synth.domains import Column, Domain, Table
from kosql.data.synth.korean import josa
from kosql.data.synth.naming import HANGUL, korean_name, singular, split_words
from kosql.data.synth.values import Rows
from kosql.sql.quote_repair import quote_ident

ROLES: tuple[str, ...] = ("pk", "fk", "label", "cat", "text", "num", "date", "bool", "skip")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_LABEL_WORDS = {"name", "title", "username", "nickname", "nick", "fullname", "label", "player"}
_LABEL_KO = ("이름", "명", "제목", "성명", "닉네임", "선수", "플레이어")
_PERSON_WORDS = {"user", "member", "customer", "client", "player", "employee", "staff", "student",
                 "teacher", "patient", "doctor", "author", "artist", "actor", "person", "people",
                 "driver", "guest", "candidate", "coach", "singer", "athlete", "passenger", "owner"}
_PERSON_KO = ("사용자", "회원", "고객", "선수", "직원", "학생", "교사", "환자", "의사", "저자", "배우",
              "가수", "후보", "감독", "코치", "승객", "손님", "사람", "인물", "플레이어")
_EVENT_WORDS = {"order", "payment", "log", "event", "transaction", "booking", "reservation", "visit",
                "match", "game", "record", "sale", "review", "message", "loan", "shipment"}


@dataclass(frozen=True)
class ColumnHint:
    """What a caller knows about a column beyond its name (the schema generator knows much)."""

    ko: str | None = None
    adn: tuple[str, ...] = ()  # adnominal patterns with {v}: "{v}에서 뛰는", "{v} 출신인"
    qword: str = ""  # question word for this column: 누구, 언제, 어디, 몇
    yes: str = ""
    no: str = ""


@dataclass(frozen=True)
class TableHint:
    ko: str | None = None
    unit: str | None = None


@dataclass
class ColumnInfo:
    table: str
    name: str
    role: str
    ko: str
    textnum: bool = False  # numbers stored as TEXT
    distinct: int = 0
    nulls: int = 0


@dataclass(frozen=True)
class Join:
    child: str
    column: str
    parent: str
    parent_column: str
    declared: bool


@dataclass
class SchemaView:
    """A schema seen by the templates: the Domain (SQL spellings), its rows and what was inferred."""

    schema: Schema
    domain: Domain
    rows: Rows
    info: dict[tuple[str, str], ColumnInfo]
    joins: list[Join]
    raw: dict[str, str] = field(default_factory=dict)  # SQL spelling -> raw name (tables, columns)
    hints: dict[tuple[str, str], ColumnHint] = field(default_factory=dict)  # by SQL spellings


def normalize_value(value: Any) -> Any:
    """A database value as the templates use it: dates as ISO text, decimals as floats."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes | bytearray | memoryview | dict | list):
        return None
    return value


def _norm(name: str) -> str:
    return re.sub(r"[\s_]+", "", name).lower()


def _is_number_text(values: list[Any]) -> bool:
    return bool(values) and all(isinstance(v, str) and _NUMBER.match(v.strip()) for v in values)


def _to_number(text: str) -> int | float:
    return int(text) if re.fullmatch(r"-?\d+", text.strip()) else float(text)


def _label_score(name: str) -> int:
    words = split_words(name)
    if HANGUL.search(name):
        return 2 if name.replace(" ", "").endswith(_LABEL_KO) else 0
    if words and (words[-1] in _LABEL_WORDS or "".join(words) in _LABEL_WORDS):
        return 2 if words[-1] in ("name", "title", "username") else 1
    return 0


def infer_role(table: SchemaTable, col: SchemaColumn, values: list[Any], *, pk: str | None,
               fks: set[str]) -> tuple[str, bool]:
    """``(role, textnum)`` of one column from its type, name, keys and sampled ``values``."""
    if col.name == pk:
        return "pk", False
    if col.name in fks:
        return "fk", False
    present = [v for v in values if v is not None and v != ""]
    if not present or col.kind in ("json", "blob", "time"):
        return "skip", False
    distinct = len(set(present))
    words = split_words(col.name)
    if col.kind == "bool" or isinstance(present[0], bool):
        return "bool", False
    if col.kind in ("int", "real", "decimal") and set(present) <= {0, 1} and (
            (words and words[0] in ("is", "has", "can")) or "여부" in col.name):
        return "bool", False
    if col.kind in ("date", "datetime"):
        return "date", False
    if col.kind in ("int", "real", "decimal"):
        if all(isinstance(v, int | float) for v in present):
            return "num", False
        return ("cat", False) if distinct <= 25 else ("text", False)
    texts = [str(v) for v in present]
    if sum(bool(_ISO_DATE.match(t)) for t in texts) >= 0.9 * len(texts):
        return "date", False
    if _is_number_text(texts):
        widths = {len(t.strip()) for t in texts}
        if len(widths) == 1 and not any(t.strip().startswith("-") for t in texts):
            return "num", True
    if distinct >= 2 and distinct <= 25 and distinct <= 0.6 * len(present):
        return "cat", False
    return "text", False


def _pk_of(table: SchemaTable, rows: list[tuple[Any, ...]]) -> str | None:
    """The single-column primary key: declared, or an ``id``-like column with unique values."""
    if len(table.primary_key) == 1:
        return table.primary_key[0]
    if table.primary_key:
        return None
    tname = _norm(singular(table.name.lower()))
    for i, col in enumerate(table.columns):
        n = _norm(col.name)
        if n in ("id", tname + "id", tname + "no") and col.kind in ("int", "text"):
            vals = [r[i] for r in rows]
            if vals and None not in vals and len(set(vals)) == len(vals):
                return col.name
    return None


def infer_joins(schema: Schema, pks: dict[str, str | None],
                rows: dict[str, list[tuple[Any, ...]]]) -> list[Join]:
    """Declared single-column foreign keys to a primary key, then inferred ones."""
    joins: list[Join] = []
    taken: set[tuple[str, str]] = set()
    for table in schema.tables.values():
        for fk in table.foreign_keys:
            parent = schema.table(fk.ref_table)
            if parent is None or len(fk.columns) != 1:
                continue
            ref = fk.ref_columns[0] if fk.ref_columns else pks.get(parent.name)
            if ref is None or ref != pks.get(parent.name):
                continue
            joins.append(Join(table.name, fk.columns[0], parent.name, ref, True))
            taken.add((table.name, fk.columns[0]))
    for table in schema.tables.values():
        for i, col in enumerate(table.columns):
            if (table.name, col.name) in taken or col.name == pks.get(table.name):
                continue
            parent = _inferred_parent(schema, pks, table, col)
            if parent is None:
                continue
            ref = pks[parent.name] or ""
            if _values_fit(rows, table, i, parent, ref):
                joins.append(Join(table.name, col.name, parent.name, ref, False))
                taken.add((table.name, col.name))
    return joins


def _inferred_parent(schema: Schema, pks: dict[str, str | None], table: SchemaTable,
                     col: SchemaColumn) -> SchemaTable | None:
    n = _norm(col.name)
    if not (n.endswith("id") or n.endswith("no") or n.endswith("code")):
        return None
    for parent in schema.tables.values():
        ref = pks.get(parent.name)
        if parent is table or ref is None:
            continue
        pn = _norm(ref)
        stems = {_norm(singular(parent.name.lower())), _norm(parent.name)}
        if (pn != "id" and n == pn) or (pn == "id" and any(n == s + "id" for s in stems)):
            return parent
    return None


def _values_fit(rows: dict[str, list[tuple[Any, ...]]], child: SchemaTable, idx: int,
                parent: SchemaTable, ref: str) -> bool:
    """Most of the child's sampled key values are among the parent's sampled keys."""
    pidx = parent.column_names().index(ref)
    keys = {r[pidx] for r in rows.get(parent.name, [])}
    vals = [r[idx] for r in rows.get(child.name, []) if r[idx] is not None]
    if not vals or not keys:
        return False
    return sum(v in keys for v in vals) >= 0.8 * len(vals)


def _unit(name: str, ko: str) -> str:
    words = set(split_words(name)) | {singular(w) for w in split_words(name)}
    if words & _PERSON_WORDS or any(k in ko for k in _PERSON_KO):
        return "명"
    if words & _EVENT_WORDS or any(k in ko for k in ("주문", "결제", "기록", "로그", "예약", "경기", "거래")):
        return "건"
    return "개"


def korean_of(names: dict[str, str], table: str, column: str | None, comment: str | None) -> str:
    """Comment, then the glossary (``table.column`` before ``column``), then the name itself."""
    if comment:
        return comment.strip()
    keys = [table] if column is None else [f"{table}.{column}", column]
    for key in keys:
        if key in names:
            return names[key]
    raw = table if column is None else column
    ko = korean_name(raw)
    return singular(ko) if column is None and ko == raw and not HANGUL.search(raw) else ko


def build_view(schema: Schema, rows: dict[str, list[tuple[Any, ...]]], *, names: dict[str, str] | None = None,
               hints: dict[tuple[str, str], ColumnHint] | None = None,
               table_hints: dict[str, TableHint] | None = None, dialect: str | None = None) -> SchemaView:
    """The template view of ``schema`` with ``rows`` (per table, in the schema's column order)."""
    names = names or {}
    hints = hints or {}
    table_hints = table_hints or {}
    rows = {t: [tuple(normalize_value(v) for v in r) for r in rs] for t, rs in rows.items()}
    pks = {t.name: _pk_of(t, rows.get(t.name, [])) for t in schema.tables.values()}
    joins = infer_joins(schema, pks, rows)
    fk_of = {(j.child, j.column): j.parent for j in joins}
    q = {t: quote_ident(t, dialect) for t in schema.tables}
    view = SchemaView(schema=schema, domain=Domain("view", "", ()), rows={}, info={}, joins=joins)
    tables: list[Table] = []
    for table in schema.tables.values():
        made = _view_table(view, table, rows.get(table.name, []), pks[table.name], fk_of, q, names,
                           hints, table_hints.get(table.name, TableHint()), dialect)
        if made is not None:
            tables.append(made)
    view.domain = Domain("view", "", tuple(tables))
    return view


def _view_table(view: SchemaView, table: SchemaTable, rows: list[tuple[Any, ...]], pk: str | None,
                fk_of: dict[tuple[str, str], str], q: dict[str, str], names: dict[str, str],
                hints: dict[tuple[str, str], ColumnHint], thint: TableHint, dialect: str | None) -> Table | None:
    fks = {c for (t, c) in fk_of if t == table.name}
    cols: list[tuple[int, Column]] = []
    label_done = False
    order = sorted(range(len(table.columns)), key=lambda i: (table.columns[i].name != pk,
                                                             -_label_score(table.columns[i].name), i))
    for i in order:
        col = table.columns[i]
        values = [r[i] for r in rows]
        role, textnum = infer_role(table, col, values, pk=pk, fks=fks)
        if role == "skip":
            continue
        if role in ("cat", "text") and not label_done and _label_score(col.name) and _mostly_unique(values):
            role = "label"
        if role == "label":
            label_done = True
        hint = hints.get((table.name, col.name), ColumnHint())
        ko = hint.ko or korean_of(names, table.name, col.name, col.comment)
        sql_name = quote_ident(col.name, dialect)
        view.raw[sql_name] = col.name
        present = [v for v in values if v is not None]
        view.info[(table.name, col.name)] = ColumnInfo(table.name, col.name, role, ko, textnum,
                                                       len(set(present)), len(values) - len(present))
        view.hints[(q[table.name], sql_name)] = hint
        cols.append((i, _view_column(sql_name, role, ko, present, len(values), fk_of.get((table.name, col.name)),
                                     q, hint, dialect)))
    if not any(c.role not in ("pk", "fk") for _, c in cols):
        return None
    ko = thint.ko or korean_of(names, table.name, None, table.comment)
    view.raw[q[table.name]] = table.name
    idx = [i for i, _ in cols]
    view.rows[q[table.name]] = [tuple(_cell(r[i], view.info[(table.name, table.columns[i].name)])
                                      for i in idx) for r in rows]
    return Table(name=q[table.name], ko=ko, unit=thint.unit or _unit(table.name, ko), rows=len(rows),
                 columns=tuple(c for _, c in cols))


def _mostly_unique(values: list[Any]) -> bool:
    present = [v for v in values if v is not None]
    return bool(present) and len(set(present)) >= 0.8 * len(present)


def _cell(value: Any, info: ColumnInfo) -> Any:
    if info.textnum and isinstance(value, str) and _NUMBER.match(value.strip()):
        return _to_number(value)
    return value


_TYPE_OF_ROLE = {"pk": "INT", "fk": "INT", "label": "VARCHAR(50)", "cat": "VARCHAR(30)", "text": "TEXT",
                 "bool": "BOOLEAN"}


def _view_column(sql_name: str, role: str, ko: str, present: list[Any], n: int, parent: str | None,
                 q: dict[str, str], hint: ColumnHint, dialect: str | None) -> Column:
    null = 0.1 if len(present) < n else 0.0
    if role == "num":
        nums = [_to_number(v) if isinstance(v, str) else v for v in present]
        type_ = "INT" if all(isinstance(v, int) for v in nums) else "DECIMAL(10,2)"
    elif role == "date":
        type_ = "DATETIME" if any(len(str(v)) > 10 for v in present) else "DATE"
    else:
        type_ = _TYPE_OF_ROLE[role]
    if role == "bool" and dialect in ("postgres", "postgresql"):  # booleans are not 0/1 there
        role, type_ = "cat", "VARCHAR(10)"
    gen = "cat:x" if role == "cat" else ""
    yes = hint.yes or f"{josa(ko, '이')} 1인"
    no = hint.no or f"{josa(ko, '이')} 0인"
    return Column(name=sql_name, type=type_, ko=ko, gen=gen, null=null, pk=role == "pk",
                  fk=q[parent] if parent else None, label=role == "label",
                  yes=yes if role == "bool" else "", no=no if role == "bool" else "")
