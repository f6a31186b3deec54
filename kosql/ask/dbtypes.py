"""What the connectors, the cost check and the ask service share: :class:`PlanInfo` (a planner's
view of a query) and the :class:`Connector` protocol. Kept apart from :mod:`kosql.ask.connect`,
:mod:`kosql.ask.postgres` and :mod:`kosql.ask.cost` so that none of them imports another in a loop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from kosql.data.schema import Schema
from kosql.db.execute import ExecResult


@dataclass
class PlanInfo:
    """What a database's planner says about a query, before it runs."""

    kind: str  # "sqlite" | "postgres"
    total_cost: float | None = None
    plan_rows: float | None = None
    full_scans: list[str] = field(default_factory=list)  # tables read by a full/sequential scan
    table_rows: dict[str, int] = field(default_factory=dict)  # size of each scanned table
    writes: bool = False  # a ModifyTable node (PostgreSQL)
    error: str | None = None  # the planner refused the query
    raw: Any = None


class Connector(Protocol):
    """A read-only database connection factory (safe to call from several threads)."""

    dialect: str  # the sqlglot dialect of the database's SQL
    url: str  # for messages (no password)

    def schema(self) -> Schema: ...

    def plan(self, sql: str, *, timeout: float) -> PlanInfo: ...

    def execute(self, sql: str, *, max_rows: int, timeout: float,
                denied_columns: list[tuple[str, str]]) -> ExecResult: ...

    def write_privileges(self) -> list[str]: ...

    def unreadable_columns(self) -> set[tuple[str, str]]: ...

    def close(self) -> None: ...
