"""One answer for ``kosql ask`` and ``kosql serve``: repaired before it gives up, voted on with ``vote=k``.

:func:`answer` generates the greedy SQL (and ``k`` samples), runs each candidate the way every
question's SQL runs (:meth:`kosql.ask.Asker.run_sql`: guard, cost check, read-only and time-limited
execution), repairs failures (:mod:`kosql.vote.repair`: another dialect is transpiled for the
database; an unknown column or table is asked for once more with the error and the real columns the
prompt may show), votes (:func:`kosql.vote.core.vote`) and returns the winner's
:class:`~kosql.ask.service.AskResult` with ``vote`` (k, share, greedy_agreed, confident, candidates)
and ``repair`` filled in. ``generate`` lets the server route generation through its micro-batcher.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kosql.errors import UserError
from kosql.models.base import Generation, GenerationParams, ModelCallFailed
from kosql.vote.core import GREEDY, Candidate, vote_record
from kosql.vote.core import vote as cast_vote
from kosql.vote.repair import names_missing, real_columns, retry, run_candidate
from kosql.vote.rows import sample

DEFAULT_MIN_CONFIDENCE = 0.5  # below this share, kosql says it is not sure and shows the candidates

GenerateFn = Callable[[Sequence[str], GenerationParams], list[Generation]]


class Asker(Protocol):
    """What :func:`answer` uses of :class:`kosql.ask.service.Asker` (not imported: it calls this module)."""

    backend: Any
    params: GenerationParams
    dialect: str

    def prompt(self, question: str) -> tuple[str, list[str]]: ...

    def extract_sql(self, generated_text: str) -> str: ...

    def run_sql(self, question: str, sql: str, *, tables: list[str] | None = None) -> Any: ...

    def prompt_columns(self) -> dict[str, list[str]]: ...


@dataclass
class _Ran:
    """What the vote compares of an AskResult."""

    ok: bool
    rows: list[Any]
    truncated: bool


def answer(asker: Asker, question: str, *, vote: int = 0, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
           generate: GenerateFn | None = None) -> Any:
    """The answer to ``question`` (module docstring), an :class:`~kosql.ask.service.AskResult`; never
    raises for a refused or failed query. Raises :class:`~kosql.models.base.ModelCallFailed` when the
    model gave no text at all (greedy and every sample failed)."""
    if generate is None:
        if asker.backend is None:
            raise UserError("this Asker has no model backend; pass backend= or use run_sql().")
        generate = asker.backend.generate
    prompt, tables = asker.prompt(question)
    start = time.monotonic()
    greedy = generate([prompt], asker.params)[0]
    samples = sample(generate, [prompt], asker.params, vote)[0] if vote > 0 else []
    generate_s = time.monotonic() - start
    if greedy.error is not None and all(g.error is not None for g in samples):
        raise ModelCallFailed(greedy.error)  # no SQL at all: a failed model call, never an empty query
    answers: dict[str, Any] = {}  # SQL -> its AskResult

    def run(sql: str) -> tuple[Any, str | None]:
        if sql not in answers:
            answers[sql] = asker.run_sql(question, sql, tables=tables)
        res = answers[sql]
        return _Ran(res.error is None, res.rows, res.truncated), res.error

    pool = [Candidate(asker.extract_sql(greedy.text), origin=GREEDY, raw=greedy.text, error=greedy.error)]
    pool += [Candidate(asker.extract_sql(g.text), raw=g.text, error=g.error) for g in samples]
    for cand in pool:
        if cand.error is None:
            run_candidate(cand, run, asker.dialect)
    start = time.monotonic()
    _retry_missing(asker, question, pool, run, generate)
    generate_s += time.monotonic() - start
    outcome = cast_vote(pool)
    chosen = pool[outcome.winner if outcome.winner is not None else 0]
    result = answers.get(chosen.sql) or asker.run_sql(question, chosen.sql, tables=tables)
    result = dataclasses.replace(result, timings={**result.timings, "generate": generate_s})
    result.repair = dict(chosen.repair) if chosen.repair else None
    if vote > 0:
        result.vote = {**vote_record(pool, outcome, vote), "confident": outcome.confident(min_confidence),
                       "min_confidence": min_confidence}
    return result


def _retry_missing(asker: Asker, question: str, pool: list[Candidate], run: Callable[[str], tuple[Any, str | None]],
                   generate: GenerateFn) -> None:
    """One retry for each distinct SQL that failed on an unknown column or table (one batched call)."""
    from kosql.prompts import followup_question

    failed = [c for c in pool if c.repair is None and names_missing(c.error)]
    distinct = list(dict.fromkeys(c.sql for c in failed))
    if not distinct:
        return
    columns = asker.prompt_columns()
    prompts = [asker.prompt(followup_question(question, sql, str(next(c.error for c in failed if c.sql == sql)),
                                              real_columns(sql, columns)))[0] for sql in distinct]
    gens = generate(prompts, dataclasses.replace(asker.params, num_return_sequences=1))
    by_sql = dict(zip(distinct, gens, strict=False))
    for cand in failed:
        if cand.sql in by_sql:
            retry(cand, by_sql[cand.sql], run, asker.dialect)


def describe_vote(vote: dict[str, Any]) -> list[str]:
    """The vote in plain lines for a terminal: the confidence, and when it is below the threshold, that
    kosql is not sure, with every distinct candidate SQL and its votes (or why it failed)."""
    total = len(vote.get("candidates") or []) or 1
    share = float(vote.get("share") or 0.0)
    won = (vote.get("groups") or [0])[0] if vote.get("groups") else 0
    greedy = "the greedy answer agrees" if vote.get("greedy_agreed") else "the greedy answer disagrees"
    line = f"Confidence: {share:.0%} ({won} of {total} candidates return this result; {greedy})."
    if vote.get("confident"):
        return [line]
    lines = [f"Not sure: confidence {share:.0%}, below --min-confidence {float(vote.get('min_confidence') or 0):.0%}"
             " - the candidates disagree, so no answer is shown as the answer. The candidates:"]
    seen: set[str] = set()
    for cand in vote.get("candidates") or []:
        sql = str(cand.get("sql") or "")
        if sql in seen:
            continue
        seen.add(sql)
        if cand.get("group") is None:
            lines.append(f"  [failed: {cand.get('error')}] {sql or '(no SQL)'}")
        else:
            n = (vote.get("groups") or [])[int(cand["group"])]
            lines.append(f"  [{n} vote{'s' if n != 1 else ''}] {sql}")
    return lines
