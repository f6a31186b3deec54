"""``Asker``: question -> prompt -> SQL -> guard -> cost check -> read-only execution.

The one library path behind ``kosql ask`` and ``kosql serve``. Nothing here imports torch: a model
is loaded only when the caller builds a backend (:func:`kosql.models.registry.load_backend`).
:meth:`Asker.run_sql` never raises for a refused or failed query (``AskResult.error`` says why); a
broken setup (unreachable database, policy naming an unknown table) raises :class:`UserError`
when the ``Asker`` is built. ``run_sql`` may be called from several threads at once (each call
uses its own database connection).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from kosql.ask.connect import Connector, open_database
from kosql.ask.cost import judge_cost
from kosql.ask.schema import merge_comments, render_ddl, schema_columns
from kosql.ask.select import estimate_tokens, select_tables
from kosql.data.schema import Schema
from kosql.errors import UserError
from kosql.messages import msg
from kosql.models.base import Backend, GenerationParams
from kosql.models.prompting import render_prompt
from kosql.sql.extract import extract_sql
from kosql.sql.guard import Policy, Verdict, check_policy_tables, check_sql, load_policy

DEFAULT_PROMPT_BUDGET = 1500  # tokens of DDL in a prompt before tables are selected


@dataclass
class AskResult:
    """What one question (or one SQL) produced."""

    question: str
    sql: str  # what the model (or the user) wrote
    verdict: Verdict
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)  # capped at policy.max_rows
    truncated: bool = False
    cost: str = ""  # the cost note ("" when not checked)
    error: str | None = None  # a plain sentence when something failed
    tables: list[str] = field(default_factory=list)  # tables whose DDL went into the prompt
    timings: dict[str, float] = field(default_factory=dict)  # seconds
    vote: dict[str, Any] | None = None  # with vote=k: k, share, greedy_agreed, confident, candidates (kosql.vote)
    repair: dict[str, str] | None = None  # when the SQL was repaired: how, the SQL as written, its error

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["rows"] = [[_jsonable(v) for v in row] for row in self.rows]
        return out


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return value.hex()
    return str(value)  # Decimal, date, datetime, UUID ...


class Asker:
    """Ask one database questions in Korean, safely (see the module docstring)."""

    def __init__(self, db: str, *, backend: Backend | None = None, policy: Policy | None = None,
                 allow_expensive: bool = False, params: GenerationParams | None = None,
                 prompt_budget: int = DEFAULT_PROMPT_BUDGET, comments_ddl: str | None = None,
                 connector: Connector | None = None, prompt_format: str = "seed") -> None:
        self.connector = connector or open_database(db)
        self.backend = backend
        self.policy = policy or load_policy(None)
        self.allow_expensive = allow_expensive
        self.params = params or GenerationParams(max_new_tokens=200)
        self.prompt_budget = prompt_budget
        self.prompt_format = prompt_format
        self.schema = self.connector.schema()
        if not self.schema.tables:
            raise UserError(f"--db: the database {self.connector.url} has no tables.")
        if comments_ddl:
            merge_comments(self.schema, comments_ddl)
        self.columns = schema_columns(self.schema)  # the guard checks against every column
        check_policy_tables(self.policy, self.columns)
        self._prompt_schema = _without(self.schema, self.connector.unreadable_columns(), self.policy)
        self.dialect = self.connector.dialect

    def readable_tables(self) -> list[str]:
        """Tables the policy lets a question read (the only ones a prompt shows)."""
        p = self.policy
        allowed = {t.lower() for t in p.allowed_tables}
        denied = {t.lower() for t in p.denied_tables}
        return [t for t in self.schema.tables
                if t.lower() not in denied and (not allowed or t.lower() in allowed)]

    def _render(self, names: list[str]) -> str:
        return render_ddl(self._prompt_schema, names)

    def prompt(self, question: str) -> tuple[str, list[str]]:
        """(prompt text, tables kept) for ``question``: the prompt in ``prompt_format`` over the selected
        tables (:func:`kosql.models.prompting.render_prompt`)."""
        readable = [t for t in self.readable_tables() if t in self._prompt_schema.tables]
        sub = Schema({n: self._prompt_schema.tables[n] for n in readable}, self.schema.dialect)
        selection = select_tables(sub, question, self._render, budget=self.prompt_budget,
                                  count_tokens=estimate_tokens)
        text = render_prompt(self._render(selection.tables), question, self.prompt_format, self.backend)
        return text, selection.tables

    def extract_sql(self, generated_text: str) -> str:
        """The SQL in a model's output (code fences, chatter and a second statement cut)."""
        return extract_sql(generated_text)

    def ask(self, question: str, *, vote: int = 0, min_confidence: float = 0.5) -> AskResult:
        """prompt -> backend.generate -> extract -> :meth:`run_sql`, repaired before giving up, and with
        ``vote`` = k > 0 voted on over greedy + k samples (:func:`kosql.vote.ask.answer`)."""
        from kosql.vote.ask import answer

        return answer(self, question, vote=vote, min_confidence=min_confidence)

    def prompt_columns(self) -> dict[str, list[str]]:
        """The columns a prompt may show, by readable table (no denied or unreadable column)."""
        readable = set(self.readable_tables())
        return {name: [c.name for c in table.columns] for name, table in self._prompt_schema.tables.items()
                if name in readable}

    def check(self, sql: str) -> Verdict:
        """The guard's verdict on ``sql`` for this database (its schema and dialect)."""
        return check_sql(sql, self.policy, dialect=self.dialect, schema=self.columns)

    def run_sql(self, question: str, sql: str, *, tables: list[str] | None = None) -> AskResult:
        """guard -> cost check -> read-only, time-limited, row-capped execution."""
        timings: dict[str, float] = {}
        start = time.monotonic()
        verdict = self.check(sql)
        timings["guard"] = time.monotonic() - start
        result = AskResult(question=question, sql=sql, verdict=verdict, tables=list(tables or []),
                           timings=timings)
        if not verdict.allowed:
            result.error = msg("guard_refused", reason=verdict.reason)
            return result
        start = time.monotonic()
        report = judge_cost(self.connector.plan(verdict.sql, timeout=self.policy.time_limit), self.policy)
        timings["cost"] = time.monotonic() - start
        result.cost = report.note
        if report.writes or (report.over_budget and not self.allow_expensive):
            result.error = report.reason if report.writes else msg("allow_expensive_hint", reason=report.reason)
            return result
        start = time.monotonic()
        res = self.connector.execute(verdict.sql, max_rows=self.policy.max_rows,
                                     timeout=self.policy.time_limit, denied_columns=self._denied_pairs())
        timings["execute"] = time.monotonic() - start
        if not res.ok:
            result.error = msg("database_refused", error=res.error)
            return result
        result.columns = res.columns
        result.rows = [list(r) for r in res.rows]
        limited = any(n.startswith("LIMIT") for n in verdict.notes)
        result.truncated = res.truncated or (limited and len(res.rows) >= self.policy.max_rows)
        return result

    def _denied_pairs(self) -> list[tuple[str, str]]:
        return self.policy.denied_pairs()

    def prompt_ddl(self, question: str, sql: str = "") -> str:
        """The schema the model is given for ``question`` (the DDL :meth:`prompt` shows: the selected
        tables, no denied or unreadable column), plus any other readable table ``sql`` reads. A saved
        correction's ``context``: never a column the user may not see."""
        _, tables = self.prompt(question)
        named = _table_names(sql, self.dialect) if sql.strip() else set()
        extra = [t for t in self.readable_tables()
                 if t in self._prompt_schema.tables and t.lower() in named and t not in tables]
        return self._render([*tables, *extra])

    def write_privileges(self) -> list[str]:
        """What the connecting role could write outside kosql (PostgreSQL); [] for SQLite."""
        return self.connector.write_privileges()

    def close(self) -> None:
        self.connector.close()




def _table_names(sql: str, dialect: str) -> set[str]:
    """Lower-case names of the tables ``sql`` names (empty when it does not parse)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return set()
    return {t.name.lower() for t in tree.find_all(exp.Table)}


def _without(schema: Schema, unreadable: set[tuple[str, str]], policy: Policy) -> Schema:
    """A copy of ``schema`` for prompts: no column the role cannot read or the policy denies, no table
    left without columns."""
    tables = {}
    for name, table in schema.tables.items():
        cols = [c for c in table.columns
                if (name, c.name) not in unreadable and not policy.is_denied_column(name, c.name)]
        if cols:
            keep = {c.name for c in cols}
            fks = [fk for fk in table.foreign_keys if all(c in keep for c in fk.columns)]
            tables[name] = dataclasses.replace(table, columns=cols, foreign_keys=fks,
                                               primary_key=[c for c in table.primary_key if c in keep])
    return Schema(tables, schema.dialect)
