"""LLM-as-judge over any OpenAI-compatible API: resumable, rate-limited, one result per row.

``run_judge`` sends the seed's judge prompt (:data:`kosql.prompts.JUDGE_PROMPT_TEMPLATE`) as the
system message with ``response_format={"type": "json_object"}`` for every (row, judge model) pair
that has no result yet in ``OUT/judgments.jsonl``, and appends each result there (flushed) the
moment it finishes. On start the file is repaired: a torn last line (kill -9 during a write) is cut
off; results for a prompt that has changed since are dropped; failed results are dropped too and
sent again (unless ``retry_failed`` is False). A lock (``flock``) stops two runs writing the same folder.

A failed request (after the client's retries) is stored as ``status: failed`` with its
``error_kind``; it is never a verdict. A rejected key or an unknown model aborts the run with a
``UserError`` instead (nothing is stored for it). Summaries and costs: :mod:`kosql.evaluate.judge_report`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from kosql.data.rows import Example
from kosql.errors import UserError
from kosql.evaluate.judge_parse import parse_verdict
from kosql.http.client import CallResult, ClientConfig, OpenAIClient
from kosql.http.ratelimit import count_tokens
from kosql.progress import ProgressBar
from kosql.prompts import JUDGE_PROMPT_TEMPLATE, make_judge_prompt

JUDGMENTS_FILE = "judgments.jsonl"


@dataclass(frozen=True)
class JudgeItem:
    """One row to judge: its id, the generated SQL and the full judge prompt."""

    id: str
    gen_sql: str
    prompt: str

    @property
    def prompt_sha(self) -> str:
        return hashlib.sha256(self.prompt.encode("utf-8")).hexdigest()[:16]


@dataclass
class JudgeSettings:
    """What to send: judge models (several = majority vote), template and request options."""

    models: list[str]
    template: str = JUDGE_PROMPT_TEMPLATE
    json_mode: bool = True
    temperature: float = 0.0
    max_tokens: int | None = None
    retry_failed: bool = True


@dataclass
class JudgeRun:
    """What one ``run_judge`` call did."""

    records: list[dict[str, Any]]
    sent: int
    reused: int
    repaired: list[str] = field(default_factory=list)
    seconds: float = 0.0
    attempts_sent: int = 0


# -- inputs -------------------------------------------------------------------------------------
def load_template(path: str | Path) -> str:
    """A judge template file with {context} {question} {answer} {gen_sql} (literal braces doubled)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{p}: no such template file.") from None
    try:
        make_judge_prompt("", "", "", "", template=text)
    except KeyError as exc:
        raise UserError(f"{p}: unknown placeholder {{{exc.args[0]}}}; use {{context}} {{question}} "
                        "{answer} {gen_sql} and double literal braces like {{\"resolve_yn\": \"\"}}.") from None
    except (ValueError, IndexError) as exc:
        raise UserError(f"{p}: the template is not a valid format string ({exc}); double literal braces.") from None
    return text


def build_items(examples: Iterable[Example], predictions: dict[str, str],
                template: str = JUDGE_PROMPT_TEMPLATE) -> list[JudgeItem]:
    """One item per example that has a prediction, in dataset order."""
    items = []
    for ex in examples:
        if ex.id in predictions:
            sql = predictions[ex.id]
            items.append(JudgeItem(ex.id, sql, make_judge_prompt(ex.context, ex.question, ex.answer,
                                                                 sql, template=template)))
    return items


# -- the results file ---------------------------------------------------------------------------
class JudgmentStore:
    """``judgments.jsonl``: one JSON object per (id, judge), appended and flushed as results finish."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh: IO[str] | None = None

    def load(self) -> tuple[list[dict[str, Any]], list[str]]:
        """The stored records (last one wins per (id, judge)) and notes about repairs made."""
        notes: list[str] = []
        if not self.path.exists():
            return [], notes
        data = self.path.read_bytes()
        cut = data.rfind(b"\n") + 1
        if cut < len(data):  # a torn last line from a killed writer
            notes.append(f"dropped a torn last line ({len(data) - cut} bytes)")
            with self.path.open("r+b") as fh:
                fh.truncate(cut)
            data = data[:cut]
        records: dict[tuple[str, str], dict[str, Any]] = {}
        lines = data.decode("utf-8", "replace").splitlines()
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                if lineno == len(lines):
                    notes.append("dropped a malformed last line")
                    continue
                raise UserError(f"{self.path}: line {lineno} is not valid JSON; fix or delete that line.") from None
            key = (str(obj.get("id")), str(obj.get("judge")))
            if key in records:
                notes.append(f"kept the last of duplicate results for row {key[0]}")
            records[key] = obj
        return list(records.values()), notes

    def rewrite(self, records: Iterable[dict[str, Any]]) -> None:
        """Replace the file atomically with ``records``."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            for rec in records:
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        os.replace(tmp, self.path)

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a", encoding="utf-8")
        try:
            import fcntl

            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # not on POSIX: no lock
            pass
        except OSError:
            self.close()
            raise UserError(f"{self.path}: another kosql judge run is writing this file; "
                            "wait for it or use another --out.") from None

    def append(self, record: dict[str, Any]) -> None:
        if self._fh is None:
            raise RuntimeError("JudgmentStore.open() first")
        self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._fh.flush()  # survives kill -9 (the OS has it); not a power cut (no fsync)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def make_record(item: JudgeItem, model: str, result: CallResult) -> dict[str, Any]:
    """The stored result of one judge call (pure)."""
    rec: dict[str, Any] = {"id": item.id, "judge": model, "prompt_sha": item.prompt_sha,
                           "attempts": result.attempts, "seconds": round(result.seconds, 4)}
    if result.ok:
        verdict = parse_verdict(result.text)
        rec.update(status="ok", verdict=verdict.label, parse=verdict.how, raw=result.text)
    else:
        rec.update(status="failed", verdict=None, error_kind=result.error_kind, error=result.error,
                   http_status=result.status)
    estimated = not result.prompt_tokens
    rec["prompt_tokens"] = result.prompt_tokens or (count_tokens(item.prompt) + 6 if result.ok else 0)
    rec["completion_tokens"] = result.completion_tokens or (count_tokens(result.text or "") if result.ok else 0)
    rec["tokens_estimated"] = estimated and result.ok
    return rec


def fatal_error(result: CallResult, base_url: str, model: str) -> str | None:
    """The one sentence for a failure that every row would hit (bad key, unknown model/URL)."""
    if result.status in (401, 403):
        return (f"The judge server at {base_url} rejected the API key (HTTP {result.status}); "
                "check --api-key-env.")
    if result.status == 404:
        if result.error_code == "model_not_found" or "model" in (result.error or "").lower():
            return f"The judge server at {base_url} has no model '{model}' (HTTP 404 model_not_found)."
        return (f"The judge server at {base_url} answered HTTP 404 for chat/completions; "
                "check --base-url (it usually ends in /v1).")
    return None


def plan(items: Sequence[JudgeItem], models: Sequence[str], stored: list[dict[str, Any]],
         retry_failed: bool) -> tuple[list[dict[str, Any]], list[tuple[JudgeItem, str]], list[str]]:
    """(records to keep, (item, model) pairs to send, notes) from what is stored (pure)."""
    sha = {it.id: it.prompt_sha for it in items}
    keep: list[dict[str, Any]] = []
    notes: list[str] = []
    stale = failed = 0
    for rec in stored:
        rid = str(rec.get("id"))
        if rid in sha and rec.get("prompt_sha") != sha[rid]:
            stale += 1
            continue
        if retry_failed and rec.get("status") == "failed" and rid in sha:
            failed += 1
            continue
        keep.append(rec)
    if stale:
        notes.append(f"{stale} stored result(s) were for a different prompt and will be redone")
    if failed:
        notes.append(f"{failed} failed result(s) will be retried")
    done = {(str(r.get("id")), str(r.get("judge"))) for r in keep}
    todo = [(it, m) for it in items for m in models if (it.id, m) not in done]
    return keep, todo, notes


# -- running ------------------------------------------------------------------------------------
async def preflight(client: OpenAIClient, models: Sequence[str]) -> None:
    """GET /models: a clear UserError when the server is unreachable, refuses the key or lacks a model."""
    url = client.config.base_url
    try:
        served = await client.list_models()
    except httpx.ConnectError:
        raise UserError(f"Cannot connect to the judge server at {url}; is it running and is --base-url right?") from None
    except httpx.TimeoutException:
        raise UserError(f"The judge server at {url} did not answer within {client.config.timeout:g} s.") from None
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code in (401, 403):
            raise UserError(f"The judge server at {url} rejected the API key "
                            f"(HTTP {exc.response.status_code}); check --api-key-env.") from None
        return  # a server without /models: the first request will tell
    except (httpx.HTTPError, ValueError, AttributeError):
        return
    missing = [m for m in models if served and m not in served]
    if missing:
        shown = ", ".join(served[:8]) + (", ..." if len(served) > 8 else "")
        raise UserError(f"The judge server at {url} has no model '{missing[0]}' (it serves: {shown}).")


async def _judge_async(todo: list[tuple[JudgeItem, str]], settings: JudgeSettings, config: ClientConfig,
                       store: JudgmentStore, on_done: Callable[[dict[str, Any]], None],
                       check_server: bool, client_factory: Callable[[ClientConfig], OpenAIClient]) -> int:
    async with client_factory(config) as client:
        if check_server:
            await preflight(client, settings.models)
        store.open()  # only now: a run stopped by a bad URL/key/model leaves no file behind
        params: dict[str, Any] = {"temperature": settings.temperature}
        if settings.json_mode:
            params["response_format"] = {"type": "json_object"}
        if settings.max_tokens is not None:
            params["max_tokens"] = settings.max_tokens

        async def one(item: JudgeItem, model: str) -> None:
            result = await client.chat([{"role": "system", "content": item.prompt}], model, **params)
            fatal = None if result.ok else fatal_error(result, config.base_url, model)
            if fatal:
                raise UserError(fatal)
            record = make_record(item, model, result)
            store.append(record)
            on_done(record)

        try:
            async with asyncio.TaskGroup() as group:
                for item, model in todo:
                    group.create_task(one(item, model))
        except* UserError as eg:
            raise eg.exceptions[0] from None
        return client.attempts_sent


def run_judge(items: Sequence[JudgeItem], settings: JudgeSettings, config: ClientConfig,
              out_dir: str | Path, *, progress: bool = True, check_server: bool = True,
              client_factory: Callable[[ClientConfig], OpenAIClient] = OpenAIClient) -> JudgeRun:
    """Judge every (item, model) pair not yet in ``out_dir/judgments.jsonl``; returns all records."""
    start = time.perf_counter()
    store = JudgmentStore(Path(out_dir) / JUDGMENTS_FILE)
    stored, notes = store.load()
    keep, todo, plan_notes = plan(items, settings.models, stored, settings.retry_failed)
    notes += plan_notes
    if len(keep) != len(stored) or any("duplicate" in n for n in notes):
        store.rewrite(keep)
    records = list(keep)
    attempts = 0
    try:
        if todo:
            with ProgressBar("judging", len(todo), enabled=progress) as bar:
                def on_done(rec: dict[str, Any]) -> None:
                    records.append(rec)
                    bar.advance()

                attempts = asyncio.run(_judge_async(todo, settings, config, store, on_done,
                                                    check_server, client_factory))
    finally:
        store.close()
    return JudgeRun(records=records, sent=len(todo), reused=len(keep), repaired=notes,
                    seconds=time.perf_counter() - start, attempts_sent=attempts)
