"""Generation speed of every embedded model on each engine that runs it (CPU): ``bench/generation.py --models``.

    .venv/bin/python bench/generation.py --models [all | NAME,NAME] [--n 16] [--engines hf,llamacpp]
        [--batch-size 16] [--max-new-tokens 96] [--threads N] [--seed 0]

For each embedded model (``kosql models list``) and each engine that runs it here (``hf``: transformers
on the converted float weights, always; ``llamacpp``: the 4-bit GGUF as shipped, for the models whose
engine it is, the Qwen2.5-Coder ones, when llama-cpp-python is installed), greedy SQL is generated
for the same N rows of the bundled small test split (half held-out domains, half in-domain,
``kosql.pipeline.steps.pick_test_rows``), each model in its own recipe's prompt format (the
``data.prompt_format`` of its shipped CPU training config: compact for SmolLM2 and Gemma 3, chat for
Qwen2.5-Coder), through kosql's runner (``kosql.models.runner.generate_predictions``, as ``kosql
generate`` does) with the quickstart's batch size and token budget. Each (model, engine) runs in its
own subprocess, so its peak RSS is its own, with the same thread count (--threads, else KOSQL_THREADS,
else all cores). Each model's GGUF is assembled and converted once beforehand, outside any timing.

Reported per (model, engine): load seconds (building the backend, i.e. reading the weights; imports
excluded), seconds per row and completion tokens/s over the generation wall time (one short warm-up
generation before it is not counted), prompt tokens/s where the engine times its prompt evaluation
(llama.cpp's own counters: the prompt tokens it evaluated, i.e. after reusing the previous prompt's KV
prefix, over its prompt time; transformers gives no such split), peak RSS. For a model run on both
engines: llama.cpp against transformers side by side (speed-up per row, tokens/s ratio, RSS ratio,
rows whose extracted SQL is the same). Writes bench/results/generation-models.json and .md and prints
the table.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import models_common as common  # noqa: E402

ENGINES = ("hf", "llamacpp")
NAME = "generation-models"


def engine_plan(models: list[str], engines: list[str]) -> tuple[list[tuple[str, str]], list[dict[str, str]]]:
    """The (model, engine) pairs to measure, and the skipped ones with the reason."""
    from kosql.models.embedded import EMBEDDED_MODELS

    have_llama = importlib.util.find_spec("llama_cpp") is not None
    runs: list[tuple[str, str]] = []
    skipped: list[dict[str, str]] = []
    for model in models:
        for engine in engines:
            reason = ""
            if engine == "llamacpp" and EMBEDDED_MODELS[model].engine != "llamacpp":
                reason = "kosql runs this model with transformers only (its engine is hf)"
            elif engine == "llamacpp" and not have_llama:
                reason = "llama-cpp-python is not installed"
            if reason:
                skipped.append({"model": model, "engine": engine, "reason": reason})
            else:
                runs.append((model, engine))
    return runs, skipped


def bench_rows(n: int, seed: int) -> list[Any]:
    """``n`` rows of the bundled small test split, the same number from each of its splits."""
    from kosql.pipeline.steps import load_split, pick_test_rows

    rows = load_split("bundled:small")
    splits = {str(r.extra.get("split") or "test") for r in rows}
    return pick_test_rows(rows, max(1, n // len(splits)), seed)


def recipe_format(model: str) -> str:
    """The prompt format of the model's shipped CPU training config (what its quickstart uses)."""
    from kosql.pipeline.steps import default_train_config
    from kosql.pipeline.training import train_prompt_format

    return train_prompt_format(default_train_config(model), [f"model.name={model}"])


def _llama_perf(backend: Any, *, reset: bool = False) -> dict[str, Any] | None:
    """llama.cpp's own prompt/decode counters of the backend's context (None for other engines)."""
    llm = getattr(backend, "llm", None)
    if llm is None:
        return None
    import llama_cpp

    ctx = llm._ctx.ctx
    if reset:
        llama_cpp.llama_perf_context_reset(ctx)
        return None
    d = llama_cpp.llama_perf_context(ctx)
    return {"prompt_tokens_evaluated": int(d.n_p_eval), "prompt_eval_s": round(d.t_p_eval_ms / 1000, 3),
            "decode_tokens": int(d.n_eval), "decode_s": round(d.t_eval_ms / 1000, 3)}


def measure(model: str, engine: str, n: int, seed: int, threads: int, batch_size: int,
            max_new_tokens: int) -> dict[str, Any]:
    """Load ``model`` on ``engine`` and generate for the bench rows (in the calling process)."""
    from kosql.models.base import GenerationParams
    from kosql.models.registry import load_backend
    from kosql.models.runner import generate_predictions

    rows = bench_rows(n, seed)
    prompt_format = recipe_format(model)
    if engine == "hf":  # imports are not part of the load time
        import torch  # noqa: F401
        import transformers  # noqa: F401
    else:
        import llama_cpp  # noqa: F401
    start = time.perf_counter()
    backend = load_backend(engine, model, num_threads=threads)
    load_s = time.perf_counter() - start
    backend.generate(["SELECT"], GenerationParams(max_new_tokens=4, batch_size=1))  # warm-up, not timed
    _llama_perf(backend, reset=True)
    params = GenerationParams(max_new_tokens=max_new_tokens, batch_size=batch_size)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        preds = generate_predictions(rows, backend, Path(tmp) / "preds.jsonl", prompt_format=prompt_format,
                                     batch_size=batch_size, params=params, resume=False, progress=False)
        seconds = time.perf_counter() - start
    perf = _llama_perf(backend)
    completion = sum(int(p.get("completion_tokens") or 0) for p in preds)
    prompt_tokens = sum(int(p.get("prompt_tokens") or 0) for p in preds)
    out: dict[str, Any] = {
        "model": model, "engine": engine, "prompt_format": prompt_format, "rows": len(preds), "threads": threads,
        "load_s": round(load_s, 2), "gen_s": round(seconds, 2), "s_per_row": round(seconds / max(len(preds), 1), 3),
        "completion_tokens": completion, "completion_tokens_per_s": round(completion / seconds, 2),
        "prompt_tokens": prompt_tokens, "prompt_tokens_per_s": None,
        "hit_token_limit": sum(1 for p in preds if int(p.get("completion_tokens") or 0) >= max_new_tokens),
        "failed_rows": sum(1 for p in preds if p.get("status") == "failed"),
        "peak_rss_mb": common.peak_rss_mb(), "sql": {str(p["id"]): str(p.get("pred") or "") for p in preds},
    }
    if perf is not None:
        out["llamacpp_counters"] = perf
        if perf["prompt_eval_s"] > 0:
            out["prompt_tokens_per_s"] = round(perf["prompt_tokens_evaluated"] / perf["prompt_eval_s"], 1)
    return out


def same_sql(a: str, b: str) -> bool:
    """The same SQL up to whitespace and a final ';' (llama.cpp drops the stop string, transformers keeps it)."""
    def norm(sql: str) -> str:
        return " ".join(sql.strip().rstrip(";").split())

    return norm(a) == norm(b)


def side_by_side(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """llama.cpp against transformers for each model measured on both."""
    by_key = {(r["model"], r["engine"]): r for r in results if "error" not in r}
    pairs = []
    for (model, engine), lc in by_key.items():
        hf = by_key.get((model, "hf"))
        if engine != "llamacpp" or hf is None:
            continue
        same = sum(1 for i, sql in lc["sql"].items() if same_sql(hf["sql"].get(i, ""), sql))
        pairs.append({"model": model, "speedup_per_row": round(hf["s_per_row"] / lc["s_per_row"], 2),
                      "completion_tokens_per_s_ratio": round(lc["completion_tokens_per_s"]
                                                             / hf["completion_tokens_per_s"], 2),
                      "load_s_ratio": round(lc["load_s"] / hf["load_s"], 2) if hf["load_s"] else None,
                      "peak_rss_ratio": round(lc["peak_rss_mb"] / hf["peak_rss_mb"], 2),
                      "same_sql": same, "rows": len(lc["sql"])})
    return pairs


def markdown(report: dict[str, Any]) -> str:
    lines = ["# Generation speed per embedded model and engine (CPU)", "",
             f"{report['n_rows']} rows of the bundled small test split (held-out and in-domain), greedy, each "
             f"model in its recipe's prompt format, batch size {report['batch_size']}, max_new_tokens "
             f"{report['max_new_tokens']}, threads: {report['threads']}; {report['machine']}.", "",
             "| model | engine | prompt | load s | s/row | completion tok/s | prompt tok/s | tokens/row | "
             "at limit | peak RSS MB |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report["results"]:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['engine']} | failed: {r['error']} | | | | | | | |")
            continue
        lines.append(f"| {r['model']} | {r['engine']} | {r['prompt_format']} | {common.fmt(r['load_s'])} | "
                     f"{common.fmt(r['s_per_row'], 2)} | {common.fmt(r['completion_tokens_per_s'])} | "
                     f"{common.fmt(r['prompt_tokens_per_s'])} | {r['completion_tokens'] / max(r['rows'], 1):.1f} | "
                     f"{r['hit_token_limit']} | {common.fmt(r['peak_rss_mb'], 0)} |")
    if report["side_by_side"]:
        lines += ["", "llama.cpp (4-bit GGUF) against transformers (float weights), same rows and prompt:", "",
                  "| model | speed-up per row | completion tok/s ratio | load s ratio | peak RSS ratio | same SQL* |",
                  "|---|---:|---:|---:|---:|---:|"]
        for p in report["side_by_side"]:
            lines.append(f"| {p['model']} | {p['speedup_per_row']}x | {p['completion_tokens_per_s_ratio']}x | "
                         f"{common.fmt(p['load_s_ratio'], 2)}x | {p['peak_rss_ratio']}x | {p['same_sql']}/{p['rows']} |")
    for s in report["skipped"]:
        lines.append(f"\nNot measured: {s['model']} on {s['engine']}: {s['reason']}.")
    lines += ["", "prompt tok/s: llama.cpp's own prompt-evaluation counters (tokens evaluated after reusing the "
              "previous prompt's KV prefix); transformers gives no split. *same SQL: up to whitespace and a final ';'. "
              "The machine may be shared: absolute numbers move with its load, ratios less so.", "",
              f"Rebuild: `{report['command']}`", ""]
    return "\n".join(lines)


def _spawn(model: str, engine: str, args: argparse.Namespace, threads: int, tmp: Path) -> dict[str, Any]:
    result = tmp / f"{model}-{engine}.json"
    cmd = [sys.executable, __file__, "--child", model, engine, "--result", str(result), "--n", str(args.n),
           "--seed", str(args.seed), "--threads", str(threads), "--batch-size", str(args.batch_size),
           "--max-new-tokens", str(args.max_new_tokens)]
    data = common.run_child(cmd, result, f"{model} / {engine}")
    if "error" in data:
        data.update(model=model, engine=engine)
    else:
        print(f"[{model} / {engine}] load {data['load_s']} s, {data['s_per_row']} s/row, "
              f"{data['completion_tokens_per_s']} completion tok/s, peak RSS {data['peak_rss_mb']:.0f} MB", flush=True)
    return data


def run_models(args: argparse.Namespace, command: str) -> int:
    """The --models mode of bench/generation.py (``args``: models, engines, n, batch_size,
    max_new_tokens, threads, seed, out)."""
    models = common.select_models(args.models)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    bad = [e for e in engines if e not in ENGINES]
    if bad:
        raise SystemExit(f"unknown engine(s) {', '.join(bad)}: choose from {', '.join(ENGINES)}")
    runs, skipped = engine_plan(models, engines)
    threads = common.thread_count(args.threads)
    report: dict[str, Any] = {"n_rows": 0, "seed": args.seed, "threads": threads, "machine": common.machine(),
                              "batch_size": args.batch_size, "max_new_tokens": args.max_new_tokens,
                              "command": command, "skipped": skipped, "results": []}
    for model in dict.fromkeys(m for m, _ in runs):
        common.prepare_model(model)
    with tempfile.TemporaryDirectory() as tmpdir:
        for model, engine in runs:
            report["results"].append(_spawn(model, engine, args, threads, Path(tmpdir)))
    ok = [r for r in report["results"] if "error" not in r]
    report["n_rows"] = ok[0]["rows"] if ok else 0
    report["side_by_side"] = side_by_side(report["results"])
    md = markdown(report)
    common.write_report(args.out, NAME, report, md)
    print(md)
    return 0 if len(ok) == len(report["results"]) else 1


def _child_main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="one (model, engine) measurement of bench/generation.py --models")
    ap.add_argument("--child", nargs=2, metavar=("MODEL", "ENGINE"), required=True)
    ap.add_argument("--result", type=Path, required=True)
    for name in ("--n", "--seed", "--threads", "--batch-size", "--max-new-tokens"):
        ap.add_argument(name, type=int, required=True)
    a = ap.parse_args(argv)
    out = measure(a.child[0], a.child[1], a.n, a.seed, a.threads, a.batch_size, a.max_new_tokens)
    a.result.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
