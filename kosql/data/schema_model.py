"""The schema dataclasses (:class:`Schema`, :class:`Table`, :class:`Column`, :class:`ForeignKey`) and
SQL quoting, apart from the DDL parser (:mod:`kosql.data.schema`, which re-exports them) and the
renderer (:mod:`kosql.data.ddl_render`), so that both use them without importing each other."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Column:
    name: str
    raw_type: str
    kind: str
    nullable: bool = True
    primary_key: bool = False
    autoincrement: bool = False
    unique: bool = False
    enum_values: list[str] = field(default_factory=list)
    default: str | None = None
    comment: str | None = None  # MySQL ``COMMENT '...'`` (often the column's Korean name)


@dataclass
class ForeignKey:
    columns: list[str]
    ref_table: str
    ref_columns: list[str]


@dataclass
class Table:
    name: str
    columns: list[Column]
    primary_key: list[str] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    unique_sets: list[list[str]] = field(default_factory=list)
    comment: str | None = None  # MySQL ``COMMENT='...'`` table option

    def column(self, name: str) -> Column | None:
        """The column called ``name`` (case-insensitive), or None."""
        low = name.lower()
        for col in self.columns:
            if col.name.lower() == low:
                return col
        return None

    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass
class Schema:
    tables: dict[str, Table]
    dialect: str | None = None

    def table_names(self) -> list[str]:
        return list(self.tables)

    def table(self, name: str) -> Table | None:
        """The table called ``name`` (case-insensitive, schema prefix ignored), or None."""
        if name in self.tables:
            return self.tables[name]
        low = name.lower().split(".")[-1]
        for tname, table in self.tables.items():
            if tname.lower() == low:
                return table
        return None

    def columns_of(self, table: str) -> list[str]:
        """Column names of ``table`` (case-insensitive); empty list for an unknown table."""
        found = self.table(table)
        return found.column_names() if found else []



def quote_ident(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """``text`` as an SQL string literal (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"
