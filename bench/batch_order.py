"""Generation as the quickstart runs it: which rows share a batch, and the prompt prefix computed once.

    .venv/bin/python bench/batch_order.py [--n 120] [--batch-size 16] [--max-new-tokens 96]
                                          [--data bundled:small] [--model smollm2-135m]

``kosql generate`` / the quickstart hand the HF backend batches of rows through
``kosql.models.runner.generate_predictions``. A Text2SQL prompt is mostly its schema, and the test
rows of one database share it, so a batch whose rows share a schema needs that schema computed once
(``HFBackend._prefix_cached_inputs``, one prefix per run of rows of :func:`kosql.models.prefix.prefix_runs`).
Three ways, side by side in one process on the quickstart's test rows (same model, thread count and
settings; the SQL must be identical):

(a) plain: no prefix cache, batches of similar prompt length, every prompt token computed;
(b) length-ordered batches with the prefix cache (what the runner did before: rows of many schemas
    in one batch, so only the instruction and a few schemas are shared);
(c) the runner's order for a prefix-caching backend (prompt order: one schema's rows batch together).

Writes bench/results/batch_order.json and batch_order.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"


class _NoPrefixOrder:
    """The backend seen by the runner without its ``prefix_cache`` flag: the runner then orders rows by
    prompt length, while the backend still caches whatever prefixes a batch shares (way b)."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.name = backend.name
        self.tokenizer = backend.tokenizer

    def generate(self, prompts: Sequence[str], params: Any) -> Any:
        return self._backend.generate(prompts, params)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.gen_ways import timed_generation
    from kosql.models.base import GenerationParams
    from kosql.models.registry import load_backend
    from kosql.pipeline.steps import load_split, pick_test_rows

    rows = pick_test_rows(load_split(args.data, "test.jsonl"), 60, 0)[: args.n]
    backend: Any = load_backend("hf", args.model)
    params = GenerationParams(max_new_tokens=args.max_new_tokens, batch_size=args.batch_size)
    backend.generate(["warm-up"], GenerationParams(max_new_tokens=2))
    ways: dict[str, Any] = {}
    preds: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for way, cache, wrap in (("a plain", False, False), ("b length order + prefix cache", True, True),
                                 ("c schema order + prefix cache", True, False)):
            backend.prefix_cache = cache
            target = _NoPrefixOrder(backend) if wrap else backend
            preds[way], ways[way] = timed_generation(rows, target, Path(tmp) / f"{way[0]}.jsonl", way,
                                                     batch_size=args.batch_size, params=params)
    base = ways["a plain"]["seconds"]
    for w in ways.values():
        w["speedup_vs_plain"] = round(base / w["seconds"], 2)
    same = {w: sum(x == y for x, y in zip(preds["a plain"], p, strict=True)) for w, p in preds.items()}
    return {"rows": len(rows), "data": args.data, "model": args.model, "batch_size": args.batch_size,
            "max_new_tokens": args.max_new_tokens, "threads": __import__("torch").get_num_threads(),
            "ways": ways, "identical_sql_to_plain": same}


def markdown(r: dict[str, Any]) -> str:
    lines = ["# Batch order and prefix cache (generation as the quickstart runs it)", "",
             f"{r['rows']} test rows of `{r['data']}` (the quickstart's), `{r['model']}`, batch {r['batch_size']}, "
             f"max_new_tokens {r['max_new_tokens']}, {r['threads']} torch threads, greedy, compact prompt.", "",
             "| way | wall s | rows/s | completion tokens | speed-up vs plain | SQL identical to plain |",
             "|---|---|---|---|---|---|"]
    for way, w in r["ways"].items():
        lines.append(f"| {way} | {w['seconds']} | {w['rows_per_s']} | {w['completion_tokens']} | "
                     f"{w['speedup_vs_plain']}x | {r['identical_sql_to_plain'][way]}/{r['rows']} |")
    c, b = r["ways"]["c schema order + prefix cache"], r["ways"]["b length order + prefix cache"]
    lines += ["", f"**Schema order vs length order (both with the prefix cache): {b['seconds'] / c['seconds']:.2f}x; "
              f"vs plain: {c['speedup_vs_plain']}x.**", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=120)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--data", default="bundled:small")
    parser.add_argument("--model", default="smollm2-135m")
    args = parser.parse_args(argv)
    report = run(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "batch_order.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    text = markdown(report)
    (RESULTS / "batch_order.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
