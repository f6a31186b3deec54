"""Evaluation speed: EX and test-suite EX (K=8) over >= 1,000 (gold, pred) pairs, both cores.

Pairs come from the bundled synthetic dataset (all splits): half the predictions are the gold SQL,
a quarter are another gold query of the same database (wrong results, some errors), a quarter are
gold with a changed number (near misses). EX runs on the bundled SQLite databases; test-suite EX
runs on the same rows with ``db_path`` removed (databases built from the DDL). Isolation is the
normal one (read-only, authorizer, time limit, row cap). Times are end to end: worker start,
imports and database building included.

Run: ``.venv/bin/python bench/eval_speed.py [--pairs 2000] [--workers 2]``; writes
``bench/results/eval_speed.json`` and ``.md``. Targets: EX >= 500 pairs/s, test-suite >= 50 pairs/s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import time
from pathlib import Path
from typing import Any

from kosql.data.load import load_examples
from kosql.data.rows import Example
from kosql.data.synth import bundled_dataset
from kosql.evaluate.api import evaluate_predictions

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {"ex": 500.0, "testsuite": 50.0}


def make_pairs(n: int, seed: int = 0) -> tuple[list[Example], dict[str, str]]:
    folder = bundled_dataset("small")
    rows: list[Example] = []
    for split in ("train", "dev", "test"):
        part = load_examples(folder / f"{split}.jsonl")
        for ex in part:
            ex.extra["db_path"] = str((folder / str(ex.extra["db_path"])).resolve())
            ex.id = f"{split}:{ex.id}"
        rows.extend(part)
    rng = random.Random(seed)
    rows = (rows * (n // len(rows) + 1))[:n] if n > len(rows) else rng.sample(rows, n)
    rows = [Example(f"{i}:{ex.id}", ex.db_id, ex.context, ex.question, ex.answer, dict(ex.extra))
            for i, ex in enumerate(rows)]
    by_db: dict[str, list[str]] = {}
    for ex in rows:
        by_db.setdefault(ex.db_id, []).append(ex.answer)
    preds: dict[str, str] = {}
    for ex in rows:
        r = rng.random()
        if r < 0.5:
            preds[ex.id] = ex.answer
        elif r < 0.75:
            preds[ex.id] = rng.choice(by_db[ex.db_id])
        else:
            preds[ex.id] = re.sub(r"\b(\d+)\b", lambda m: str(int(m.group(1)) + 1), ex.answer, count=1)
    return rows, preds


def run(label: str, examples: list[Example], preds: dict[str, str], **kw: Any) -> dict[str, Any]:
    start = time.monotonic()
    report = evaluate_predictions(examples, preds, progress=False, **kw)
    seconds = time.monotonic() - start
    out = {"label": label, "pairs": len(examples), "seconds": round(seconds, 3),
           "pairs_per_second": round(len(examples) / seconds, 1),
           "accuracy": report.metrics["overall"]["exec"]["acc"],
           "categories": report.metrics["categories"], **{k: v for k, v in kw.items()}}
    print(f"{label:<40} {out['pairs']:>6} pairs {seconds:7.2f} s {out['pairs_per_second']:>8.1f} pairs/s "
          f"acc={out['accuracy']:.3f}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--ts-pairs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    examples, preds = make_pairs(args.pairs)
    results = [
        run("EX (no EM), 1 worker", examples, preds, workers=1, em=False),
        run(f"EX (no EM), {args.workers} workers", examples, preds, workers=args.workers, em=False),
        run(f"EX + EM, {args.workers} workers", examples, preds, workers=args.workers, em=True),
    ]
    ts_examples = []
    for ex in examples[: args.ts_pairs]:
        extra = {k: v for k, v in ex.extra.items() if k != "db_path"}
        ts_examples.append(Example(ex.id, ex.db_id, ex.context, ex.question, ex.answer, extra))
    results.append(run(f"test-suite K=8 (no EM), {args.workers} workers", ts_examples, preds,
                       workers=args.workers, em=False, k=8, testsuite="auto"))
    ex_rate = results[1]["pairs_per_second"]
    ts_rate = results[3]["pairs_per_second"]
    summary = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "targets": TARGETS,
        "ex_pairs_per_second": ex_rate,
        "testsuite_pairs_per_second": ts_rate,
        "ex_meets_target": ex_rate >= TARGETS["ex"],
        "testsuite_meets_target": ts_rate >= TARGETS["testsuite"],
        "runs": results,
        "note": "2-core machine shared with other jobs; times include worker start and imports.",
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "eval_speed.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
    lines = ["# Evaluation speed", "", f"{os.cpu_count()} CPUs, Python {platform.python_version()}; "
             "bundled synthetic dataset; shared machine, end-to-end times.", "",
             "| run | pairs | seconds | pairs/s | accuracy |", "|---|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['label']} | {r['pairs']} | {r['seconds']} | {r['pairs_per_second']} | "
                     f"{r['accuracy']:.3f} |")
    lines += ["", f"Targets: EX >= {TARGETS['ex']:.0f} pairs/s ({'met' if summary['ex_meets_target'] else 'NOT met'}), "
              f"test-suite K=8 >= {TARGETS['testsuite']:.0f} pairs/s "
              f"({'met' if summary['testsuite_meets_target'] else 'NOT met'})."]
    (RESULTS / "eval_speed.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
