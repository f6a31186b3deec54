"""Random schemas from table archetypes, in many naming styles and DDL flavours, with real SQLite data.

:func:`random_schema` combines archetypes (:mod:`kosql.data.synth.archetypes`) into a
:class:`GSchema`: a connected group of tables (an archetype with its parents, sometimes children and
unrelated tables), or a one- or two-table "spreadsheet" whose every column is TEXT with Korean
headers that need double quotes (``"출신 학교/팀"``, ``"키(cm)"``). Names follow one style per schema
(snake_case, camelCase, PascalCase, UPPER, abbreviations, Korean), table names are singular or
plural and drawn from each archetype's alternatives; keys are ``id`` or ``<table>_id``, foreign keys
are declared or left for inference. Any subset of the tables is written as MySQL,
PostgreSQL or SQLite DDL (:func:`kosql.data.synth.ddl_flavours.render_ddl`), with or without Korean
comments; :func:`build_sqlite` writes the rows.
:func:`renamed_copy` gives the same tables under other names and another column order.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field, replace
from typing import Any

from kosql.data.synth import domains as dm
from kosql.data.synth.archetypes import Archetype, ColSpec, all_archetypes
from kosql.data.synth.infer import ColumnHint, TableHint
from kosql.data.synth.naming import STYLES, plural, singular, split_words, style_ident
from kosql.data.synth.pools_any import XPOOLS
from kosql.data.synth.values import Rows, _Filler, _weighted_choice, fill_table

FLAVOURS = ("mysql", "postgres", "sqlite")


@dataclass
class GCol:
    key: str
    name: str
    ko: str  # how questions say it
    type: str  # INT, DECIMAL(10,2), VARCHAR(n), TEXT, DATE, DATETIME, BOOLEAN
    gen: str = ""
    null: float = 0.0
    pk: bool = False
    fk: str | None = None  # key of the referenced GTable
    label: bool = False
    spec: ColSpec | None = None


@dataclass
class GTable:
    key: str  # unique in the schema (t0, t1, ...)
    arch: str
    name: str
    ko: str
    unit: str
    rows: int
    columns: list[GCol]
    declared_fks: bool = True


@dataclass
class GSchema:
    db_id: str
    tables: list[GTable]
    flavour: str
    comments: bool
    spreadsheet: bool = False
    style: str = "snake"
    hints: dict[tuple[str, str], ColumnHint] = field(default_factory=dict)

    @property
    def dialect(self) -> str | None:
        return "postgres" if self.flavour == "postgres" else None

    def table(self, key: str) -> GTable:
        return next(t for t in self.tables if t.key == key)


def _ident(words: list[str], style: str) -> str:
    return style_ident(words, "snake" if style == "korean" else style)


def _pick(rng: random.Random, options: tuple[str, ...], usual: float = 0.55) -> str:
    return options[0] if rng.random() < usual or len(options) == 1 else rng.choice(options[1:])


def _table_name(arch: Archetype, style: str, rng: random.Random, korean: bool) -> tuple[str, str]:
    ko = _pick(rng, arch.ko)
    if korean:
        return ko + rng.choice(("", "", "", " 목록", " 정보", " 현황", " 기록")), ko
    words = split_words(_pick(rng, arch.names))
    if rng.random() < 0.55:
        words = words[:-1] + [plural(words[-1])]
    name = _ident(words, style)
    if rng.random() < 0.08:
        name = rng.choice(("tb_", "t_", "tbl_")) + name
    return name, ko


def _col_name(spec: ColSpec, style: str, rng: random.Random, korean: bool) -> tuple[str, str]:
    ko = _pick(rng, spec.ko)
    if korean:
        said = ko
        if spec.suffix and rng.random() < 0.4:
            ko = ko + spec.suffix
        return ko, said
    return _ident(split_words(_pick(rng, spec.names)), style), ko


def _pk_col(table_words: list[str], ko: str, style: str, rng: random.Random, korean: bool) -> GCol:
    if korean:
        name = rng.choice((f"{ko} ID", f"{ko} 번호", "번호", "ID"))
        return GCol("id", name, name if name.startswith(ko) else f"{ko} {name}", "INT", pk=True)
    name = _ident(["id"], style) if rng.random() < 0.35 else _ident(table_words + ["id"], style)
    return GCol("id", name, f"{ko} ID", "INT", pk=True)


def _make_table(arch: Archetype, idx: int, style: str, rng: random.Random, korean: bool) -> GTable:
    name, ko = _table_name(arch, style, rng, korean)
    words = split_words(arch.names[0])
    cols = [_pk_col(words, ko, style, rng, korean)]
    specs = list(arch.columns)
    label = [c for c in specs if c.label]
    rest = [c for c in specs if not c.label]
    k = rng.randint(min(len(rest), 3), len(rest))
    chosen = label + rng.sample(rest, k)
    for spec in list(chosen):  # "after:COL" values need COL in the same row
        source = spec.gen.split(":")[1] if spec.gen.startswith("after:") else None
        if source and all(c.key != source for c in chosen):
            chosen.insert(chosen.index(spec), next(c for c in specs if c.key == source))
    if rng.random() < 0.3:
        rng.shuffle(chosen)
    else:
        chosen.sort(key=specs.index)
    for spec in [c for c in chosen if c.gen.startswith("after:")]:
        src = next(c for c in chosen if c.key == spec.gen.split(":")[1])
        if chosen.index(src) > chosen.index(spec):
            chosen.remove(spec)
            chosen.insert(chosen.index(src) + 1, spec)
    used = {cols[0].name.lower()}
    for spec in chosen:
        cname, said = _col_name(spec, style, rng, korean)
        while cname.lower() in used:
            cname += "2" if not korean else " 2"
        used.add(cname.lower())
        cols.append(GCol(spec.key, cname, said, spec.type, spec.gen, spec.null, label=spec.label, spec=spec))
    n = rng.randint(*arch.rows)
    return GTable(f"t{idx}", arch.key, name, ko, arch.unit, n, cols)


def _add_fk(child: GTable, parent: GTable, style: str, rng: random.Random, korean: bool) -> None:
    ppk = parent.columns[0]
    if korean:
        name = ppk.name if ppk.name not in ("번호", "ID") else f"{parent.ko} ID"
    elif ppk.name.lower() != "id":
        name = ppk.name  # same-name key columns
    else:
        name = _ident(split_words(parent.name.lower())[:-1] + [_singular_word(parent.name), "id"], style)
    used = {c.name.lower() for c in child.columns}
    while name.lower() in used:
        name += "_ref" if not korean else " 참조"
    col = GCol(f"fk_{parent.key}", name, f"{parent.ko} ID", "INT", fk=parent.key)
    child.columns.insert(rng.randint(1, len(child.columns)), col)


def _singular_word(name: str) -> str:
    words = split_words(name)
    return singular(words[-1]) if words else name


def _closure(rng: random.Random, seed: Archetype, archs: dict[str, Archetype]) -> list[Archetype]:
    chosen = [seed]
    for arch in list(chosen):
        for p in arch.parents:
            if p in archs and archs[p] not in chosen and len(chosen) < 4:
                chosen.insert(0, archs[p])
                for pp in archs[p].parents:  # grandparents
                    if pp in archs and archs[pp] not in chosen and len(chosen) < 4:
                        chosen.insert(0, archs[pp])
    children = [a for a in archs.values() if any(p in {c.key for c in chosen} for p in a.parents)
                and a not in chosen]
    if children and rng.random() < 0.5 and len(chosen) < 5:
        chosen.append(rng.choice(children))
    while rng.random() < 0.3 and len(chosen) < 5:  # an unrelated table
        other = rng.choice(list(archs.values()))
        if other not in chosen and not other.parents:
            chosen.append(other)
    return chosen


def random_schema(rng: random.Random, db_id: str) -> GSchema:
    """One random schema (relational or spreadsheet); see the module docstring."""
    archs = all_archetypes()
    if rng.random() < 0.25:
        return _spreadsheet(rng, db_id, archs)
    seed = rng.choice(list(archs.values()))
    chosen = _closure(rng, seed, archs)
    korean = rng.random() < 0.2
    style = "korean" if korean else rng.choice(STYLES)
    tables = [_make_table(a, i, style, rng, korean) for i, a in enumerate(chosen)]
    by_arch = {t.arch: t for t in tables}
    declared = rng.random() < 0.7
    for t in tables:
        t.declared_fks = declared
        for p in archs[t.arch].parents:
            if p in by_arch:
                _add_fk(t, by_arch[p], style, rng, korean)
    _dedupe_tables(tables)
    flavour = rng.choice(("postgres", "sqlite")) if korean else rng.choices(FLAVOURS, weights=(45, 30, 25))[0]
    comments = rng.random() < (0.1 if korean else 0.45)
    return _with_hints(GSchema(db_id, tables, flavour, comments, style=style))


def _dedupe_tables(tables: list[GTable]) -> None:
    used: set[str] = set()
    for t in tables:
        while t.name.lower() in used:
            t.name += "2" if not any("\uac00" <= ch <= "\ud7a3" for ch in t.name) else " 2"
        used.add(t.name.lower())


def _spreadsheet(rng: random.Random, db_id: str, archs: dict[str, Archetype]) -> GSchema:
    picks = rng.sample([a for a in archs.values() if len(a.columns) >= 4], rng.choice((1, 1, 1, 2)))
    tables = []
    for i, arch in enumerate(picks):
        t = _make_table(arch, i, "korean", rng, True)
        t.columns = t.columns[1:] if rng.random() < 0.7 else t.columns  # usually no key column at all
        for c in t.columns:
            c.type = "TEXT"
        if rng.random() < 0.4:
            t.name = rng.choice((f"export_{rng.randint(100, 99999)}", f"sheet{i + 1}", f"data_{rng.randint(2015, 2024)}", f"{t.ko} 데이터"))
        t.rows = rng.randint(12, 30)
        tables.append(t)
    _dedupe_tables(tables)
    return _with_hints(GSchema(db_id, tables, rng.choice(("postgres", "sqlite", "sqlite")), False,
                               spreadsheet=True, style="korean"))


def _with_hints(gs: GSchema) -> GSchema:
    for t in gs.tables:
        for c in t.columns:
            spec = c.spec
            gs.hints[(t.name, c.name)] = ColumnHint(ko=c.ko, adn=spec.adn if spec else (),
                                                    qword=spec.qword if spec else "",
                                                    yes=spec.yes if spec else "", no=spec.no if spec else "")
    return gs


def table_hints(gs: GSchema) -> dict[str, TableHint]:
    return {t.name: TableHint(ko=t.ko, unit=t.unit) for t in gs.tables}


def renamed_copy(gs: GSchema, rng: random.Random, db_id: str) -> GSchema:
    """The same archetypes under other names, styles and column orders (so a remembered name is wrong)."""
    archs = all_archetypes()
    korean = gs.style != "korean" and rng.random() < 0.25
    style = "korean" if korean or gs.spreadsheet else rng.choice([s for s in STYLES if s != gs.style])
    tables = [_make_table(archs[t.arch], i, style, rng, korean or gs.spreadsheet) for i, t in enumerate(gs.tables)]
    by_arch = {t.arch: t for t in tables}
    for t, old in zip(tables, gs.tables, strict=True):
        t.declared_fks = old.declared_fks
        if gs.spreadsheet:
            t.columns = [replace(c, type="TEXT") for c in t.columns[1:]]
            t.rows = old.rows
        for p in archs[t.arch].parents:
            if p in by_arch and any(c.fk for c in old.columns):
                _add_fk(t, by_arch[p], style, rng, korean)
    _dedupe_tables(tables)
    flavour = rng.choice(("postgres", "sqlite")) if (korean or gs.spreadsheet) else rng.choice(FLAVOURS)
    return _with_hints(GSchema(db_id, tables, flavour, rng.random() < 0.4, gs.spreadsheet, style))


# ---------------------------------------------------------------------------------------------
# rows and the SQLite database


class _AnyFiller(_Filler):
    def value(self, col: dm.Column, row: dict[str, Any]) -> Any:
        kind, _, arg = col.gen.partition(":")
        if kind == "xpool":
            return self.rng.choice(XPOOLS[arg])
        if kind == "xcat":
            return _weighted_choice(self.rng, XPOOLS[arg])
        if kind == "uxpool":
            left = self.unique_left.get("x:" + arg)
            if not left:
                left = list(XPOOLS[arg])
                self.rng.shuffle(left)
                self.unique_left["x:" + arg] = left
            return left.pop()
        return super().value(col, row)


def fill_rows(gs: GSchema, seed: int | str) -> dict[str, list[tuple[Any, ...]]]:
    """Rows per table name (in each table's column order), deterministic for ``seed``."""
    order = _parents_first(gs)
    tables = tuple(dm.Table(t.key, t.ko, t.unit, t.rows, tuple(
        dm.Column(name=c.key, type=c.type if c.type != "TEXT" or not c.spec else c.spec.type, ko=c.ko,
                  gen=c.gen, null=c.null, pk=c.pk, fk=c.fk) for c in t.columns)) for t in order)
    filler = _AnyFiller(random.Random(f"kosql-anyschema-values:{seed}:{gs.db_id}"))
    domain = dm.Domain(gs.db_id, "", tables)
    filled: Rows = {}
    for table in domain.tables:
        filled[table.name] = fill_table(table, domain, filler, filled)
    out: dict[str, list[tuple[Any, ...]]] = {}
    for t in gs.tables:
        rows = filled[t.key]
        if gs.spreadsheet:
            rows = [tuple(_as_text(v, c) for v, c in zip(r, t.columns, strict=True)) for r in rows]
        out[t.name] = rows
    return out


def _parents_first(gs: GSchema) -> list[GTable]:
    done: list[GTable] = []
    left = list(gs.tables)
    while left:
        for t in left:
            if all(c.fk is None or c.fk in {d.key for d in done} for c in t.columns):
                done.append(t)
                left.remove(t)
                break
        else:
            done.extend(left)
            break
    return done


def _as_text(value: Any, col: GCol) -> Any:
    if value is None:
        return None
    if col.spec is not None and col.spec.type == "BOOLEAN":
        return "예" if value else "아니오"
    if isinstance(value, float):
        return f"{value:g}" if value != int(value) else str(int(value))
    return str(value)


_SQLITE = {"INT": "INTEGER", "DECIMAL": "REAL", "BOOLEAN": "INTEGER"}


def build_sqlite(gs: GSchema, rows: dict[str, list[tuple[Any, ...]]], conn: sqlite3.Connection) -> None:
    """Create and fill ``gs``'s tables on ``conn`` (every identifier double-quoted)."""
    for t in gs.tables:
        defs = []
        for c in t.columns:
            kind = _SQLITE.get(c.type.split("(")[0].upper(), "TEXT")
            defs.append(f"{_dq(c.name)} {kind}" + (" PRIMARY KEY" if c.pk else ""))
        conn.execute(f"CREATE TABLE {_dq(t.name)} ({', '.join(defs)})")
        marks = ", ".join("?" for _ in t.columns)
        conn.executemany(f"INSERT INTO {_dq(t.name)} VALUES ({marks})", rows[t.name])
    conn.commit()


def _dq(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
