"""The page's API: ``/api/sql``, ``/api/ask``, ``/api/run`` and ``/api/feedback``.

All of them go through :class:`kosql.ask.Asker`, the same path as `kosql ask`: the prompt and SQL
extraction come from it, generation from the server's micro-batcher, and the guard, cost check and
read-only execution from ``Asker.run_sql`` (in a worker thread). ``/api/ask`` answers as `kosql ask`
does (:func:`kosql.vote.ask.answer`: repairs, and with ``--vote`` the ``vote`` field with the confidence).
``/api/run`` re-runs SQL the user edited through the same guard.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from kosql.messages import korean
from kosql.models.base import Generation, GenerationParams, check_generated
from kosql.models.prompting import render_prompt
from kosql.prompts import STOP_STRINGS
from kosql.serve.chart import chart_spec
from kosql.serve.errors import APIError, check_api_key
from kosql.serve.feedback import feedback_row
from kosql.serve.state import ServeState
from kosql.sql.extract import extract_sql
from kosql.vote.ask import answer as answer_question


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SqlRequest(_Body):
    question: str
    ddl: str | None = None


class AskRequest(_Body):
    question: str


class RunRequest(_Body):
    sql: str
    question: str = ""


class FeedbackRequest(_Body):
    question: str
    sql: str
    kind: Literal["correct", "corrected"]
    model_sql: str | None = None


def _question(state: ServeState, text: str, *, required: bool = True) -> str:
    question = text.strip()
    if required and not question:
        raise APIError(400, "The question is empty: write a question first.", code="empty_question",
                       param="question")
    limit = state.config.max_question_chars
    if len(question) > limit:
        raise APIError(400, f"The question is {len(question)} characters long; at most {limit} are accepted.",
                       code="question_too_long", param="question")
    return question


def _asker(state: ServeState) -> Any:
    if state.asker is None:
        raise APIError(400, "This server has no database: start it with --db to ask questions.", code="no_database")
    return state.asker


def _params(state: ServeState) -> GenerationParams:
    """The Asker's generation settings (those of `kosql ask`), batched up to the server's batch size."""
    base = getattr(state.asker, "params", None) or GenerationParams(max_new_tokens=state.config.sql_max_tokens,
                                                                    stop=STOP_STRINGS)
    return replace(base, batch_size=state.config.max_batch)


async def _generate_sql(state: ServeState, prompt: str) -> tuple[str, float]:
    """(generated text, seconds from queueing to the answer)."""
    start = time.perf_counter()
    gens = check_generated(await state.batcher.generate([prompt], _params(state)))
    return gens[0].text, time.perf_counter() - start


def _batched(state: ServeState, loop: asyncio.AbstractEventLoop
             ) -> Callable[[Sequence[str], GenerationParams], list[Generation]]:
    """Generation through the server's micro-batcher, for :func:`kosql.vote.ask.answer` in a worker thread
    (greedy, samples and retries of concurrent questions batch together)."""

    def generate(prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        future = asyncio.run_coroutine_threadsafe(
            state.batcher.generate(prompts, replace(params, batch_size=state.config.max_batch)), loop)
        return future.result()

    return generate


def _answer(result: Any, extra_timings: dict[str, float] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = result.to_dict()
    if extra_timings:
        out["timings"] = {**(out.get("timings") or {}), **{k: round(v, 4) for k, v in extra_timings.items()}}
    out["chart"] = chart_spec(out.get("columns") or [], out.get("rows") or []) if not out.get("error") else None
    out["ko"] = _korean(result)
    return out


def _korean(result: Any) -> dict[str, Any]:
    """The guard's and the cost check's sentences in Korean, for the page (:mod:`kosql.messages`); the
    answer's other fields keep the English the CLI prints."""
    verdict = result.verdict
    return {"reason": korean(verdict.reason), "notes": [korean(n) for n in verdict.notes],
            "cost": korean(result.cost), "error": korean(result.error)}


def ask_router(state: ServeState) -> APIRouter:
    """The /api routes of one server."""

    def auth(request: Request) -> None:
        check_api_key(request, state.config.api_key)

    router = APIRouter(prefix="/api", dependencies=[Depends(auth)])

    @router.post("/sql")
    async def sql(req: SqlRequest) -> dict[str, Any]:
        question = _question(state, req.question)
        if req.ddl and req.ddl.strip():
            prompt, tables = render_prompt(req.ddl.strip(), question, state.prompt_format, state.backend), []
            text, seconds = await _generate_sql(state, prompt)
            answer = extract_sql(text)
        else:
            asker = _asker(state)
            prompt, tables = asker.prompt(question)
            text, seconds = await _generate_sql(state, prompt)
            answer = asker.extract_sql(text)
        return {"question": question, "sql": answer, "generated": text, "tables": tables,
                "timings": {"generate": round(seconds, 4)}}

    @router.post("/ask")
    async def ask(req: AskRequest) -> dict[str, Any]:
        question = _question(state, req.question)
        asker = _asker(state)
        result = await run_in_threadpool(answer_question, asker, question, vote=state.config.vote,
                                         min_confidence=state.config.min_confidence,
                                         generate=_batched(state, asyncio.get_running_loop()))
        return _answer(result)

    @router.post("/run")
    async def run(req: RunRequest) -> dict[str, Any]:
        question = _question(state, req.question, required=False)
        if not req.sql.strip():
            raise APIError(400, "The SQL is empty: write a query first.", code="empty_sql", param="sql")
        if len(req.sql) > state.config.max_prompt_chars:
            raise APIError(400, "The SQL is too long.", code="sql_too_long", param="sql")
        asker = _asker(state)
        result = await run_in_threadpool(asker.run_sql, question, req.sql)
        return _answer(result)

    @router.post("/feedback")
    async def feedback(req: FeedbackRequest) -> dict[str, Any]:
        question = _question(state, req.question)
        asker = _asker(state)
        if not req.sql.strip():
            raise APIError(400, "The SQL is empty: there is nothing to save.", code="empty_sql", param="sql")
        checked = await run_in_threadpool(asker.run_sql, question, req.sql)  # the same guard as a run
        if checked.error:
            raise APIError(400, f"This SQL is not saved: {checked.error}", code="refused_sql", param="sql")
        if state.feedback is None:
            raise APIError(400, "This server does not save feedback.", code="no_feedback_file")
        context = await run_in_threadpool(asker.prompt_ddl, question, req.sql)  # what the model is shown
        row = feedback_row(db_id=state.db_id or "db", context=context, question=question, sql=req.sql,
                           kind=req.kind, model_sql=req.model_sql, db_path=state.db_path)
        await run_in_threadpool(state.feedback.append, row)
        return {"saved": True, "id": row["id"], "path": str(state.feedback.path)}

    return router
