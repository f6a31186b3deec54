"""Beam search (the schema check's candidates): each prompt computed once vs once per beam.

    .venv/bin/python bench/beams.py [--n 24] [--beams 4] [--batch-size 16] [--max-new-tokens 96]
                                    [--model smollm2-135m] [--adapter DIR]

``kosql generate --repair-beams N`` asks the model for N beam-search candidates of every row whose
greedy SQL does not compile. transformers' ``generate`` repeats each prompt N times before its
first forward pass, so a 400-token Korean prompt is computed N times. kosql's HF backend computes
the prompts once, repeats their KV cache N times, and hands it to ``generate``
(``HFBackend._prefilled_inputs``). Both ways run here side by side in one process, on the same
compact prompts of the bundled test split, same model and thread count; the candidates must be
the same. Writes bench/results/beams.json and beams.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"


def bench_prompts(n: int) -> list[str]:
    """``n`` compact prompts from the bundled test split (both test splits, in file order)."""
    from kosql.pipeline.steps import load_split
    from kosql.prompts import build_prompt

    rows = load_split("bundled:small", "test.jsonl")
    step = max(1, len(rows) // n)
    return [build_prompt(r.context, r.question, "compact") for r in rows[::step][:n]]


def run(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from kosql.models.base import GenerationParams
    from kosql.models.registry import load_backend

    prompts = bench_prompts(args.n)
    backend: Any = load_backend("hf", args.model, adapter=args.adapter)
    params = GenerationParams(max_new_tokens=args.max_new_tokens, batch_size=args.batch_size,
                              num_beams=args.beams, num_return_sequences=args.beams)
    backend.generate(prompts[:2], GenerationParams(max_new_tokens=4, batch_size=2))  # warm-up
    ways: dict[str, Any] = {}
    texts: dict[str, list[str]] = {}
    for way, shared in (("per beam", False), ("once", True)):
        backend.prefix_cache = shared
        t0 = time.perf_counter()
        gens = backend.generate(prompts, params)
        seconds = time.perf_counter() - t0
        texts[way] = [g.text for g in gens]
        ways[way] = {"seconds": round(seconds, 2), "rows_per_s": round(len(prompts) / seconds, 3),
                     "prompt_tokens": sum(g.prompt_tokens for g in gens[::args.beams]),
                     "completion_tokens": sum(g.completion_tokens for g in gens)}
    same = sum(a == b for a, b in zip(texts["per beam"], texts["once"], strict=True))
    return {"model": args.model, "adapter": args.adapter, "n": len(prompts), "beams": args.beams,
            "batch_size": args.batch_size, "max_new_tokens": args.max_new_tokens,
            "threads": torch.get_num_threads(), "ways": ways,
            "speedup": round(ways["per beam"]["seconds"] / ways["once"]["seconds"], 2),
            "same_candidates": f"{same}/{len(texts['once'])}",
            "date": time.strftime("%Y-%m-%d %H:%M")}


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# Beam search: prompt computed once vs once per beam ({report['date']})", "",
             f"{report['n']} compact prompts of the bundled test split, {report['beams']} beams and "
             f"{report['beams']} candidates each, batch {report['batch_size']}, max {report['max_new_tokens']} "
             f"new tokens; model {report['model']}" + (f" + {report['adapter']}" if report["adapter"] else "") + ".",
             "", "| way | seconds | rows/s | prompt tokens | completion tokens |", "|---|---:|---:|---:|---:|"]
    for way, r in report["ways"].items():
        lines.append(f"| {way} | {r['seconds']} | {r['rows_per_s']} | {r['prompt_tokens']} | {r['completion_tokens']} |")
    lines += ["", f"**once / per beam: {report['speedup']}x**; identical candidates: {report['same_candidates']}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=24, help="Prompts.")
    parser.add_argument("--beams", type=int, default=4, help="Beams (= candidates) per prompt.")
    parser.add_argument("--batch-size", type=int, default=16, help="Prompts per generate() call.")
    parser.add_argument("--max-new-tokens", type=int, default=96, help="Generation length limit.")
    parser.add_argument("--model", default="smollm2-135m", help="Model name or folder.")
    parser.add_argument("--adapter", default=None, help="LoRA adapter folder.")
    args = parser.parse_args(argv)
    report = run(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "beams.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    text = markdown(report)
    (RESULTS / "beams.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
