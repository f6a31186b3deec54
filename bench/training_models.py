"""Training speed of every embedded model with its shipped CPU recipe: ``bench/training.py --models``.

    .venv/bin/python bench/training.py --models [all | NAME,NAME] [--steps 6] [--threads N] [--out DIR]

For each embedded model, kosql's own training code (``kosql.train.sft.train_sft``, what ``kosql train``
and the quickstart run) trains with the model's shipped CPU config
(``kosql.pipeline.steps.default_train_config``: the quickstart's method, LoRA or full fine-tuning, with
its batch size, batching, prompt format and max_length) on the bundled small train split for 1 + --steps
optimizer steps, in its own subprocess (so peak RSS is its own) with the same thread count (--threads,
else KOSQL_THREADS, else all cores). The first step (kernel and allocator warm-up, the data loader's
start) is not timed. Changed from the recipe for the bench only: ``train.max_steps``, no EX on dev rows,
no checkpoints, no gold-SQL check before training, a log entry every step (it carries the token count),
the run folder in a temporary directory. Each model's GGUF is assembled and converted beforehand.

Reported per model: setup seconds (tokenizing the rows, loading the model, building the trainer), seconds
per optimizer step (wall time between the ends of consecutive steps: collation, forward, backward,
optimizer), training tokens/s (the tokens of the sequences the model computed, as kosql's trainer counts
them: padding left out, a shared prompt prefix counted once), rows per step, peak RSS, and the recipe's
projected training minutes (its ``train.max_steps`` x seconds per step). Writes
bench/results/training-models.json and .md and prints the table.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import models_common as common  # noqa: E402

NAME = "training-models"


class StepClock:
    """Trainer callback state: when each optimizer step ended and the tokens counted so far."""

    def __init__(self) -> None:
        self.train_begin = 0.0
        self.ends: list[float] = []
        self.tokens: dict[int, float] = {}  # global step -> tokens trained so far

    def callback(self) -> Any:
        from transformers import TrainerCallback

        clock = self

        class Clock(TrainerCallback):  # type: ignore[misc]
            def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                clock.train_begin = time.perf_counter()

            def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                clock.ends.append(time.perf_counter())
                if getattr(state, "num_input_tokens_seen", 0):  # batching modes other than shared_prefix
                    clock.tokens[state.global_step] = float(state.num_input_tokens_seen)

            def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
                if logs and "num_tokens" in logs:  # kosql's trainer: real tokens of every batch so far
                    clock.tokens[state.global_step] = float(logs["num_tokens"])

        return Clock()


def bench_overrides(model: str, out_dir: Path, steps: int, threads: int) -> list[str]:
    """The recipe's config with what only the bench changes (see the module docstring)."""
    return [f"model.name={model}", f"output_dir={out_dir}", f"train.max_steps={steps + 1}", "eval.dev_rows=0",
            "eval.every_steps=0", "train.save_steps=1000000", "train.logging_steps=1", f"train.threads={threads}",
            "data.check_sql=false"]


def rows_per_step(messages: list[str], cfg: Any) -> float:
    """Rows in one optimizer step: batch_size x grad_accum, or with shared-prefix batches the mean rows per
    sequence that train_sft reported x grad_accum."""
    t = cfg.train
    if t.batching == "shared_prefix":
        for msg in messages:
            m = re.search(r"(\d+) rows in (\d+) sequences", msg)
            if m:
                return round(int(m.group(1)) / int(m.group(2)) * t.grad_accum, 2)
    return float(t.batch_size * t.grad_accum)


def measure(model: str, steps: int, threads: int) -> dict[str, Any]:
    """Train ``model`` with its recipe for 1 + ``steps`` steps in this process; timings and peak RSS."""
    from kosql.pipeline.steps import default_train_config
    from kosql.pipeline.training import train_config
    from kosql.train.sft import train_sft

    config = default_train_config(model)
    recipe = train_config(config, [f"model.name={model}"])
    messages: list[str] = []

    def echo(msg: str) -> None:
        messages.append(msg)
        print(msg, file=sys.stderr, flush=True)

    clock = StepClock()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = train_config(config, bench_overrides(model, Path(tmp) / "run", steps, threads))
        start = time.perf_counter()
        train_sft(cfg, progress=False, callbacks=[clock.callback()], echo=echo)
    if len(clock.ends) < 2 or steps + 1 not in clock.tokens or 1 not in clock.tokens:
        raise SystemExit(f"{model}: the trainer reported {len(clock.ends)} steps and tokens at steps "
                         f"{sorted(clock.tokens)}; need 1 + {steps}")
    seconds = clock.ends[-1] - clock.ends[0]
    timed = len(clock.ends) - 1
    tokens = clock.tokens[steps + 1] - clock.tokens[1]
    s_per_step = seconds / timed
    return {"model": model, "config": Path(config).name, "method": recipe.model.method,
            "batching": recipe.train.batching, "prompt_format": recipe.data.prompt_format,
            "batch_size": recipe.train.batch_size, "threads": threads, "steps_timed": timed,
            "setup_s": round(clock.train_begin - start, 1), "first_step_s": round(clock.ends[0] - clock.train_begin, 2),
            "s_per_step": round(s_per_step, 3), "tokens_timed": int(tokens),
            "tokens_per_s": round(tokens / seconds, 1), "tokens_per_step": round(tokens / timed, 1),
            "rows_per_step": rows_per_step(messages, recipe),
            "recipe_steps": recipe.train.max_steps,
            "recipe_minutes": round(recipe.train.max_steps * s_per_step / 60, 1) if recipe.train.max_steps > 0 else None,
            "peak_rss_mb": common.peak_rss_mb()}


def markdown(report: dict[str, Any]) -> str:
    lines = ["# Training speed per embedded model, shipped CPU recipe", "",
             f"Bundled small train split, 1 warm-up step and {report['steps']} timed optimizer step(s) per model through "
             f"kosql's training code, threads: {report['threads']}; {report['machine']}.", "",
             "| model | recipe | method | batching | prompt | s/step | tokens/s | tokens/step | rows/step | "
             "setup s | peak RSS MB | recipe steps | projected recipe min |",
             "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report["results"]:
        if "error" in r:
            lines.append(f"| {r['model']} | failed: {r['error']} | | | | | | | | | | | |")
            continue
        lines.append(f"| {r['model']} | {r['config']} | {r['method']} | {r['batching']} | {r['prompt_format']} | "
                     f"{common.fmt(r['s_per_step'], 2)} | {common.fmt(r['tokens_per_s'])} | "
                     f"{common.fmt(r['tokens_per_step'], 0)} | {common.fmt(r['rows_per_step'], 2)} | "
                     f"{common.fmt(r['setup_s'])} | {common.fmt(r['peak_rss_mb'], 0)} | {r['recipe_steps']} | "
                     f"{common.fmt(r['recipe_minutes'])} |")
    lines += ["", "tokens: those of the sequences the model computed (padding left out, a shared prompt prefix "
              "counted once). Projected recipe minutes: the recipe's max_steps x s/step, training only. The machine "
              "may be shared: absolute numbers move with its load.", "", f"Rebuild: `{report['command']}`", ""]
    return "\n".join(lines)


def run_models(models_spec: str, steps: int, threads_arg: int | None, out_dir: Path, command: str) -> int:
    """The --models mode of bench/training.py."""
    if steps < 1:
        raise SystemExit("--steps must be at least 1 (one more step warms up first)")
    models = common.select_models(models_spec)
    threads = common.thread_count(threads_arg or 0)
    report: dict[str, Any] = {"steps": steps, "threads": threads, "machine": common.machine(), "command": command,
                              "results": []}
    with tempfile.TemporaryDirectory() as tmpdir:
        for model in models:
            common.prepare_model(model)
            result = Path(tmpdir) / f"{model}.json"
            cmd = [sys.executable, __file__, "--child", model, "--steps", str(steps), "--threads", str(threads),
                   "--result", str(result)]
            data = common.run_child(cmd, result, model)
            if "error" in data:
                data["model"] = model
            else:
                print(f"[{model}] {data['s_per_step']} s/step, {data['tokens_per_s']} tokens/s, "
                      f"peak RSS {data['peak_rss_mb']:.0f} MB", flush=True)
            report["results"].append(data)
    md = markdown(report)
    common.write_report(out_dir, NAME, report, md)
    print(md)
    return 0 if all("error" not in r for r in report["results"]) else 1


def _child_main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="one model's measurement of bench/training.py --models")
    ap.add_argument("--child", required=True, metavar="MODEL")
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--result", type=Path, required=True)
    a = ap.parse_args(argv)
    out = measure(a.child, a.steps, a.threads)
    a.result.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
