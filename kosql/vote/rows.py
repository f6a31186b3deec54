"""``kosql generate --vote k``: greedy plus ``k`` sampled candidates per row, run on the row's SQLite
file, voted on by result (:func:`kosql.vote.core.vote`).

Each candidate is first compiled against the row's DDL (:func:`kosql.db.check.schema_error`: nothing
runs), then run read-only and time-limited on the row's database (:func:`kosql.db.execute.execute_sql`,
what the evaluator runs it on), with the repairs of :mod:`kosql.vote.repair`: a candidate that fails
is transpiled to SQLite, and one naming an unknown column or table is asked for once more with the
error and the real columns (one batched call per batch of rows). The gold SQL is never read.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kosql.data.rows import Example
from kosql.errors import UserError
from kosql.models.base import Backend, Generation, GenerationParams
from kosql.sql.extract import extract_sql
from kosql.vote.core import GREEDY, Candidate, vote, vote_record
from kosql.vote.repair import RETRIED, RunFn, names_missing, real_columns, retry, run_candidate

VOTE_TEMPERATURE = 0.8  # the sampled candidates' temperature (greedy decoding otherwise)
VOTE_TOP_P = 0.95

GenerateFn = Callable[[Sequence[str], GenerationParams], list[Generation]]


def sample_params(params: GenerationParams, k: int) -> GenerationParams:
    """``k`` samples per prompt: temperature 0.8 (or the user's, when sampling already), top-p 0.95,
    seeds after the greedy run's."""
    temperature = params.temperature if not params.greedy else VOTE_TEMPERATURE
    top_p = params.top_p if not params.greedy else VOTE_TOP_P
    return dataclasses.replace(params, temperature=temperature, top_p=top_p, num_beams=1,
                               num_return_sequences=k, seed=params.seed + 1)


def sample(generate: GenerateFn, prompts: Sequence[str], params: GenerationParams, k: int) -> list[list[Generation]]:
    """``k`` sampled generations of each prompt, in one call when the backend returns ``k`` a prompt,
    else ``k`` calls of one sample each with distinct seeds."""
    if k <= 0 or not prompts:
        return [[] for _ in prompts]
    many = sample_params(params, k)
    gens = generate(prompts, many)
    if len(gens) == len(prompts) * k:
        return [list(gens[i * k:(i + 1) * k]) for i in range(len(prompts))]
    out: list[list[Generation]] = [[] for _ in prompts]
    for j in range(k):
        one = generate(prompts, dataclasses.replace(many, num_return_sequences=1, seed=many.seed + j))
        for i, gen in enumerate(one[:len(prompts)]):
            out[i].append(gen)
    return out


def check_databases(examples: Sequence[Example]) -> None:
    """Refuse voting when a row has no SQLite file to run its candidates on (UserError naming it)."""
    for ex in examples:
        path = ex.db_path
        if not path or not Path(path).is_file():
            where = f"its database {path} does not exist" if path else "it has no db_path"
            raise UserError(f"--vote runs every candidate on the row's database, and row '{ex.id}' cannot be "
                            f"voted on: {where}.")


def sqlite_runner(example: Example, timeout: float) -> RunFn:
    """Run SQL on ``example``'s database: the schema check on its DDL first, then read-only execution
    (results of one SQL text are reused within the row)."""
    from kosql.db.check import schema_error
    from kosql.db.execute import execute_sql

    memo: dict[str, tuple[Any, str | None]] = {}

    def run(sql: str) -> tuple[Any, str | None]:
        if sql not in memo:
            err = schema_error(sql, example.context)
            if err is not None:
                memo[sql] = (None, err)
            else:
                res = execute_sql(str(example.db_path), sql, timeout=timeout)
                memo[sql] = (res, None if res.ok else f"{res.error_kind}: {res.error}")
        return memo[sql]

    return run


def _columns(ddl: str) -> dict[str, list[str]]:
    from kosql.data.schema import SchemaError, parse_schema

    try:
        schema = parse_schema(ddl)
    except SchemaError:
        return {}
    return {name: [c.name for c in table.columns] for name, table in schema.tables.items()}


def retry_missing(pools: Sequence[list[Candidate] | None], examples: Sequence[Example], runners: Sequence[RunFn],
                  make_prompt: Callable[[Example], str], generate: GenerateFn, params: GenerationParams) -> int:
    """Ask once more for each distinct candidate SQL that failed on an unknown column or table, with
    the error and the real columns (:func:`kosql.prompts.followup_question`), in one batched call; a
    retry that runs replaces the candidate. Returns the completion tokens the retries cost."""
    from kosql.prompts import followup_question

    asks: dict[tuple[int, str], str] = {}
    for r, pool in enumerate(pools):
        for cand in pool or []:
            if cand.repair is None and names_missing(cand.error) and (r, cand.sql) not in asks:
                ex = examples[r]
                question = followup_question(ex.question, cand.sql, str(cand.error),
                                             real_columns(cand.sql, _columns(ex.context)))
                asks[(r, cand.sql)] = make_prompt(dataclasses.replace(ex, question=question))
    if not asks:
        return 0
    keys = list(asks)
    gens = generate([asks[key] for key in keys], dataclasses.replace(params, num_return_sequences=1))
    answers = {key: gen for key, gen in zip(keys, gens, strict=False)}
    for r, pool in enumerate(pools):
        for cand in pool or []:
            gen = answers.get((r, cand.sql))
            if gen is None or cand.repair is not None or not names_missing(cand.error):
                continue
            retry(cand, gen, runners[r], "sqlite")
    return sum(int(g.completion_tokens) for g in gens)


def vote_rows(rows: list[dict[str, Any]], examples: Sequence[Example], prompts: Sequence[str], backend: Backend,
              params: GenerationParams, k: int, *, make_prompt: Callable[[Example], str],
              timeout: float = 5.0) -> None:
    """Voting for one batch of greedy prediction rows (changed in place): ``pred`` becomes the
    winning candidate's SQL (the greedy SQL stays when no candidate ran), ``vote`` records ``k``, the
    share, whether greedy agreed, the greedy SQL and every candidate; ``seconds`` and
    ``completion_tokens`` include the batch's share of the candidates' cost."""
    start = time.perf_counter()
    live = [i for i, row in enumerate(rows) if row.get("status") != "failed"]
    samples = sample(backend.generate, [prompts[i] for i in live], params, k)
    pools: list[list[Candidate] | None] = [None] * len(rows)
    runners = [sqlite_runner(ex, timeout) for ex in examples]
    tokens = [0] * len(rows)
    for i, gens in zip(live, samples, strict=True):
        row = rows[i]
        pool = [Candidate(str(row["pred"]), origin=GREEDY, raw=str(row.get("raw") or ""))]
        pool += [Candidate(extract_sql(g.text), raw=g.text, error=g.error) for g in gens]
        for cand in pool:
            if cand.error is None:
                run_candidate(cand, runners[i], "sqlite")
        pools[i] = pool
        tokens[i] = sum(int(g.completion_tokens) for g in gens)
    extra_tokens = retry_missing(pools, examples, runners, make_prompt, backend.generate,
                                 dataclasses.replace(params, num_return_sequences=1))
    share_s = (time.perf_counter() - start) / max(1, len(live))
    for i in live:
        row, voted = rows[i], pools[i]
        pool = voted if voted is not None else []
        outcome = vote(pool)
        greedy_sql = row["pred"]
        if outcome.winner is not None:
            chosen = pool[outcome.winner]
            row["pred"] = chosen.sql
            if not chosen.greedy or (chosen.repair or {}).get("how") == RETRIED:
                row["raw"] = chosen.raw
        row["vote"] = {**vote_record(pool, outcome, k), "greedy": greedy_sql}
        row["seconds"] = round(float(row.get("seconds") or 0.0) + share_s, 4)
        row["completion_tokens"] = int(row.get("completion_tokens") or 0) + tokens[i] \
            + extra_tokens // max(1, len(live))


def vote_counts(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Of the prediction rows voted on: ``k``, ``rows``, ``greedy_won`` (the greedy answer's result won),
    ``changed`` (the predicted SQL is not the greedy SQL) and ``mean_share``."""
    voted = [r for r in rows if isinstance(r.get("vote"), dict)]
    votes = [r["vote"] for r in voted]
    return {"k": votes[0].get("k") if votes else 0, "rows": len(votes),
            "greedy_won": sum(1 for v in votes if v.get("greedy_agreed")),
            "changed": sum(1 for r in voted if r["pred"] != r["vote"].get("greedy")),
            "mean_share": round(sum(float(v.get("share") or 0.0) for v in votes) / len(votes), 4) if votes else 0.0}


def vote_summary(rows: Sequence[dict[str, Any]]) -> str:
    """One line: rows voted on, how often the vote kept the greedy SQL's answer, the mean share."""
    c = vote_counts(rows)
    if not c["rows"]:
        return "vote: no row was voted on."
    return (f"vote (k = {c['k']}): {c['rows']} rows; the greedy answer won in {c['greedy_won']}, "
            f"{c['changed']} rows got another SQL; mean share {c['mean_share']:.0%}.")
