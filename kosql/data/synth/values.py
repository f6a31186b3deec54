"""Deterministic row filling for a domain from the value pools.

Generator specs (``Column.gen``): ``person``, ``person_en``, ``username``, ``email``, ``phone``,
``city``/``country``/``district``/``nationality``/``gender``/``carrier``, ``cat:a|b|c``,
``pool:NAME`` (``upool:NAME`` draws without repetition first), ``int:LO:HI[:STEP]``,
``dec:LO:HI[:STEP]``, ``date:Y1:Y2``, ``datetime:Y1:Y2``, ``after:COL:D1:D2`` (a date D1-D2 days
after column COL of the same row), ``bool:P``, ``code:PREFIX:DIGITS``.
Foreign keys reference the parent's first 85 % of ids, so some parents have no children.
"""

from __future__ import annotations

import datetime as dt
import random
from itertools import product
from typing import Any

from kosql.data.synth import pools as P
from kosql.data.synth.domains import Column, Domain, Table

Rows = dict[str, list[tuple[Any, ...]]]


def _combo(a: tuple[str, ...], b: tuple[str, ...], sep: str = " ") -> tuple[str, ...]:
    return tuple(f"{x}{sep}{y}" for x, y in product(a, b))


POOLS: dict[str, tuple[str, ...]] = {
    "product": _combo(P.PRODUCT_A, P.PRODUCT_B),
    "item": _combo(P.ITEM_A, P.ITEM_B),
    "hero": P.HERO_NAMES,
    "department": P.DEPARTMENTS,
    "project": _combo(P.PROJECT_A, P.PROJECT_B),
    "medicine": P.MEDICINES,
    "course": _combo(P.COURSE_A, P.COURSE_B),
    "subject": P.SUBJECTS,
    "book": _combo(P.BOOK_A, P.BOOK_B),
    "book_genre": P.GENRES_BOOK,
    "restaurant": _combo(P.RESTAURANT_A, P.RESTAURANT_B, ""),
    "dish": P.DISHES,
    "room_title": P.ROOM_TITLES,
    "message": P.MESSAGES,
    "hotel": _combo(P.HOTEL_A, P.HOTEL_B),
    "agency": P.AGENCIES,
    "warehouse": _combo(P.WAREHOUSE_A, P.WAREHOUSE_B),
    "movie": P.MOVIE_A,
    "movie_genre": P.GENRES_MOVIE,
    "theater": _combo(P.THEATER_A, P.CITIES),
    "airline": P.AIRLINES,
    "program": P.GYM_PROGRAMS,
}
CATEGORICAL: dict[str, tuple[str, ...]] = {
    "city": P.CITIES, "country": P.COUNTRIES, "district": P.DISTRICTS,
    "nationality": P.NATIONALITIES, "gender": P.GENDERS, "carrier": P.CARRIERS,
}


def _weighted_choice(rng: random.Random, options: tuple[str, ...]) -> str:
    """Skewed pick (earlier options more frequent) so group sizes differ."""
    weights = [1.0 / (i + 1) ** 0.6 for i in range(len(options))]
    return rng.choices(options, weights=weights, k=1)[0]


def _date(rng: random.Random, y1: int, y2: int) -> dt.date:
    start = dt.date(y1, 1, 1).toordinal()
    end = dt.date(y2, 12, 31).toordinal()
    return dt.date.fromordinal(rng.randint(start, end))


def _fmt_date(day: dt.date, base_type: str, rng: random.Random) -> str:
    if base_type == "DATETIME":
        return f"{day.isoformat()} {rng.randint(0, 23):02d}:{rng.choice((0, 10, 15, 20, 30, 40, 45, 50)):02d}:00"
    return day.isoformat()


class _Filler:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.unique_left: dict[str, list[str]] = {}
        self.codes: set[str] = set()

    def value(self, col: Column, row: dict[str, Any]) -> Any:
        rng = self.rng
        kind, _, arg = col.gen.partition(":")
        base = col.base_type
        if kind == "person":
            return rng.choice(P.SURNAMES) + rng.choice(P.GIVEN)
        if kind == "person_en":
            return f"{rng.choice(P.EN_FIRST)} {rng.choice(P.EN_LAST)}"
        if kind == "username":
            return f"{rng.choice(P.HANDLE_A)}_{rng.choice(P.HANDLE_B)}{rng.choice(('', '', str(rng.randint(1, 99))))}"
        if kind == "email":
            handle = f"{rng.choice(P.HANDLE_B)}{rng.randint(1, 999)}"
            return f"{handle}@{_weighted_choice(rng, P.EMAIL_DOMAINS)}"
        if kind == "phone":
            return f"010-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
        if kind in CATEGORICAL:
            return _weighted_choice(rng, CATEGORICAL[kind])
        if kind == "cat":
            return _weighted_choice(rng, tuple(arg.split("|")))
        if kind == "pool":
            return rng.choice(POOLS[arg])
        if kind == "upool":
            left = self.unique_left.get(arg)
            if not left:
                left = list(POOLS[arg])
                rng.shuffle(left)
                self.unique_left[arg] = left
            return left.pop()
        if kind in ("int", "dec"):
            parts = [float(x) for x in arg.split(":")]
            lo, hi = parts[0], parts[1]
            step = parts[2] if len(parts) > 2 else (1.0 if kind == "int" else 0.01)
            n = rng.randint(0, int(round((hi - lo) / step)))
            val = lo + n * step
            return int(round(val)) if kind == "int" else round(val, 2)
        if kind in ("date", "datetime"):
            y1, y2 = (int(x) for x in arg.split(":"))
            return _fmt_date(_date(rng, y1, y2), base, rng)
        if kind == "after":
            src, d1, d2 = arg.split(":")
            start = dt.date.fromisoformat(str(row[src])[:10])
            return _fmt_date(start + dt.timedelta(days=rng.randint(int(d1), int(d2))), base, rng)
        if kind == "bool":
            return 1 if rng.random() < float(arg or 0.5) else 0
        if kind == "code":
            prefix, digits = arg.split(":")
            while True:
                code = f"{prefix}{rng.randint(0, 10 ** int(digits) - 1):0{digits}d}"
                if code not in self.codes:
                    self.codes.add(code)
                    return code
        raise ValueError(f"unknown generator {col.gen!r} for column {col.name}")


def fill_table(table: Table, domain: Domain, filler: _Filler, filled: Rows) -> list[tuple[Any, ...]]:
    rng = filler.rng
    out = []
    for i in range(1, table.rows + 1):
        row: dict[str, Any] = {}
        for col in table.columns:
            if col.pk:
                row[col.name] = i
            elif col.fk:
                parent = domain.table(col.fk)
                n_parent = len(filled[parent.name])
                row[col.name] = rng.randint(1, max(1, int(n_parent * 0.85)))
            else:
                value = filler.value(col, row)
                row[col.name] = None if col.nullable and rng.random() < col.null else value
        out.append(tuple(row[col.name] for col in table.columns))
    return out


def fill_domain(domain: Domain, seed: int) -> Rows:
    """All rows of all tables of ``domain``, in table order (parents are listed before children)."""
    filler = _Filler(random.Random(f"kosql-synth-values:{seed}:{domain.db_id}"))
    filled: Rows = {}
    for table in domain.tables:
        filled[table.name] = fill_table(table, domain, filler, filled)
    return filled
