"""Write the gold query's literals into synthesized rows (see :mod:`kosql.db.build`).

:func:`plant_literals` copies the rows and, per table, gives a first group of rows every literal
column at once (``a = 'x' AND b = 'y'`` hits), then one row per column on its own (a query that
forgets a condition differs); ``Repeat`` markers make ``count`` rows share a value (and ``count - 1``
others share another) for ``HAVING COUNT(*) >= count``; child rows are then pointed at the parents'
planted rows so joins keep them.
"""

from __future__ import annotations

import random
from typing import Any

from kosql.data.schema import Column, Schema, Table
from kosql.db.literals import Literals, Repeat

Rows = dict[str, list[list[Any]]]


def make_unique(value: Any, used: set[Any], col: Column, i: int) -> Any:
    """``value`` changed (by a suffix or an increment) so that it is not in ``used``."""
    if value not in used:
        return value
    if col.kind == "int":
        candidate = value
        while candidate in used:
            candidate += 1
        return candidate
    if col.kind in ("real", "decimal"):
        candidate = value
        while candidate in used:
            candidate = round(candidate + 0.01, 2)
        return candidate
    if col.kind in ("date", "datetime", "time", "bool", "blob") or col.enum_values:
        return value if col.kind == "bool" else f"{value}#{i}"
    text = str(value)
    if "@" in text:
        local, _, domain = text.partition("@")
        return f"{local}{i}@{domain}"
    return f"{text}{i}"


def _coerce(value: Any, col: Column) -> Any:
    if value is None:
        return None
    if col.kind in ("int", "bool"):
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value) if float(value).is_integer() else float(value)
        except (TypeError, ValueError):
            return value
    if col.kind in ("real", "decimal"):
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    if col.kind == "datetime" and isinstance(value, str) and len(value) == 10 and value[4:5] == "-":
        return value + " 00:00:00"
    return value if not isinstance(value, bool) else int(value)


def plant_literals(schema: Schema, rows: Rows, literals: Literals | None, *, seed: int) -> Rows:
    """Copy of ``rows`` where a few rows of each table take the literal values of its columns.

    A first group of rows gets every literal column of the table at once (so ``a = 'x' AND b = 'y'``
    hits); then each column gets one row of its own (so a query that forgets a condition differs).
    At most half of a table's rows are touched, and unique columns get each value once.
    """
    if not literals:
        return rows
    out: Rows = {name: [list(r) for r in table_rows] for name, table_rows in rows.items()}
    by_table: dict[str, list[tuple[int, Column, list[Any]]]] = {}
    grouped: dict[str, tuple[list[int], int]] = {}
    for (tname, cname), values in literals.items():
        table = schema.table(tname)
        if table is None or table.name not in out or not values:
            continue
        idx = next((j for j, c in enumerate(table.columns) if c.name.lower() == cname.lower()), None)
        if idx is None:
            continue
        col = table.columns[idx]
        repeats = [v.count for v in values if isinstance(v, Repeat)]
        if repeats:
            grouped[table.name] = (_plant_repeat(out[table.name], idx, max(repeats), seed), max(repeats))
        coerced = [_coerce(v, col) for v in values if not isinstance(v, Repeat)]
        if coerced:
            by_table.setdefault(table.name, []).append((idx, col, coerced))
    planted_rows: dict[str, list[int]] = {}
    for tname, entries in by_table.items():
        table_rows = out[tname]
        n = len(table_rows)
        if n == 0:
            continue
        rng = random.Random(f"plant:{seed}:{tname}")
        order = rng.sample(range(n), n)
        budget = max(1, n // 2)
        widest = max(len(v) for _, _, v in entries)
        n_all = min(budget, max(2, widest)) if len(entries) > 1 else min(budget, widest + 1)
        targets = order[:n_all]
        rest = order[n_all:budget]
        for idx, col, values in entries:
            unique = col.unique or (col.primary_key and len(schema.tables[tname].primary_key) == 1)
            present = {r[idx] for r in table_rows}
            if unique and not col.primary_key:  # free the literal values held by other rows
                for r, row in enumerate(table_rows):
                    if row[idx] in values and r not in targets:
                        row[idx] = make_unique(row[idx], present | set(values), col, r + n)
                        present.add(row[idx])
                present = {r[idx] for r in table_rows}
            for k, r in enumerate(targets):
                value = values[k % len(values)]
                if unique and value in present:
                    continue
                table_rows[r][idx] = value
                present.add(value)
        for pos, (idx, col, values) in enumerate(entries):
            if pos < len(rest) and len(entries) > 1:
                value = values[(pos + seed + 1) % len(values)]
                unique = col.unique or col.primary_key
                if not (unique and value in {r[idx] for r in table_rows}):
                    table_rows[rest[pos]][idx] = value
        planted_rows[tname] = targets
    _link_groups(schema, out, grouped, seed)
    _link_planted(schema, out, planted_rows, by_table, seed)
    return out


def _plant_repeat(table_rows: list[list[Any]], idx: int, count: int, seed: int) -> list[int]:
    """``count`` rows share one value (the group that passes ``HAVING COUNT(*) >= count``) and,
    when the table is big enough, ``count - 1`` other rows share another (the group just below)."""
    n = len(table_rows)
    order = random.Random(f"repeat:{seed}:{idx}:{n}").sample(range(n), n)
    chosen = order[: min(count, max(1, n - 1))]
    values = [table_rows[r][idx] for r in order if table_rows[r][idx] is not None]
    if not values:
        return []
    first = values[0]
    for r in chosen:
        table_rows[r][idx] = first
    second = next((v for v in values if v != first), None)
    below = order[len(chosen): len(chosen) + count - 1]
    if second is not None and len(below) == count - 1:
        for r in below:
            table_rows[r][idx] = second
    return chosen


def _link_groups(schema: Schema, rows: Rows, grouped: dict[str, tuple[list[int], int]], seed: int) -> None:
    """``count`` child rows point at parents of the repeated group (``GROUP BY parent.col`` over a join)."""
    for table in schema.tables.values():
        child_rows = rows.get(table.name) or []
        for fk in table.foreign_keys:
            parent = schema.table(fk.ref_table)
            if parent is None or parent.name == table.name or parent.name not in grouped or not child_rows:
                continue
            group_rows, count = grouped[parent.name]
            ref_cols = fk.ref_columns or parent.primary_key
            pairs = [(_col_index(table, c), _col_index(parent, r)) for c, r in zip(fk.columns, ref_cols, strict=False)]
            if not group_rows or any(ci is None or pi is None for ci, pi in pairs):
                continue
            order = random.Random(f"group:{seed}:{table.name}").sample(range(len(child_rows)), len(child_rows))
            for k, r in enumerate(order[:count]):
                source = rows[parent.name][group_rows[k % len(group_rows)]]
                for ci, pi in pairs:
                    assert ci is not None and pi is not None
                    child_rows[r][ci] = source[pi]


def _col_index(table: Table, name: str) -> int | None:
    return next((j for j, c in enumerate(table.columns) if c.name.lower() == name.lower()), None)


def _link_planted(schema: Schema, rows: Rows, planted: dict[str, list[int]],
                  by_table: dict[str, list[tuple[int, Column, list[Any]]]], seed: int) -> None:
    """Point some child rows at the parents' planted rows, so joins keep the literal rows."""
    for table in schema.tables.values():
        child_rows = rows.get(table.name) or []
        if not child_rows:
            continue
        own_literal_cols = {idx for idx, _, _ in by_table.get(table.name, [])}
        for fk in table.foreign_keys:
            parent = schema.table(fk.ref_table)
            if parent is None or parent.name == table.name or not planted.get(parent.name):
                continue
            ref_cols = fk.ref_columns or parent.primary_key
            pairs = [(_col_index(table, c), _col_index(parent, r)) for c, r in zip(fk.columns, ref_cols, strict=False)]
            if any(ci is None or pi is None or ci in own_literal_cols for ci, pi in pairs):
                continue
            # link the first half of the planted rows only: the others keep random parents, so a
            # query that drops the parent's condition returns more rows than the gold query
            own = planted.get(table.name) or []
            linked = own[: max(1, len(own) // 2)] if own else random.Random(f"link:{seed}:{table.name}").sample(
                range(len(child_rows)), min(2, max(1, len(child_rows) // 2)))
            parents = planted[parent.name]
            for k, r in enumerate(linked):
                source = rows[parent.name][parents[k % len(parents)]]
                for ci, pi in pairs:
                    assert ci is not None and pi is not None
                    child_rows[r][ci] = source[pi]
