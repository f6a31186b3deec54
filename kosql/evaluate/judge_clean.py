"""The judge pass of ``kosql data clean --judge-model``: an LLM says whether each training row's SQL
answers its question; rows judged "no" are dropped, with the judge's reason.

The seed cleaned its training data this way with GPT-4 (its "clean" subset). The rule-based
cleaning (:mod:`kosql.data.clean`) cannot see a wrong answer: valid SQL on the right tables for
another question. This pass sends :data:`kosql.prompts.DATA_JUDGE_PROMPT_TEMPLATE` for every row
through the judge client (:func:`kosql.evaluate.judge.run_judge`: rate limits, retries on transient
errors, one result per row appended to ``<judge dir>/judgments.jsonl`` the moment it finishes), so
a stopped run resumes where it was and failed requests are sent again on the next run.

A row is dropped only on a "no" verdict. A reply without a verdict keeps the row (counted as
``unparsed``); a request that failed after its retries is no verdict either: the caller must not
write a cleaned file while any remain.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kosql.data.rows import Example
from kosql.errors import UserError
from kosql.evaluate.judge import JudgeSettings, build_items, run_judge
from kosql.http.client import ClientConfig, OpenAIClient
from kosql.prompts import DATA_JUDGE_PROMPT_TEMPLATE


@dataclass
class JudgedDrop:
    """A row the judge answered "no" for, and why."""

    example: Example
    reason: str
    raw: str


@dataclass
class JudgeCleanResult:
    kept: list[Example]
    dropped: list[JudgedDrop] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)  # ids kept: the reply had no verdict
    failed: dict[str, str] = field(default_factory=dict)  # id -> error of a failed request
    sent: int = 0
    reused: int = 0


def judge_reason(raw: str | None) -> str:
    """The judge's ``reason`` from its JSON reply, else the reply itself (one line, shortened)."""
    text = (raw or "").strip()
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        obj = None
    if isinstance(obj, dict) and str(obj.get("reason") or "").strip():
        text = str(obj["reason"]).strip()
    text = " ".join(text.split())
    return text[:300] + ("…" if len(text) > 300 else "")


def split_by_verdict(examples: Sequence[Example], records: Sequence[dict[str, Any]], model: str) -> JudgeCleanResult:
    """Kept rows, judged drops, unparsed and failed ids from the judge's records (pure)."""
    by_id = {str(r.get("id")): r for r in records if r.get("judge") == model}
    result = JudgeCleanResult(kept=[])
    for ex in examples:
        rec = by_id.get(ex.id)
        if rec is None or rec.get("status") != "ok":
            result.failed[ex.id] = str((rec or {}).get("error") or (rec or {}).get("error_kind") or "not judged")
            continue
        if rec.get("verdict") == "no":
            result.dropped.append(JudgedDrop(ex, judge_reason(rec.get("raw")), str(rec.get("raw") or "")))
            continue
        if rec.get("verdict") != "yes":
            result.unparsed.append(ex.id)
        result.kept.append(ex)
    return result


def judge_clean(examples: Sequence[Example], *, model: str, config: ClientConfig, work_dir: Path,
                template: str = DATA_JUDGE_PROMPT_TEMPLATE, progress: bool = True, check_server: bool = True,
                client_factory: Any = OpenAIClient) -> JudgeCleanResult:
    """Judge every row (resuming from ``work_dir/judgments.jsonl``) and split them by verdict."""
    ids = [ex.id for ex in examples]
    if len(set(ids)) != len(ids):
        raise UserError("--judge-model needs a unique id per row (the judgments are resumed by id).")
    items = build_items(examples, {ex.id: ex.answer for ex in examples}, template)
    run = run_judge(items, JudgeSettings(models=[model], template=template), config, work_dir,
                    progress=progress, check_server=check_server, client_factory=client_factory)
    result = split_by_verdict(examples, run.records, model)
    result.sent, result.reused = run.sent, run.reused
    return result


def report_markdown(result: JudgeCleanResult, *, model: str, total: int) -> str:
    """``report.md`` of the judge pass: counts, then every dropped row with the judge's reason."""
    lines = [f"# Judge pass ({model})", "",
             f"{total} rows judged: kept {len(result.kept)}, dropped {len(result.dropped)} "
             f"(judged \"no\"), {len(result.unparsed)} kept without a verdict, {len(result.failed)} failed.",
             ""]
    if result.dropped:
        lines += ["| id | question | SQL | reason |", "|---|---|---|---|"]
        for d in result.dropped:
            cells = [d.example.id, d.example.question, d.example.answer, d.reason]
            lines.append("| " + " | ".join(" ".join(c.split()).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
