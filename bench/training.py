"""Training throughput: kosql's batching vs naive padded batches (LoRA, default model, CPU).

The same rows of the bundled small train split go through the same LoRA model (smollm2-135m, r 16 on
all linear layers, bf16 autocast, AdamW) in three ways, each in its own process (so peak RSS is per
mode):

- ``naive``: random batches padded to ``max_length`` (what a fixed block size does), loss on the whole
  text with full ``(batch, seq, vocab)`` logits;
- ``grouped_trl``: length-grouped batches padded to the longest row, loss on the SQL only through
  TRL's fused, tiled LM head (what ``SFTTrainer`` does by default);
- ``grouped``: kosql's default (``train.batching: grouped``): the same batches, the loss from
  ``kosql.train.loss.completion_loss`` (the model's own forward asked for the SQL positions' logits only);
- ``grouped_compact``: as ``grouped`` with ``data.prompt_format: compact`` (one-line tables): fewer
  tokens per row, so compare rows/s;
- ``shared_prefix``: kosql's ``train.batching: shared_prefix`` (compact format): each batch is one
  sequence holding up to ``batch`` rows on the same schema, the prompt prefix computed once, block
  attention mask (``kosql.train.prefix``); compare rows/s with ``grouped_compact``;
- ``padding_free``: rows concatenated without padding (``train.batching: padding_free``; TRL's
  padding-free collator, block-diagonal attention from position ids), kosql's loss.

Batches are built with TRL's collator, exactly as ``kosql train`` feeds the model. Throughput is real
(non-padding) tokens and rows per second over the timed steps (one warm-up step is not timed).

Run: ``.venv/bin/python bench/training.py [--rows 24] [--batch 4] [--max-length 768]``; writes
``bench/results/training.json`` and ``.md``. Target: grouped / naive >= 1.3x (tokens/s).

``--models [all | NAME,NAME] [--steps 6]`` (bench/training_models.py) measures something else: each
embedded model trained with its shipped CPU recipe (the quickstart's method, LoRA or full, batching and
prompt format) through kosql's own training code, 1 warm-up + ``--steps`` optimizer steps in its own
subprocess: seconds per step, training tokens/s, peak RSS and the recipe's projected training minutes;
writes ``bench/results/training-models.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODES = ("naive", "grouped_trl", "grouped", "grouped_compact", "shared_prefix", "padding_free")


def _records(rows: int, max_length: int, seed: int, fmt: str, batch: int) -> list[Any]:
    """``rows`` training records taken ``batch`` at a time from each database in turn (every mode
    trains the same rows; the shared-prefix mode can group them as it does in a real run)."""
    from kosql.data.synth import bundled_dataset
    from kosql.models.resolve import resolve_model
    from kosql.train.data import build_records, load_rows, select_rows
    from kosql.train.modeling import load_tokenizer

    tok = load_tokenizer(resolve_model("smollm2-135m"))
    examples = select_rows(load_rows(str(bundled_dataset("small")), "train", field_name="data.train"), seed=seed)
    by_db: dict[str, list[Any]] = {}
    for e in examples:
        by_db.setdefault(e.db_id, []).append(e)
    picked: list[Any] = []
    turn = 0
    while len(picked) < rows:
        for db in sorted(by_db):
            picked += by_db[db][turn * batch:(turn + 1) * batch]
        turn += 1
    records, _ = build_records(picked[:rows], tok, fmt=fmt, max_length=max_length)
    return records


def _batches(records: list[Any], mode: str, batch: int, max_length: int, seed: int,
             tok: Any) -> list[tuple[dict[str, Any], int]]:
    """(batch, rows in it) in the order the mode trains them."""
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    pad_id = int(tok.pad_token_id)
    if mode == "shared_prefix":
        from kosql.train.prefix import SharedPrefixCollator, group_records, prefix_lengths

        groups = group_records(records, prefix_lengths(records, tok, True), batch, seed=seed)
        collate_groups = SharedPrefixCollator(pad_id)
        return [(collate_groups([g.to_features()]), len(g.ids)) for g in groups]
    if mode == "naive":  # a fixed-block trainer: loss on the whole text, full logits
        feats = [{"input_ids": r.input_ids} for r in records]
    else:  # kosql: loss on the SQL + EOS only
        feats = [{"input_ids": r.input_ids,
                  "labels": [t if m else -100 for t, m in zip(r.input_ids, r.completion_mask, strict=True)]}
                 for r in records]
    if mode == "naive":
        random.Random(seed).shuffle(feats)
        collate = DataCollatorForLanguageModeling(pad_token_id=pad_id, pad_to_multiple_of=max_length)
    elif mode.startswith("grouped"):
        feats.sort(key=lambda f: len(f["input_ids"]), reverse=True)
        collate = DataCollatorForLanguageModeling(pad_token_id=pad_id)
    else:
        random.Random(seed).shuffle(feats)
        collate = DataCollatorForLanguageModeling(pad_token_id=pad_id, padding_free=True)
    out = [(collate(feats[i:i + batch]), len(feats[i:i + batch])) for i in range(0, len(feats), batch)]
    if mode.startswith("grouped"):
        random.Random(seed).shuffle(out)  # batch order stays random, as with LengthGroupedSampler
    return out


def run_mode(mode: str, rows: int, batch: int, max_length: int, seed: int, threads: int | None) -> dict[str, Any]:
    """Train on ``rows`` rows in ``mode``; returns tokens/s and peak RSS of this process."""
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    from kosql.models.resolve import resolve_model
    from kosql.train.loss import completion_loss, real_tokens
    from kosql.train.modeling import load_tokenizer, lora_config

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    path = resolve_model("smollm2-135m")
    tok = load_tokenizer(path)
    fmt = "compact" if mode in ("grouped_compact", "shared_prefix") else "seed"
    records = _records(rows, max_length, seed, fmt, batch)
    batches = _batches(records, mode, batch, max_length, seed, tok)
    base = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    fused = mode == "grouped_trl"
    if fused:  # what TRL's SFTTrainer does: LM head only on positions with a label (the SQL + EOS)
        from trl.trainer.utils import add_fused_lm_head

        add_fused_lm_head(base)
    model = get_peft_model(base, lora_config(16, 32, 0.05, ["all-linear"]))
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    timed_tokens = timed_padded = timed_rows = 0
    seconds = 0.0
    losses = []
    for i, (b, n_rows) in enumerate(batches):
        inputs = {k: v for k, v in b.items() if k in ("input_ids", "attention_mask", "position_ids", "labels")}
        real = real_tokens(b)
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            if fused:
                loss = model(**inputs, fused_lm_head=True).loss
            elif mode == "naive":
                loss = model(**inputs).loss
            else:
                loss, _ = completion_loss(model, inputs)
        loss.backward()
        opt.step()
        opt.zero_grad()
        dt = time.perf_counter() - t0
        losses.append(float(loss))
        if i > 0:  # the first step warms up kernels and allocators
            seconds += dt
            timed_tokens += real
            timed_padded += int(b["input_ids"].numel())
            timed_rows += n_rows
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"mode": mode, "steps_timed": len(batches) - 1, "real_tokens": timed_tokens,
            "computed_tokens": timed_padded, "padding_share": round(1 - timed_tokens / timed_padded, 3),
            "seconds": round(seconds, 2), "tokens_per_second": round(timed_tokens / seconds, 1),
            "rows_per_minute": round(60 * timed_rows / seconds, 1), "tokens_per_row": round(timed_tokens / timed_rows, 1),
            "peak_rss_mb": round(rss_mb, 1), "mean_loss": round(sum(losses) / len(losses), 4)}


RATIOS = {  # name: (mode, baseline mode, measure)
    "ratio_grouped": ("grouped", "naive", "tokens_per_second"),
    "ratio_padding_free": ("padding_free", "naive", "tokens_per_second"),
    "ratio_loss": ("grouped", "grouped_trl", "tokens_per_second"),
    "ratio_compact_rows": ("grouped_compact", "grouped", "rows_per_minute"),
    "ratio_shared_rows": ("shared_prefix", "grouped_compact", "rows_per_minute"),
}


def _write(results: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "training.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = ["# Training throughput (LoRA, smollm2-135m, CPU)", "",
             f"{results['rows']} rows of the bundled small train split, batch {results['batch']}, "
             f"max_length {results['max_length']}, bf16 autocast, {results['machine']}.", "",
             "| mode | real tokens/s | rows/min | tokens/row | padding share | peak RSS (MB) | timed steps |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results["modes"]:
        lines.append(f"| {r['mode']} | {r['tokens_per_second']} | {r['rows_per_minute']} | {r['tokens_per_row']} | "
                     f"{r['padding_share']:.0%} | {r['peak_rss_mb']} | {r['steps_timed']} |")
    lines += ["", f"tokens/s: grouped / naive = **{results['ratio_grouped']}x** (target >= 1.3x), "
              f"padding_free / naive = **{results['ratio_padding_free']}x**; kosql's loss vs TRL's fused head: "
              f"grouped / grouped_trl = **{results['ratio_loss']}x**.",
              f"rows/min: grouped_compact / grouped = **{results['ratio_compact_rows']}x** (the compact prompt format), "
              f"shared_prefix / grouped_compact = **{results['ratio_shared_rows']}x** (shared-prefix batches).",
              "",
              "Note: the machine is shared; absolute numbers vary with its load, the ratios less so."]
    (out_dir / "training.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=12)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--max-length", type=int, default=768)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--models", nargs="?", const="all", default=None, metavar="all|NAME,NAME",
                    help="speed of each embedded model with its shipped CPU recipe (bench/training_models.py)")
    ap.add_argument("--steps", type=int, default=6, help="--models: timed optimizer steps after 1 warm-up step")
    ap.add_argument("--mode", help=argparse.SUPPRESS)  # internal: run one mode, print JSON
    args = ap.parse_args(argv)
    if args.models is not None:
        sys.path.insert(0, str(ROOT))
        from bench.training_models import run_models

        shown = sys.argv[1:] if argv is None else argv
        env = [f"KOSQL_THREADS={os.environ['KOSQL_THREADS']}"] if os.environ.get("KOSQL_THREADS") else []
        return run_models(args.models, args.steps, args.threads, args.out,
                          " ".join([*env, ".venv/bin/python bench/training.py", *shown]))
    if args.mode:
        print(json.dumps(run_mode(args.mode, args.rows, args.batch, args.max_length, args.seed, args.threads)))
        return 0
    results: dict[str, Any] = {"rows": args.rows, "batch": args.batch, "max_length": args.max_length,
                               "machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "modes": []}
    for mode in args.modes.split(","):
        cmd = [sys.executable, __file__, "--mode", mode, "--rows", str(args.rows), "--batch", str(args.batch),
               "--max-length", str(args.max_length), "--seed", str(args.seed)]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            return 1
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{mode:>15}: {res['tokens_per_second']:>7} tok/s  {res['rows_per_minute']:>6} rows/min  "
              f"padding {res['padding_share']:.0%}  "
              f"peak RSS {res['peak_rss_mb']} MB  ({res['seconds']} s)")
        results["modes"].append(res)
        _write({**results, **dict.fromkeys(RATIOS)}, args.out)  # partial results
    by_mode = {r["mode"]: r for r in results["modes"]}
    for name, (num, den, key) in RATIOS.items():
        results[name] = None
        if num in by_mode and den in by_mode:
            results[name] = round(by_mode[num][key] / by_mode[den][key], 2)
            print(f"{key}: {num} / {den} = {results[name]}x")
    _write(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
