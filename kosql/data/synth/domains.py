"""Schema types of the bundled dataset and the two DDL renderings (displayed and SQLite).

A :class:`Domain` is one database: 2-5 tables with primary keys, foreign keys, realistic column
types and a Korean term for every table and column. The displayed DDL (the row's ``context``) is
MySQL-flavoured like ko_text2sql; the SQLite DDL builds the real database from the same schema.
The concrete domains live in :mod:`kosql.data.synth.catalog`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kosql.data.schema import quote_literal

# column roles used by the templates
ROLE_PK, ROLE_FK, ROLE_LABEL, ROLE_CAT, ROLE_TEXT = "pk", "fk", "label", "cat", "text"
ROLE_NUM, ROLE_DATE, ROLE_BOOL = "num", "date", "bool"


@dataclass(frozen=True)
class Column:
    """One column: SQL type text, Korean term and how its values are generated."""

    name: str
    type: str  # displayed type: INT, VARCHAR(50), DECIMAL(10,2), DATE, DATETIME, BOOLEAN, TEXT
    ko: str
    gen: str = ""  # value generator spec, see kosql.data.synth.values
    null: float = 0.0  # share of NULLs (0 -> NOT NULL)
    pk: bool = False
    fk: str | None = None  # referenced table (its primary key)
    label: bool = False  # the column that names a row (name/title)
    yes: str = ""  # bool columns: adnominal phrase for value 1 ("활성 상태인")
    no: str = ""  # bool columns: adnominal phrase for value 0

    @property
    def base_type(self) -> str:
        return self.type.split("(")[0].upper()

    @property
    def role(self) -> str:
        if self.pk:
            return ROLE_PK
        if self.fk:
            return ROLE_FK
        if self.label:
            return ROLE_LABEL
        base = self.base_type
        if base in ("INT", "DECIMAL"):
            return ROLE_NUM
        if base in ("DATE", "DATETIME"):
            return ROLE_DATE
        if base == "BOOLEAN":
            return ROLE_BOOL
        if self.gen.startswith("cat:") or self.gen in CATEGORICAL_GENS:
            return ROLE_CAT
        return ROLE_TEXT

    @property
    def nullable(self) -> bool:
        return self.null > 0


# generators whose values come from a small pool (good for =, IN, GROUP BY)
CATEGORICAL_GENS = frozenset({"city", "country", "district", "nationality", "gender", "carrier"})


@dataclass(frozen=True)
class Table:
    """One table: English name, Korean term, counter word (명/개/건) and row count."""

    name: str
    ko: str
    unit: str
    rows: int
    columns: tuple[Column, ...]

    @property
    def pk(self) -> Column:
        return next(c for c in self.columns if c.pk)

    @property
    def label(self) -> Column | None:
        return next((c for c in self.columns if c.label), None)

    def by_role(self, *roles: str) -> list[Column]:
        return [c for c in self.columns if c.role in roles]

    def fks(self) -> list[Column]:
        return [c for c in self.columns if c.fk]


@dataclass(frozen=True)
class Domain:
    """One database of the bundled dataset."""

    db_id: str
    ko: str
    tables: tuple[Table, ...]
    notes: str = field(default="")

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


def c(name: str, type_: str, ko: str, gen: str = "", **kw: object) -> Column:
    """Short constructor used by the catalog."""
    return Column(name=name, type=type_, ko=ko, gen=gen, **kw)  # type: ignore[arg-type]


def t(name: str, ko: str, unit: str, rows: int, *columns: Column) -> Table:
    return Table(name=name, ko=ko, unit=unit, rows=rows, columns=tuple(columns))


def display_ddl(domain: Domain, comments: bool = False) -> str:
    """The MySQL-flavoured CREATE TABLE text shown to the model (the row's ``context``).

    With ``comments`` every column and table carries its Korean name as a MySQL ``COMMENT``, as
    Korean production schemas usually do (컬럼 코멘트); the model reads them to link Korean words
    in a question to English column names.
    """
    parts = []
    for table in domain.tables:
        lines = []
        for col in table.columns:
            if col.pk:
                text = f"  {col.name} INT PRIMARY KEY AUTO_INCREMENT"
            else:
                text = f"  {col.name} {col.type}"
                if col.base_type == "BOOLEAN":
                    text += " DEFAULT FALSE"
                elif not col.nullable:
                    text += " NOT NULL"
            if comments:
                text += f" COMMENT {quote_literal(col.ko)}"
            lines.append(text)
        for col in table.fks():
            ref = domain.table(col.fk or "")
            lines.append(f"  FOREIGN KEY ({col.name}) REFERENCES {ref.name}({ref.pk.name})")
        tail = f" COMMENT={quote_literal(table.ko)}" if comments else ""
        parts.append(f"CREATE TABLE {table.name} (\n" + ",\n".join(lines) + f"\n){tail};")
    return "\n".join(parts)



_SQLITE_TYPES = {"INT": "INTEGER", "DECIMAL": "REAL", "BOOLEAN": "INTEGER", "VARCHAR": "TEXT",
                 "TEXT": "TEXT", "DATE": "TEXT", "DATETIME": "TEXT", "CHAR": "TEXT"}


def sqlite_ddl(domain: Domain) -> list[str]:
    """CREATE TABLE statements for SQLite (dates as ISO text, booleans as 0/1)."""
    out = []
    for table in domain.tables:
        lines = []
        for col in table.columns:
            if col.pk:
                lines.append(f"{col.name} INTEGER PRIMARY KEY")
                continue
            kind = _SQLITE_TYPES.get(col.base_type, "TEXT")
            lines.append(f"{col.name} {kind}" + ("" if col.nullable else " NOT NULL"))
        for col in table.fks():
            ref = domain.table(col.fk or "")
            lines.append(f"FOREIGN KEY ({col.name}) REFERENCES {ref.name}({ref.pk.name})")
        out.append(f"CREATE TABLE {table.name} (" + ", ".join(lines) + ")")
    return out


def validate_domain(domain: Domain) -> None:
    """Raise ValueError when a domain definition is inconsistent (used by the tests)."""
    names = [tb.name for tb in domain.tables]
    if not 2 <= len(names) <= 5:
        raise ValueError(f"{domain.db_id}: {len(names)} tables (want 2-5)")
    for tb in domain.tables:
        if sum(col.pk for col in tb.columns) != 1:
            raise ValueError(f"{domain.db_id}.{tb.name}: needs exactly one primary key")
        for col in tb.columns:
            if col.fk and col.fk not in names:
                raise ValueError(f"{domain.db_id}.{tb.name}.{col.name}: unknown table {col.fk}")
            if col.role == ROLE_BOOL and not (col.yes and col.no):
                raise ValueError(f"{domain.db_id}.{tb.name}.{col.name}: bool needs yes/no phrases")
