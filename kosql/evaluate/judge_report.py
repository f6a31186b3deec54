"""Summaries of judge results: final verdicts (majority vote), yes-rate with a 95 % Wilson interval,
failures by kind, tokens, estimated cost, agreement with EX; writes judgments.csv and summary.json.

Costs are ESTIMATES: tokens (as reported by the server, else counted locally) times a price table
in USD per 1M tokens. The built-in table holds list prices of a few OpenAI models as published in
2025; pass ``--price-table FILE`` (YAML or JSON: ``model: {input: X, output: Y}``, per 1M tokens) to
override or extend it. A model matches its exact name or the longest table key it starts with.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kosql.errors import UserError
from kosql.evaluate.agreement import compare_with_ex, wilson_interval

# USD per 1M tokens (input, output): list prices, 2025; estimates only.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-4": (30.00, 60.00),
    "gpt-3.5-turbo": (0.50, 1.50),
}


def load_price_table(path: str | Path | None) -> dict[str, tuple[float, float]]:
    """The built-in prices updated with the entries of a YAML/JSON file (per 1M tokens)."""
    table = dict(DEFAULT_PRICES)
    if path is None:
        return table
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{p}: no such price table file.") from None
    import yaml  # JSON is YAML too

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{p}: is not valid YAML/JSON ({exc.__class__.__name__}).") from None
    if not isinstance(data, dict):
        raise UserError(f"{p}: must map model names to {{input: X, output: Y}} (USD per 1M tokens).")
    for model, value in data.items():
        try:
            if isinstance(value, dict):
                pin: Any = value.get("input", value.get("input_per_1m"))
                pout: Any = value.get("output", value.get("output_per_1m"))
                table[str(model)] = (float(pin), float(pout))
            else:
                table[str(model)] = (float(value[0]), float(value[1]))
        except (TypeError, ValueError, IndexError, KeyError):
            raise UserError(f"{p}: entry '{model}' needs numeric input and output prices per 1M tokens.") from None
    return table


def price_for(model: str, table: Mapping[str, tuple[float, float]]) -> tuple[float, float] | None:
    """The (input, output) price of ``model``: exact key, else the longest key it starts with."""
    if model in table:
        return table[model]
    keys = [k for k in table if model.startswith(k)]
    return table[max(keys, key=len)] if keys else None


def final_verdicts(ids: Sequence[str], records: Sequence[dict[str, Any]], models: Sequence[str]
                   ) -> dict[str, dict[str, Any]]:
    """Per row: ``verdict`` (yes/no by majority of parsed votes; ``tie``; ``unparsed``; ``failed``;
    ``missing``) and ``votes`` (judge -> its verdict or 'failed')."""
    by_key = {(str(r["id"]), str(r["judge"])): r for r in records}
    out: dict[str, dict[str, Any]] = {}
    for rid in ids:
        votes: dict[str, str] = {}
        for m in models:
            rec = by_key.get((rid, m))
            if rec is not None:
                votes[m] = rec["verdict"] if rec.get("status") == "ok" else "failed"
        counts = Counter(votes.values())
        if not votes:
            verdict = "missing"
        elif counts["yes"] > counts["no"]:
            verdict = "yes"
        elif counts["no"] > counts["yes"]:
            verdict = "no"
        elif counts["yes"]:
            verdict = "tie"
        elif counts["unparsed"]:
            verdict = "unparsed"
        else:
            verdict = "failed"
        out[rid] = {"verdict": verdict, "votes": votes}
    return out


def summarize(ids: Sequence[str], records: Sequence[dict[str, Any]], models: Sequence[str], *,
              prices: Mapping[str, tuple[float, float]], ex: Mapping[str, bool] | None = None,
              extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The summary dict written to summary.json (pure)."""
    idset = set(ids)
    current = [r for r in records if str(r["id"]) in idset and r.get("judge") in models]
    finals = final_verdicts(ids, current, models)
    counts = Counter(f["verdict"] for f in finals.values())
    yes, no = counts["yes"], counts["no"]
    lo, hi = wilson_interval(yes, yes + no)
    failures = Counter(str(r.get("error_kind")) for r in current if r.get("status") == "failed")
    per_judge: dict[str, Any] = {}
    total_cost: float | None = 0.0
    for m in models:
        recs = [r for r in current if r["judge"] == m]
        c = Counter(r["verdict"] if r.get("status") == "ok" else "failed" for r in recs)
        pin = sum(int(r.get("prompt_tokens") or 0) for r in recs)
        pout = sum(int(r.get("completion_tokens") or 0) for r in recs)
        price = price_for(m, prices)
        cost = None if price is None else pin / 1e6 * price[0] + pout / 1e6 * price[1]
        total_cost = None if cost is None or total_cost is None else total_cost + cost
        decided = c["yes"] + c["no"]
        per_judge[m] = {"yes": c["yes"], "no": c["no"], "unparsed": c["unparsed"], "failed": c["failed"],
                        "yes_rate": c["yes"] / decided if decided else None,
                        "prompt_tokens": pin, "completion_tokens": pout,
                        "attempts": sum(int(r.get("attempts") or 0) for r in recs),
                        "cost_usd_estimate": cost, "price_per_1m": list(price) if price else None}
    summary: dict[str, Any] = {
        "rows": len(ids), "judges": list(models),
        "verdicts": {k: counts[k] for k in ("yes", "no", "tie", "unparsed", "failed", "missing")},
        "yes_rate": yes / (yes + no) if yes + no else None,
        "yes_rate_ci95": [lo, hi] if yes + no else None,
        "yes_rate_note": "yes / (yes + no); unparsed, tied and failed rows are excluded",
        "failures_by_kind": dict(sorted(failures.items())),
        "tokens": {"prompt": sum(p["prompt_tokens"] for p in per_judge.values()),
                   "completion": sum(p["completion_tokens"] for p in per_judge.values()),
                   "estimated_rows": sum(1 for r in current if r.get("tokens_estimated"))},
        "cost_usd_estimate": total_cost,
        "cost_note": "estimate: tokens x price table (USD per 1M tokens); null when a judge has no price",
        "per_judge": per_judge,
    }
    if ex is not None:
        judge_map = {rid: f["verdict"] for rid, f in finals.items()}
        summary["agreement_with_ex"] = compare_with_ex(judge_map, ex).to_dict()
    summary.update(dict(extra or {}))
    return summary


def write_outputs(out_dir: str | Path, ids: Sequence[str], records: Sequence[dict[str, Any]],
                  models: Sequence[str], summary: dict[str, Any], ex: Mapping[str, bool] | None = None
                  ) -> tuple[Path, Path]:
    """Write ``judgments.csv`` (one row per id) and ``summary.json``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    finals = final_verdicts(ids, records, models)
    by_key = {(str(r["id"]), str(r["judge"])): r for r in records}
    csv_path = out / "judgments.csv"
    multi = len(models) > 1
    header = ["id", "verdict"] + ([f"judge:{m}" for m in models] if multi else [])
    header += ["ex", "raw", "error_kind", "error", "attempts", "prompt_tokens", "completion_tokens"]
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for rid in ids:
            f = finals[rid]
            recs = [by_key[(rid, m)] for m in models if (rid, m) in by_key]
            row: list[Any] = [rid, f["verdict"]]
            if multi:
                row += [f["votes"].get(m, "") for m in models]
            row += ["" if ex is None or rid not in ex else ex[rid],
                    " | ".join(str(r.get("raw") or "") for r in recs),
                    " | ".join(str(r.get("error_kind")) for r in recs if r.get("status") == "failed"),
                    " | ".join(str(r.get("error")) for r in recs if r.get("status") == "failed"),
                    sum(int(r.get("attempts") or 0) for r in recs),
                    sum(int(r.get("prompt_tokens") or 0) for r in recs),
                    sum(int(r.get("completion_tokens") or 0) for r in recs)]
            w.writerow(row)
    summary_path = out / "summary.json"
    tmp = summary_path.with_name("summary.json.tmp")
    tmp.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(summary_path)
    return csv_path, summary_path
