"""Synthesize small SQLite databases from a schema alone (for test-suite accuracy).

``build_database(schema, seed=..)`` = :func:`generate_rows` (typed random rows: ints, reals, Korean
and English text, dates and datetimes across several years, bools, enum values; primary and unique
keys respected; foreign keys drawn from the parent's keys, parents filled first; some NULLs in
nullable columns) -> :func:`plant_literals` (the gold query's literals written into a few rows so
its WHERE clause hits; see :mod:`kosql.db.literals`) -> :func:`materialize` (an in-memory SQLite
connection with the compatibility functions registered). Each step is a pure function of its
inputs and the seed, so callers can cache the expensive first step per schema.
"""

from __future__ import annotations

import os
import random
import sqlite3
from datetime import date, datetime, timedelta
from typing import Any

from kosql.data.schema import Column, Schema, Table, quote_ident, to_sqlite_ddl
from kosql.db.functions import register_sqlite_functions
from kosql.db.literals import Literals, extract_literals, required_rows
from kosql.db.plant import Rows, make_unique, plant_literals

__all__ = ["build_database", "generate_rows", "plant_literals", "materialize", "extract_literals",
           "rows_for_seed", "Rows"]


ROW_COUNTS: tuple[int, ...] = (12, 20, 6, 30, 9, 4, 16, 25)
_KO_NAMES = ("김민수", "이서연", "박지훈", "최유진", "정하늘", "강도윤", "조수아", "윤지호", "장서준", "임하은",
             "한지민", "오세훈")
_KO_CITIES = ("서울", "부산", "대구", "인천", "광주", "대전", "울산", "수원", "제주")
_KO_WORDS = ("사과", "노트북", "커피", "책상", "가방", "운동화", "모니터", "키보드", "우유", "자전거", "게임", "음악")
_EN_WORDS = ("alpha", "bravo", "archer", "delta", "echo", "nova", "orbit", "pixel", "river", "stone",
             "tiger", "maple")
_DOMAINS = ("gmail.com", "naver.com", "daum.net", "example.com", "kakao.com")
_CATEGORIES = ("active", "inactive", "pending", "완료", "대기")
_TODAY = date.today()
_START = date(2019, 1, 1)


def rows_for_seed(seed: int) -> int:
    return ROW_COUNTS[seed % len(ROW_COUNTS)]


def _table_order(schema: Schema) -> list[Table]:
    """Tables with parents before children (cycles and self references broken)."""
    order: list[Table] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(table: Table) -> None:
        if table.name in done or table.name in visiting:
            return
        visiting.add(table.name)
        for fk in table.foreign_keys:
            parent = schema.table(fk.ref_table)
            if parent is not None and parent.name != table.name:
                visit(parent)
        visiting.discard(table.name)
        done.add(table.name)
        order.append(table)

    for table in schema.tables.values():
        visit(table)
    return order


def _random_date(rng: random.Random) -> date:
    if rng.random() < 0.25:
        return _TODAY - timedelta(days=rng.randint(0, 60))
    return _START + timedelta(days=rng.randint(0, (_TODAY - _START).days + 30))


def _text_value(col: Column, rng: random.Random, i: int, pool_size: int) -> str:
    name = col.name.lower()
    k = rng.randrange(pool_size)
    if "email" in name or "mail" in name:
        return f"{_EN_WORDS[k % len(_EN_WORDS)]}{k}@{_DOMAINS[k % len(_DOMAINS)]}"
    if "phone" in name or "tel" in name:
        return f"010-{1000 + k * 37 % 9000:04d}-{2000 + k * 91 % 8000:04d}"
    if "url" in name or "link" in name or "website" in name:
        return f"https://{_EN_WORDS[k % len(_EN_WORDS)]}.com/{k}"
    if any(h in name for h in ("password", "hash", "token", "secret")):
        return f"{(k * 2654435761) % (16 ** 10):010x}"
    if any(h in name for h in ("city", "address", "location", "country", "region", "addr")):
        return _KO_CITIES[k % len(_KO_CITIES)] + ("" if k < len(_KO_CITIES) else f" {k}")
    if any(h in name for h in ("status", "state", "type", "category", "role", "level", "gender", "grade")):
        return _CATEGORIES[k % len(_CATEGORIES)]
    if "name" in name or "user" in name or "author" in name or "title" in name:
        pool = _KO_NAMES if ("name" in name and "user" not in name) else _EN_WORDS
        base = pool[k % len(pool)]
        return base if k < len(pool) else f"{base}{k}"
    pool = _KO_WORDS if k % 2 else _EN_WORDS
    base = pool[k % len(pool)]
    return base if k < len(pool) else f"{base} {k}"


def _value(col: Column, rng: random.Random, i: int, n: int) -> Any:
    pool = max(2, n // 2)
    kind = col.kind
    if col.enum_values:
        return rng.choice(col.enum_values)
    if kind == "int":
        name = col.name.lower()
        if "age" == name or name.endswith("_age"):
            return rng.randint(15, 80)
        if "year" in name:
            return rng.randint(2015, _TODAY.year)
        return rng.randrange(pool) * rng.choice((1, 3, 7, 13)) + rng.randint(0, 2)
    if kind in ("real", "decimal"):
        scale = 5.0 if any(h in col.name.lower() for h in ("rating", "score", "rate")) else 1000.0
        return round(rng.randrange(pool) * scale / pool + rng.random(), 2)
    if kind == "bool":
        return rng.randint(0, 1)
    if kind == "date":
        return _random_date(rng).isoformat()
    if kind == "datetime":
        d = _random_date(rng)
        return datetime(d.year, d.month, d.day, rng.randint(0, 23), rng.randint(0, 59),
                        rng.randint(0, 59)).strftime("%Y-%m-%d %H:%M:%S")
    if kind == "time":
        return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    if kind == "json":
        return f'{{"id": {i}, "tag": "{rng.choice(_EN_WORDS)}"}}'
    if kind == "blob":
        return bytes([rng.randrange(256) for _ in range(4)])
    return _text_value(col, rng, i, pool)


def generate_rows(schema: Schema, *, seed: int, n_rows: int | None = None,
                  null_rate: float | None = None) -> Rows:
    """Random typed rows for every table (column order as in the schema), deterministic in seed."""
    n = n_rows if n_rows is not None else rows_for_seed(seed)
    nulls = null_rate if null_rate is not None else (0.0 if seed % 4 == 0 else 0.15)
    out: Rows = {}
    for table in _table_order(schema):
        rng = random.Random(f"{seed}:{table.name}")
        cols = table.columns
        fk_source: dict[int, list[Any]] = {}
        for fk in table.foreign_keys:
            parent = schema.table(fk.ref_table)
            for pos, cname in enumerate(fk.columns):
                idx = next((j for j, c in enumerate(cols) if c.name.lower() == cname.lower()), None)
                if idx is None:
                    continue
                values: list[Any] = []
                if parent is not None and parent.name in out:
                    ref_cols = fk.ref_columns or parent.primary_key
                    ref_name = ref_cols[pos] if pos < len(ref_cols) else None
                    pidx = next((j for j, c in enumerate(parent.columns)
                                 if ref_name and c.name.lower() == ref_name.lower()), None)
                    if pidx is not None:
                        values = [r[pidx] for r in out[parent.name] if r[pidx] is not None]
                fk_source[idx] = values or list(range(1, max(n, 2) + 1))
        single_pk = [c.name for c in cols if c.primary_key] if len(table.primary_key) <= 1 else []
        unique_idx = [j for j, c in enumerate(cols) if c.unique or c.name in single_pk]
        used: dict[int, set[Any]] = {j: set() for j in unique_idx}
        pk_idx = [j for j, c in enumerate(cols) if c.name in table.primary_key]
        seen_pk: set[tuple[Any, ...]] = set()
        rows: list[list[Any]] = []
        for i in range(n):
            row: list[Any] = []
            for j, col in enumerate(cols):
                if col.primary_key and col.kind == "int" and len(table.primary_key) == 1 and j not in fk_source:
                    value: Any = i + 1
                elif j in fk_source:
                    value = rng.choice(fk_source[j])
                else:
                    value = _value(col, rng, i, n)
                if (col.nullable and not col.primary_key and j not in unique_idx and nulls
                        and rng.random() < nulls):
                    value = None
                if j in used and value is not None:
                    value = make_unique(value, used[j], col, i)
                    used[j].add(value)
                row.append(value)
            if len(pk_idx) > 1:
                key = tuple(row[j] for j in pk_idx)
                if key in seen_pk:
                    continue
                seen_pk.add(key)
            rows.append(row)
        out[table.name] = rows
    return out


_TEMPLATES: dict[str, sqlite3.Connection] = {}
_TEMPLATES_MAX = 64
_TEMPLATES_PID = [os.getpid()]


def empty_database(ddl: str) -> sqlite3.Connection:
    """A cached in-memory database holding only the tables of the SQLite ``ddl``, kosql's SQLite
    functions registered (copied with ``backup``, which does not carry the functions; also what
    :func:`kosql.db.check.schema_error` compiles queries against)."""
    if _TEMPLATES_PID[0] != os.getpid():  # forked child: never share the parent's connections
        _TEMPLATES.clear()
        _TEMPLATES_PID[0] = os.getpid()
    conn = _TEMPLATES.get(ddl)
    if conn is None:
        if len(_TEMPLATES) >= _TEMPLATES_MAX:
            _TEMPLATES.pop(next(iter(_TEMPLATES))).close()
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        conn.executescript(ddl)
        register_sqlite_functions(conn)
        _TEMPLATES[ddl] = conn
    return conn


def materialize(schema: Schema, rows: Rows) -> sqlite3.Connection:
    """An in-memory SQLite database with ``schema`` and ``rows`` (functions registered)."""
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    empty_database(to_sqlite_ddl(schema)).backup(conn)  # 8x faster than running the DDL again
    register_sqlite_functions(conn)
    for table in schema.tables.values():
        data = rows.get(table.name) or []
        if not data:
            continue
        marks = ", ".join("?" for _ in table.columns)
        sql = f"INSERT OR IGNORE INTO {quote_ident(table.name)} VALUES ({marks})"
        conn.executemany(sql, data)
    conn.commit()
    return conn


def build_database(schema: Schema, *, seed: int, n_rows: int | None = None,
                   literals: Literals | None = None) -> sqlite3.Connection:
    """A seeded in-memory SQLite database for ``schema`` with ``literals`` planted in some rows."""
    if n_rows is None and literals and required_rows(literals) + 2 > rows_for_seed(seed):
        n_rows = required_rows(literals) + 2
    base = generate_rows(schema, seed=seed, n_rows=n_rows)
    return materialize(schema, plant_literals(schema, base, literals, seed=seed))
