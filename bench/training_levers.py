"""Training-cost levers of the quickstart's recipe, measured side by side in one run.

Each lever is the shipped recipe (``configs/sft-cpu-qwen-coder.yaml``, the default model) with a few
``key=value`` overrides, trained for ``--steps`` optimizer steps through ``kosql train`` in its own
process; the first step (warm-up) is left out of the median seconds a step. ``--avx2`` runs every lever
the way a CPU without native bf16 runs it (``ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2``:
torch dispatches AVX2 kernels and oneDNN stays off AVX512, checked by kosql's own probe in the child).

Run: ``.venv/bin/python bench/training_levers.py [--avx2] [--steps 5] [--levers base,top12,...]``; writes
``bench/results/training-levers[-avx2].json`` and ``.md`` with seconds a step, training tokens a step,
and each lever's ratio to ``base``. EX of a lever needs a full run: ``kosql quickstart train.<key>=...``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIG = "configs/sft-cpu-qwen-coder.yaml"
LEVERS: dict[str, list[str]] = {
    "base": [],
    "top12": ["lora.top_layers=12"],
    "top8": ["lora.top_layers=8"],
    "attn_only": ["lora.target_modules=[q_proj,k_proj,v_proj,o_proj]"],
    "r8": ["lora.r=8", "lora.alpha=16"],
    "rows4": ["train.batch_size=4"],
    "compact": ["data.prompt_format=compact"],
    "top12_rows4": ["lora.top_layers=12", "train.batch_size=4"],
}
AVX2_ENV = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}


def run_lever(name: str, overrides: list[str], steps: int, env: dict[str, str], data: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / name
        cmd = [sys.executable, "-m", "kosql.cli.main", "train", "--config", CONFIG, f"train.max_steps={steps}",
               "eval.dev_rows=0", "train.save_steps=100000", f"output_dir={out}", f"data.train={data}", *overrides]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            return {"lever": name, "overrides": overrides, "error": proc.stderr.strip().splitlines()[-1:]}
        metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
        precision = next((line for line in proc.stdout.splitlines() if line.startswith("precision:")), "")
    step_s = metrics.get("median_step_seconds")
    return {"lever": name, "overrides": overrides, "seconds_per_step": step_s,
            "tokens_per_step": round((metrics.get("tokens_seen") or 0) / max(metrics.get("global_step") or 1, 1)),
            "rows_per_step": round((metrics.get("rows_seen") or 0) / max(metrics.get("global_step") or 1, 1), 1),
            "wall_seconds": round(wall, 1), "precision": precision}


def _markdown(results: list[dict[str, Any]], note: str) -> str:
    base = next((r for r in results if r["lever"] == "base" and r.get("seconds_per_step")), None)
    lines = [f"# Training levers ({note})", "", "| lever | overrides | s/step | rows/step | tokens/step | "
             "s/row | vs base (s/row) |", "|---|---|---:|---:|---:|---:|---:|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['lever']} | {' '.join(r['overrides'])} | error: {r['error']} | | | | |")
            continue
        per_row = r["seconds_per_step"] / max(r["rows_per_step"], 1)
        ratio = ""
        if base:
            ratio = f"{(base['seconds_per_step'] / max(base['rows_per_step'], 1)) / per_row:.2f}x"
        lines.append(f"| {r['lever']} | {' '.join(r['overrides']) or '(shipped recipe)'} | {r['seconds_per_step']:.2f} | "
                     f"{r['rows_per_step']} | {r['tokens_per_step']} | {per_row:.2f} | {ratio} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--avx2", action="store_true", help="emulate a CPU without native bf16")
    ap.add_argument("--levers", default=",".join(LEVERS))
    ap.add_argument("--data", default="bundled:small")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    env = {**os.environ, **(AVX2_ENV if args.avx2 else {})}
    names = [n.strip() for n in args.levers.split(",") if n.strip()]
    load = [os.getloadavg()[0]]
    results = []
    for name in names:
        res = run_lever(name, LEVERS[name], args.steps, env, args.data)
        print(json.dumps(res, ensure_ascii=False), flush=True)
        results.append(res)
    load.append(os.getloadavg()[0])
    from kosql.models.cpu import cpu_model_name

    cpu = cpu_model_name()
    note = (f"{os.cpu_count()}-core {cpu}, {'AVX2 emulated (no native bf16)' if args.avx2 else 'as is'}, "
            f"{args.steps} steps each, load {load[0]:.1f} -> {load[1]:.1f}, {time.strftime('%Y-%m-%d')}")
    stem = "training-levers" + ("-avx2" if args.avx2 else "")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps({"note": note, "results": results}, indent=2), encoding="utf-8")
    md = _markdown(results, note)
    (out / f"{stem}.md").write_text(md, encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
