"""Greedy generation: ``generate()`` vs kosql's loop that drops finished rows from the batch.

    .venv/bin/python bench/drop_finished.py [--model smollm2-135m] [--adapter RUN/train/adapter]
                                            [--n 120] [--batch-size 16] [--max-new-tokens 96] [--tag T]

``transformers``' ``generate`` keeps every row of a batch in each decoding step until the longest
answer ends (finished rows are padded), and its stop-string check decodes every row each step.
``HFBackend._greedy`` runs only the rows still going and looks for a stop string only after a token
that can end one. Both ways run side by side in one process on the quickstart's test rows (same
model, threads, prefix cache and batches); the SQL must be identical.

Writes bench/results/drop_finished.json and drop_finished.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.gen_ways import timed_generation
    from kosql.models.base import GenerationParams
    from kosql.models.hf import HFBackend
    from kosql.pipeline.steps import load_split, pick_test_rows

    rows = pick_test_rows(load_split(args.data, "test.jsonl"), 60, 0)[: args.n]
    backend = HFBackend(args.model, adapter=args.adapter)
    params = GenerationParams(max_new_tokens=args.max_new_tokens, batch_size=args.batch_size)
    backend.generate(["warm-up"], GenerationParams(max_new_tokens=2))
    ways: dict[str, Any] = {}
    preds: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for way, drop in (("generate()", False), ("drop finished rows", True)):
            backend.drop_finished = drop
            preds[way], ways[way] = timed_generation(rows, backend, Path(tmp) / f"{int(drop)}.jsonl", way,
                                                     batch_size=args.batch_size, params=params)
    base = ways["generate()"]["seconds"]
    for w in ways.values():
        w["speedup"] = round(base / w["seconds"], 2)
    same = sum(a == b for a, b in zip(preds["generate()"], preds["drop finished rows"], strict=True))
    return {"model": backend.name, "rows": len(rows), "batch_size": args.batch_size,
            "max_new_tokens": args.max_new_tokens, "ways": ways, "same_sql": same}


def write(result: dict[str, Any]) -> str:
    lines = [f"# Greedy generation: generate() vs dropping finished rows ({result['model']}, "
             f"{result['rows']} rows, batch {result['batch_size']}, max {result['max_new_tokens']} new tokens)", "",
             "| way | seconds | rows/s | completion tokens | speed-up |", "|---|---:|---:|---:|---:|"]
    for way, w in result["ways"].items():
        lines.append(f"| {way} | {w['seconds']} | {w['rows_per_s']} | {w['completion_tokens']} | {w['speedup']}x |")
    lines += ["", f"Same SQL: {result['same_sql']}/{result['rows']}."]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = "drop_finished" + (f"-{result['tag']}" if result.get("tag") else "")
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (RESULTS / f"{stem}.md").write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--adapter", default=None, help="LoRA adapter folder (a full-FT run: pass it as --model)")
    parser.add_argument("--data", default="bundled:small")
    parser.add_argument("--n", type=int, default=120)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--tag", default="", help="suffix of the result files (e.g. 'finetuned')")
    args = parser.parse_args(argv)
    result = run(args)
    result["tag"] = args.tag
    print(write(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
