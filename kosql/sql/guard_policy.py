"""The guard's policy: what a question may read, and how much (loaded from YAML by
:func:`kosql.sql.guard.load_policy`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass
class Policy:
    """What a question may read, and how much. Loaded from YAML by :func:`load_policy`."""

    allowed_tables: list[str] = field(default_factory=list, metadata={
        "help": "Tables a query may read; empty = every table not denied."})
    denied_tables: list[str] = field(default_factory=list, metadata={
        "help": "Tables a query may never read."})
    denied_columns: list[str] = field(default_factory=list, metadata={
        "help": "Columns never read: 'table.column', or 'column' for that name in every table."})
    star: Literal["refuse", "expand"] = field(default="refuse", metadata={
        "help": "'*' over a table with a denied column: refuse the query, or expand '*' without it."})
    max_rows: int = field(default=100, metadata={"help": "Most rows returned (LIMIT added or lowered).",
                                                 "min": 1, "max": 1_000_000})
    time_limit: float = field(default=5.0, metadata={"help": "Seconds a query may run.", "min": 0.01,
                                                     "max": 3600})
    max_cost: float = field(default=1_000_000.0, metadata={
        "help": "PostgreSQL: largest EXPLAIN total cost run without --allow-expensive.", "min": 0})
    max_plan_rows: float = field(default=10_000_000.0, metadata={
        "help": "Largest estimated row count (PostgreSQL plan rows; SQLite product of full scans).",
        "min": 0})
    large_table_rows: int = field(default=100_000, metadata={
        "help": "A full/sequential scan of a table with more rows than this is flagged.", "min": 0})
    refuse_large_scans: bool = field(default=False, metadata={
        "help": "Treat a flagged full scan of a large table as over budget (not just a note)."})
    extra_functions: list[str] = field(default_factory=list, metadata={
        "help": "Function names to allow besides the built-in allow-list (never set_config, pg_sleep...)."})

    def denied_entries(self) -> list[tuple[str, str]]:
        """``denied_columns`` as (table or '', column), lower case; a schema prefix is dropped
        (``public.users.phone`` -> ``('users', 'phone')``), ``*.col`` is ``('', 'col')``."""
        out = []
        for entry in self.denied_columns:
            t, _, c = entry.lower().rpartition(".")
            t = t.rpartition(".")[2]
            out.append(("" if t == "*" else t, c))
        return out

    def denied_pairs(self) -> list[tuple[str, str]]:
        """``denied_columns`` as the database layer takes them: (table, column), table ``'*'`` = any."""
        return [(t or "*", c) for t, c in self.denied_entries()]

    def is_denied_column(self, table: str | None, column: str) -> bool:
        col = column.lower()
        return any(c == col and (not t or (table is not None and t == table.lower()))
                   for t, c in self.denied_entries())

    def denied_in(self, table: str, columns: list[str] | None) -> list[str]:
        """Denied columns of ``table`` (from its ``columns`` when known, else the policy's entries)."""
        if columns is not None:
            return [c for c in columns if self.is_denied_column(table, c)]
        return [c for t, c in self.denied_entries() if not t or t == table.lower()]
