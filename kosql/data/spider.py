"""Import the Spider format (``tables.json`` + a questions file such as ``dev.json``) as Examples.

Each database in ``tables.json`` becomes DDL with one ``CREATE TABLE`` per table, the original
table/column names, types mapped from Spider's (``text``, ``number``, ``time``, ``boolean``,
``others``), inline ``PRIMARY KEY`` (or a table-level one for composite keys) and ``FOREIGN KEY``
clauses. Questions keep their ``db_id``; the gold SQL comes from ``query`` (Spider) or ``SQL``
(BIRD). ``db_path`` is set to ``DB_DIR/<db_id>/<db_id>.sqlite`` when that file exists. Spider's
token lists and parsed ``sql`` tree are dropped; other fields (``evidence``, ``difficulty``) stay.
When the SQLite file exists, its declared column types replace Spider's coarse ones.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kosql.data.rows import Example
from kosql.data.schema import parse_schema
from kosql.errors import UserError

SPIDER_TYPES: dict[str, str] = {
    "text": "TEXT", "number": "NUMERIC", "time": "DATETIME", "boolean": "BOOLEAN", "others": "TEXT",
    "integer": "INTEGER", "real": "REAL", "date": "DATE", "datetime": "DATETIME",
}
DROPPED_FIELDS = frozenset({"query_toks", "query_toks_no_value", "question_toks", "sql", "query",
                            "SQL", "question", "db_id"})
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = frozenset("""
add all alter and as asc between by case check collate column constraint create cross current
current_date current_time current_timestamp default delete desc distinct drop else end escape
except exists foreign from full group having in index inner insert intersect into is join key
left like limit match natural not null of on or order outer primary references right select set
table then to union unique update using values when where window with
""".split())


@dataclass
class SpiderTable:
    name: str
    columns: list[tuple[str, str]] = field(default_factory=list)  # (name, SQL type)
    primary_key: list[str] = field(default_factory=list)
    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)  # (col, ref table, ref col)


def quote_ident(name: str) -> str:
    """``name`` as is when it is a plain identifier, else double-quoted."""
    if _IDENT_RE.match(name) and name.lower() not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def _load_json(path: Path, what: str) -> Any:
    if not path.exists():
        raise UserError(f"{path}: no such file ({what}).")
    data = path.read_bytes()
    if not data.strip():
        raise UserError(f"{path}: the file is empty.")
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise UserError(f"{path}: is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: is not valid JSON ({exc.msg} on line {exc.lineno}).") from None


def parse_spider_tables(entry: dict[str, Any], where: str = "tables.json") -> list[SpiderTable]:
    """The tables of one ``tables.json`` entry."""
    db_id = entry.get("db_id", "?")
    try:
        names = entry.get("table_names_original") or entry["table_names"]
        cols = entry.get("column_names_original") or entry["column_names"]
        types = entry.get("column_types") or ["text"] * len(cols)
    except (KeyError, TypeError):
        raise UserError(f"{where}: database {db_id!r} lacks table_names/column_names.") from None
    tables = [SpiderTable(str(n)) for n in names]
    index: dict[int, tuple[int, str]] = {}
    for i, pair in enumerate(cols):
        t_idx, c_name = int(pair[0]), str(pair[1])
        if t_idx < 0:  # Spider's column 0 is "*"
            continue
        if t_idx >= len(tables):
            raise UserError(f"{where}: database {db_id!r} column {c_name!r} points at missing table {t_idx}.")
        ctype = SPIDER_TYPES.get(str(types[i]).lower() if i < len(types) else "text", "TEXT")
        tables[t_idx].columns.append((c_name, ctype))
        index[i] = (t_idx, c_name)
    for pk in entry.get("primary_keys") or []:
        for c in pk if isinstance(pk, list) else [pk]:
            if int(c) in index:
                t_idx, c_name = index[int(c)]
                tables[t_idx].primary_key.append(c_name)
    for fk in entry.get("foreign_keys") or []:
        src, dst = int(fk[0]), int(fk[1])
        if src in index and dst in index:
            t_idx, c_name = index[src]
            r_idx, r_name = index[dst]
            tables[t_idx].foreign_keys.append((c_name, tables[r_idx].name, r_name))
    return tables


def sqlite_types(db_file: str | Path) -> dict[tuple[str, str], str]:
    """``(table, column) -> declared type`` (lower-case names) of a SQLite file; {} if unreadable."""
    out: dict[tuple[str, str], str] = {}
    try:
        con = sqlite3.connect(f"file:{Path(db_file).resolve()}?mode=ro", uri=True)
    except sqlite3.Error:
        return out
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in names:
            for row in con.execute(f"PRAGMA table_info({quote_ident(table)})"):
                if row[2]:
                    out[(table.lower(), str(row[1]).lower())] = str(row[2]).upper()
    except sqlite3.Error:
        return {}
    finally:
        con.close()
    return out


def _apply_types(tables: list[SpiderTable], types: dict[tuple[str, str], str]) -> None:
    for t in tables:
        t.columns = [(c, types.get((t.name.lower(), c.lower()), ctype)) for c, ctype in t.columns]


def spider_ddl(tables: list[SpiderTable]) -> str:
    """CREATE TABLE statements (separated by a blank line) for Spider tables."""
    statements = []
    for t in tables:
        single_pk = t.primary_key[0] if len(t.primary_key) == 1 else None
        lines = []
        for c_name, ctype in t.columns:
            suffix = " PRIMARY KEY" if c_name == single_pk else ""
            lines.append(f"  {quote_ident(c_name)} {ctype}{suffix}")
        if len(t.primary_key) > 1:
            lines.append(f"  PRIMARY KEY ({', '.join(quote_ident(c) for c in t.primary_key)})")
        for col, ref_t, ref_c in t.foreign_keys:
            lines.append(f"  FOREIGN KEY ({quote_ident(col)}) REFERENCES {quote_ident(ref_t)} ({quote_ident(ref_c)})")
        statements.append(f"CREATE TABLE {quote_ident(t.name)} (\n" + ",\n".join(lines) + "\n);")
    return "\n\n".join(statements)


def load_spider_ddl(tables_path: str | Path, db_dir: str | Path | None = None) -> dict[str, str]:
    """``db_id -> DDL`` for every database of a ``tables.json`` (SQLite types from ``db_dir``)."""
    path = Path(tables_path)
    data = _load_json(path, "Spider tables.json")
    if not isinstance(data, list) or not all(isinstance(e, dict) and "db_id" in e for e in data):
        raise UserError(f"{path}: a Spider tables.json must be a list of objects with a db_id.")
    out: dict[str, str] = {}
    for entry in data:
        db_id = str(entry["db_id"])
        tables = parse_spider_tables(entry, str(path))
        out[db_id] = spider_ddl(tables)
        db_file = spider_db_file(db_dir, db_id)
        if db_file is not None:
            _apply_types(tables, sqlite_types(db_file))
            typed = spider_ddl(tables)
            try:  # odd declared types must not make the DDL unparsable
                parse_schema(typed)
                out[db_id] = typed
            except UserError:
                pass
    return out


def spider_db_file(db_dir: str | Path | None, db_id: str) -> Path | None:
    """``db_dir/<db_id>/<db_id>.sqlite`` when it exists."""
    if db_dir is None:
        return None
    db_file = Path(db_dir) / db_id / f"{db_id}.sqlite"
    return db_file if db_file.is_file() else None


def import_spider(
    tables_path: str | Path,
    questions_path: str | Path,
    db_dir: str | Path | None = None,
    *,
    id_prefix: str | None = None,
) -> list[Example]:
    """Spider questions as Examples (DDL from tables.json, ``db_path`` when the file exists)."""
    ddl = load_spider_ddl(tables_path, db_dir)
    qpath = Path(questions_path)
    items = _load_json(qpath, "Spider questions file")
    if not isinstance(items, list) or not items:
        raise UserError(f"{qpath}: a Spider questions file must be a non-empty list of objects.")
    prefix = id_prefix if id_prefix is not None else qpath.stem
    out: list[Example] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise UserError(f"{qpath}: item {i} is not a JSON object.")
        db_id = str(item.get("db_id", ""))
        if db_id not in ddl:
            raise UserError(f"{qpath}: question {i} uses db_id {db_id!r}, which {tables_path} does not define.")
        answer = item.get("query", item.get("SQL"))
        if answer is None or item.get("question") is None:
            raise UserError(f"{qpath}: question {i} lacks a 'question' or 'query' field.")
        extra = {k: v for k, v in item.items() if k not in DROPPED_FIELDS}
        db_file = spider_db_file(db_dir, db_id)
        if db_file is not None:
            extra["db_path"] = str(db_file.resolve())
        out.append(Example(id=f"{prefix}-{i}", db_id=db_id, context=ddl[db_id],
                           question=str(item["question"]), answer=str(answer).strip(), extra=extra))
    return out
