"""How close kosql runs to this machine's limits, measured side by side in one run.

- **Matrix-product peak**: torch's fp32 GEMM (and bf16 where the CPU runs it natively) on 2048^2
  matrices with kosql's thread count, in GFLOP/s.
- **Training**: the quickstart's recipe (``configs/sft-cpu-qwen-coder.yaml``, the default model) for
  ``--steps`` steps through ``kosql train`` (bench/training_levers.py's runner); achieved GFLOP/s =
  the matrix products a step does (forward through every layer, backward through the adapted layers,
  the output head on the SQL tokens only) over the median seconds a step.
- **Generation**: llama.cpp's own llama-bench-style figures for the same GGUF (pp512: a 512-token
  prompt in one batch; tg128: 128 tokens one at a time) next to kosql's llama.cpp backend generating
  for bundled test rows (prompt and completion tokens/s).

Run: ``.venv/bin/python bench/machine_limits.py [--avx2] [--steps 4] [--rows 16]``; writes
``bench/results/machine-limits[-avx2].json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.training_levers import AVX2_ENV, run_lever  # noqa: E402


def matmul_peak(dtype_name: str, n: int = 2048, reps: int = 6) -> float:
    """GFLOP/s of an n x n x n matrix product in ``dtype_name``."""
    import torch

    from kosql.models.cpu import default_threads

    torch.set_num_threads(default_threads())
    dtype = getattr(torch, dtype_name)
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    a @ b
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9


def training_flops_per_step(tokens: int, sql_tokens: int, top_layers: int = 0) -> float:
    """Matrix-product FLOPs of one LoRA step of the default model over ``tokens`` (``sql_tokens`` of
    them scored): 2 P forward, 2 P_adapted backward (input gradients only; frozen weights get none), and
    the output head (4 x its weights) on the scored tokens."""
    from transformers import AutoConfig

    from kosql.models.resolve import DEFAULT_MODEL, resolve_model

    cfg = AutoConfig.from_pretrained(str(resolve_model(DEFAULT_MODEL)))
    h, inter, layers = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers
    kv = cfg.num_key_value_heads * (h // cfg.num_attention_heads)
    per_layer = 2 * h * h + 2 * h * kv + 3 * h * inter
    adapted = layers if top_layers <= 0 else min(top_layers, layers)
    head = cfg.vocab_size * h
    return 2.0 * per_layer * layers * tokens + 2.0 * per_layer * adapted * tokens + 4.0 * head * sql_tokens


def llama_bench(gguf: str, threads: int, pp: int = 512, tg: int = 128) -> dict[str, float]:
    """llama-bench's pp/tg figures through the llama.cpp library kosql uses."""
    from llama_cpp import Llama

    llm = Llama(model_path=gguf, n_ctx=pp + tg + 16, n_batch=pp, n_threads=threads, verbose=False)
    tokens = [llm.token_bos() if llm.token_bos() >= 0 else 1] + [100 + i % 1000 for i in range(pp - 1)]
    t0 = time.perf_counter()
    llm.eval(tokens)
    pp_s = time.perf_counter() - t0
    llm.reset()
    llm.eval(tokens[:1])
    t0 = time.perf_counter()
    for i in range(tg):
        llm.eval([200 + i])
    tg_s = time.perf_counter() - t0
    return {"pp_tokens_per_s": round(pp / pp_s, 1), "tg_tokens_per_s": round(tg / tg_s, 1)}


def kosql_generation(rows: int) -> dict[str, Any]:
    """kosql's llama.cpp backend on bundled test rows: prompt and completion tokens/s."""
    from kosql.data.resolve import load_dataset
    from kosql.models.base import GenerationParams
    from kosql.models.registry import load_backend
    from kosql.models.resolve import DEFAULT_MODEL
    from kosql.prompts import build_prompt

    backend: Any = load_backend("llamacpp", DEFAULT_MODEL)
    examples = load_dataset("bundled:small", "test")[:rows]
    tok = getattr(backend, "tokenizer", None)
    prompts = [build_prompt(e.context, e.question, "chat", tok) for e in examples]
    t0 = time.perf_counter()
    gens = backend.generate(prompts, GenerationParams(max_new_tokens=96))
    wall = time.perf_counter() - t0
    ptok = sum(g.prompt_tokens for g in gens)
    ctok = sum(g.completion_tokens for g in gens)
    return {"rows": rows, "seconds": round(wall, 1), "prompt_tokens": ptok, "completion_tokens": ctok,
            "tokens_per_s": round((ptok + ctok) / wall, 1), "completion_tokens_per_s": round(ctok / wall, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--avx2", action="store_true", help="emulate a CPU without native bf16 (in fresh processes)")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--rows", type=int, default=16)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    if args.avx2 and os.environ.get("ATEN_CPU_CAPABILITY") != "avx2":
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **AVX2_ENV})
    from kosql.models.cpu import default_threads, probe_cpu_bf16
    from kosql.models.llamacpp import gguf_path

    probe = probe_cpu_bf16()
    load0 = os.getloadavg()[0]
    res: dict[str, Any] = {"bf16": {"native": probe.native, "reason": probe.reason}, "threads": default_threads()}
    res["gemm_gflops"] = {"fp32": round(matmul_peak("float32"), 1)}
    if probe.native:
        res["gemm_gflops"]["bf16"] = round(matmul_peak("bfloat16"), 1)
    lever = run_lever("base", [], args.steps, dict(os.environ), "bundled:small")
    res["training"] = lever
    if lever.get("seconds_per_step"):
        sql_tokens = max(1, int(lever["rows_per_step"] * 40))  # ~40 SQL+EOS tokens a row (bundled data)
        flops = training_flops_per_step(int(lever["tokens_per_step"]), sql_tokens)
        res["training"]["achieved_gflops"] = round(flops / lever["seconds_per_step"] / 1e9, 1)
    res["llama_bench"] = llama_bench(str(gguf_path("qwen2.5-coder-0.5b")), default_threads())
    res["kosql_generation"] = kosql_generation(args.rows)
    from kosql.models.cpu import cpu_model_name

    res["note"] = (f"{os.cpu_count()}-core {platform.machine()} {cpu_model_name()}"
                   f"{' (AVX2 emulated for torch; llama.cpp as built)' if args.avx2 else ''}, load {load0:.1f} -> {os.getloadavg()[0]:.1f}, "
                   f"{time.strftime('%Y-%m-%d')}")
    stem = "machine-limits" + ("-avx2" if args.avx2 else "")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(res, indent=2), encoding="utf-8")
    peak = res["gemm_gflops"].get("bf16" if lever.get("precision", "").startswith("precision: bf16") else "fp32")
    achieved = res["training"].get("achieved_gflops")
    md = [f"# Machine limits ({res['note']})", "", f"bf16: {probe.reason}", "",
          "| what | measured | machine figure | share |", "|---|---:|---:|---:|",
          f"| training GFLOP/s ({lever.get('precision', '')}) | {achieved} | GEMM peak {peak} | "
          f"{(achieved or 0) / peak:.0%} |",
          f"| generation prompt+completion tok/s (kosql, {args.rows} rows) | "
          f"{res['kosql_generation']['tokens_per_s']} | llama.cpp pp512 {res['llama_bench']['pp_tokens_per_s']} | |",
          f"| generation completion tok/s (kosql) | {res['kosql_generation']['completion_tokens_per_s']} | "
          f"llama.cpp tg128 {res['llama_bench']['tg_tokens_per_s']} | "
          f"{res['kosql_generation']['completion_tokens_per_s'] / res['llama_bench']['tg_tokens_per_s']:.0%} |"]
    (out / f"{stem}.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
