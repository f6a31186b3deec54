"""`kosql quickstart`: the whole pipeline on the embedded defaults, offline, on a CPU.

0. the plan (:func:`plan_quickstart`, :class:`kosql.pipeline.plan.RunPlan`): every option resolved
   and checked before anything is written;
1. the bundled dataset (generated on first use) and a test subset (held-out domains + in-domain);
2. the base model generates SQL for it -> evaluation;
3. fine-tuning with the model's shipped CPU config -> the fine-tuned model generates -> evaluation;
4. a report like the seed's results table (report.md, report.html, PNGs, terminal table).

Every artifact lands in one run folder; rerunning with the same ``--out`` resumes where it stopped.
Each step is one function below (:func:`data_step` ... :func:`report_step`), in the order
:func:`run_quickstart` calls them.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from rich.console import Console

from kosql.data.resolve import check_source
from kosql.data.rows import Example, iter_jsonl, write_jsonl
from kosql.errors import UserError
from kosql.models.resolve import check_model
from kosql.pipeline.compare import compare, print_comparison, write_comparison
from kosql.pipeline.plan import QuickstartOptions, RunFolders, RunPlan
from kosql.pipeline.steps import (
    GenerationSettings,
    default_train_config,
    generate_and_eval,
    load_split,
    pick_test_rows,
)
from kosql.pipeline.training import train_config, train_sft_run
from kosql.runinfo import first_difference, read_record
from kosql.train.sft import check_paths

# First-guess seconds per step on a 2-core CPU (120 test rows); replaced by measurements as the run goes.
_GUESS = {"data": 30.0, "base": 180.0, "train": 630.0, "finetuned": 140.0, "report": 5.0}
# Seconds per training row on 2 idle cores (4 rows a step in shared-prefix batches), measured in
# sessions 4-6; the training step's estimate is this times the rows it will see.
_TRAIN_SECONDS_PER_ROW = {("qwen2.5-coder-0.5b", "lora"): 0.78, ("qwen2.5-coder-1.5b", "lora"): 2.4,
                          ("smollm2-135m", "full"): 0.9, ("smollm2-135m", "lora"): 0.85,
                          ("gemma3-270m", "lora"): 0.55, ("gemma3-270m", "full"): 0.93}
# Korean column comments in the DDL ('+comments') double the prompt prefix: ~1.3x the seconds a training
# row (4.6-5.1 s a step instead of ~3.6, sessions 5 and 7) and ~1.4x the generation time (212 s vs 151 s).
# Generation seconds for 120 test rows where a model differs from the defaults above (llama.cpp, 2 idle cores).
_GENERATE_SECONDS = {"qwen2.5-coder-0.5b": {"base": 240.0, "finetuned": 170.0},
                     "qwen2.5-coder-1.5b": {"base": 420.0, "finetuned": 260.0}}
# --vote k: each sample costs a bit more than one generation of the row (retries, running the candidates):
# --vote 4 took 5.9x the greedy time with the default model (docs/results/voting).
VOTE_COST_PER_SAMPLE = 1.2
_COMMENTS_COST = {"train": 1.3, "base": 1.4, "finetuned": 1.4}
# A CPU without native bf16 (AVX2 only) trains in fp32 and runs llama.cpp's kernels without AVX512.
_NO_BF16_COST = {"train": 1.6, "base": 1.2, "finetuned": 1.2}


def quickstart_dataset(config: str | None, overrides: list[str]) -> str:
    """The dataset the quickstart uses when --data is not given: the training config's bundled dataset
    (the recipe was measured on it; ``bundled:small`` for the shipped CPU configs), or
    ``bundled:small`` when there is no config file or it trains on a file of its own."""
    spec = str(train_config(config, overrides).data.train) if config else ""
    return spec if spec.startswith("bundled:") else "bundled:small"


# Options that decide what a run folder holds: resuming with other values would mix two runs.
_RUN_DEFINING = ("model", "dataset", "test_per_split", "handwritten", "train_config", "method", "train_overrides", "max_new_tokens",
                 "seed", "repair_beams", "vote")


def planned_train_rows(settings: Any) -> int:
    """Rows the training step will see: ``max_steps`` x rows a step, else the selected rows x ``epochs``."""
    import math

    from kosql.train.data import load_rows, select_rows

    t, d = settings.train, settings.data
    if t.max_steps > 0:
        return int(t.max_steps * t.batch_size * t.grad_accum)
    rows = select_rows(load_rows(str(d.train), "train", field_name="data.train"), fraction=d.data_fraction,
                       max_rows=d.max_rows, seed=d.seed, pool_rows=d.pool_rows)
    return math.ceil(len(rows) * t.epochs)


def step_guesses(model: str, method: str, train_rows: int, test_rows: int, dataset: str, *,
                 native_bf16: bool = True) -> dict[str, float]:
    """First guesses of each step's seconds on 2 idle cores: generation scaled from 120 test rows,
    training = its rows x measured seconds a row, both longer with '+comments' prompts and on a CPU
    without native bf16."""
    guess = dict(_GUESS)
    guess.update(_GENERATE_SECONDS.get(model, {}))
    for step in ("base", "finetuned"):
        guess[step] *= test_rows / 120
    guess["train"] = train_rows * _TRAIN_SECONDS_PER_ROW.get((model, method), 0.9)
    if dataset.endswith("+comments"):
        for step, factor in _COMMENTS_COST.items():
            guess[step] *= factor
    if not native_bf16:
        for step, factor in _NO_BF16_COST.items():
            guess[step] *= factor
    return guess


def initial_guesses(opts: QuickstartOptions, settings: Any, dataset: str) -> dict[str, float]:
    """The estimate's guesses before the data step: :func:`step_guesses` when the training plan is
    known without reading the data (``max_steps`` set), else the defaults (corrected after the data step)."""
    if settings.train.max_steps <= 0:
        return dict(_GUESS)
    return step_guesses(opts.model, str(settings.model.method), planned_train_rows(settings),
                        2 * opts.test_per_split + opts.handwritten, dataset, native_bf16=_native_bf16())


def check_resumable(out: Path, opts: QuickstartOptions) -> None:
    """Record the options that define the run in ``out/options.json``; refuse to resume a folder
    that was started with other ones (UserError naming the first that differs), or a non-empty
    folder that no quickstart made (a quickstart folder of an older kosql, without the record, is
    resumed as it is)."""
    path = out / "options.json"
    current = {k: v for k, v in asdict(opts).items() if k in _RUN_DEFINING}
    current = json.loads(json.dumps(current, default=str))
    if path.exists():
        diff = first_difference(read_record(path) or {}, current, _RUN_DEFINING)
        if diff is not None:
            key, was, now = diff
            raise UserError(f"Run folder {out} was started with {key}={was!r}, not {now!r}; "
                            "give another --out to start a new run.")
    elif out.exists() and any(out.iterdir()) and not (out / "test_rows.jsonl").exists():
        raise UserError(f"Run folder {out} is not empty and was not made by this quickstart; "
                        "give another --out.")
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


class _Clock:
    """Step timing and the one-line estimate of the time left."""

    def __init__(self, console: Console, steps: list[str]) -> None:
        self.console = console
        self.steps = steps
        self.done: dict[str, float] = {}
        self.guess = dict(_GUESS)
        self.t0 = time.monotonic()

    def start(self, step: str, title: str) -> float:
        left = sum(self.guess[s] for s in self.steps if s not in self.done)
        i = self.steps.index(step) + 1
        elapsed = time.monotonic() - self.t0
        self.console.rule(f"[bold]step {i}/{len(self.steps)}: {title}")
        remaining = f"about {left / 60:.0f} min left" if left >= 90 else "about a minute left"
        self.console.print(f"[dim]elapsed {elapsed / 60:.1f} min · {remaining} (estimate)[/]")
        return time.monotonic()

    def finish(self, step: str, started: float) -> float:
        took = time.monotonic() - started
        self.done[step] = took
        return took


def plan_quickstart(opts: QuickstartOptions) -> RunPlan:
    """The run ``opts`` asks for, with every check that can fail made before any file is written: the
    model/method pair (shipped config), the config file and overrides, the test and training data, the model."""
    from kosql.models.registry import default_backend

    config = opts.train_config or default_train_config(opts.model, opts.method)  # a bad pair fails here
    if opts.dataset is None:
        opts = replace(opts, dataset=quickstart_dataset(config, opts.train_overrides))
    dataset = str(opts.dataset)
    overrides = [f"model.name={opts.model}", f"data.train={dataset}", "eval.dev_rows=0",
                 *([f"model.method={opts.method}"] if opts.method and opts.train_config else []),
                 *opts.train_overrides]
    settings = train_config(config, overrides)  # so does a bad config file or override
    check_source(dataset, "test", field_name="--data")  # and a dataset that is not there
    check_paths(settings)  # the training data, as `kosql train` checks it
    check_model(opts.model)  # and a model that cannot be found
    return RunPlan(model=opts.model, backend=default_backend(opts.model), dataset=dataset,
                   test_per_split=opts.test_per_split, seed=opts.seed, train_config=config,
                   train_overrides=overrides, train=settings,
                   generation=GenerationSettings(batch_size=opts.batch_size, max_new_tokens=opts.max_new_tokens,
                                                 repair_beams=opts.repair_beams, vote=opts.vote),
                   folders=RunFolders(opts.out), skip_base=opts.skip_base, options=opts)


def run_quickstart(opts: QuickstartOptions, console: Console | None = None) -> dict[str, Any]:
    """Run the quickstart; returns the summary written to ``summary.json``."""
    console = console or Console()
    plan = plan_quickstart(opts)
    check_resumable(plan.folders.out, plan.options)
    clock = _Clock(console, plan.steps)
    clock.guess.update(initial_guesses(plan.options, plan.train, plan.dataset))
    summary: dict[str, Any] = {"options": {k: str(v) for k, v in asdict(plan.options).items()},
                               "machine": _machine(), "steps": clock.done, "prompt_format": plan.prompt_format,
                               "backends": {}}
    test_rows, train_rows = data_step(plan, clock, summary)
    per_model: dict[str, list[dict[str, Any]]] = {}
    if not plan.skip_base:
        per_model.update(base_step(plan, test_rows, clock, summary))
    run_dir = train_step(plan, train_rows, clock, summary)
    per_model.update(finetuned_step(plan, test_rows, run_dir, clock, summary))
    files = report_step(plan, per_model, clock, summary)
    summary["total_seconds"] = time.monotonic() - clock.t0
    plan.folders.summary.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"[bold green]done[/] in {summary['total_seconds'] / 60:.1f} min · report: {files['md']} · "
                  f"{files['html']}")
    return summary


def pick_handwritten(n: int, seed: int) -> list[Example]:
    """``n`` rows of the hand-written dev set, as even over its databases as ``n`` allows (deterministic)."""
    import random

    from kosql.evalsets import handwritten_rows

    by_db: dict[str, list[Example]] = {}
    for row in handwritten_rows():
        by_db.setdefault(row.db_id, []).append(row)
    for db_id, rows in by_db.items():
        random.Random(f"{seed}:{db_id}").shuffle(rows)
    picked: list[Example] = []
    while len(picked) < n and any(by_db.values()):
        for rows in by_db.values():
            if rows and len(picked) < n:
                picked.append(rows.pop())
    return sorted(picked, key=lambda r: r.id)


def data_step(plan: RunPlan, clock: _Clock, summary: dict[str, Any]) -> tuple[list[Example], int]:
    """The test subset (the bundled dataset is generated on first use) into ``test_rows.jsonl``; returns
    it and the rows training will see, by which the estimate is corrected now that the data is there."""
    t = clock.start("data", "bundled dataset and test subset")
    test_rows = pick_test_rows(load_split(plan.dataset, "test.jsonl", field_name="--data"), plan.test_per_split,
                               plan.seed)
    if plan.generation.vote:  # every candidate runs on the row's database: refused now, not after training
        from kosql.vote.rows import check_databases

        check_databases(test_rows)
    if plan.options.handwritten:
        test_rows += pick_handwritten(plan.options.handwritten, plan.seed)
    write_jsonl(plan.folders.test_rows, test_rows)
    splits: dict[str, int] = {}
    for r in test_rows:
        key = str(r.extra.get("split") or "test")
        splits[key] = splits.get(key, 0) + 1
    clock.console.print(f"test rows: {len(test_rows)} " + ", ".join(f"{k} {v}" for k, v in sorted(splits.items())))
    summary["test_rows"] = splits
    clock.finish("data", t)
    train_rows = planned_train_rows(plan.train)
    clock.guess.update(step_guesses(plan.model, plan.method, train_rows, len(test_rows), plan.dataset,
                                    native_bf16=_native_bf16()))
    return test_rows, train_rows


def base_step(plan: RunPlan, test_rows: list[Example], clock: _Clock,
              summary: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The base model generates for the test rows and is scored (``base/``)."""
    t = clock.start("base", f"base model {plan.model}: generate -> eval")
    target = plan.base_target()
    base = generate_and_eval(test_rows, plan.folders.base, target, plan.base_generation())
    summary["backends"]["base"] = target.backend
    clock.guess["finetuned"] = clock.finish("base", t) * 0.7  # the tuned model stops earlier than the rambling base
    return {f"{plan.model} (base)": base.rows}


def train_step(plan: RunPlan, train_rows: int, clock: _Clock, summary: dict[str, Any]) -> Path:
    """Fine-tuning with the plan's config and overrides (``train/``, resumed or reused on a rerun)."""
    if plan.generation.repair_beams:  # measured: 4 beams for the ~50 % of rows that fail the check, 2.2x the time
        clock.guess["finetuned"] *= 1.0 + 0.3 * plan.generation.repair_beams
    clock.guess["finetuned"] *= 1.0 + VOTE_COST_PER_SAMPLE * plan.generation.vote
    config = plan.train_config
    t = clock.start("train", f"{plan.method_label} fine-tuning ({Path(config).stem if config else 'built-in config'}, "
                             f"{train_rows} rows)")
    run_dir, train_metrics = train_sft_run(config, plan.train_overrides, plan.folders.train,
                                           planned_seconds=clock.guess["train"])
    summary["train"] = {"run_dir": str(run_dir), **{k: v for k, v in train_metrics.items()
                                                     if isinstance(v, int | float | str)}}
    clock.finish("train", t)
    return run_dir


def finetuned_step(plan: RunPlan, test_rows: list[Example], run_dir: Path, clock: _Clock,
                   summary: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The fine-tuned model generates for the test rows and is scored (``finetuned/``); with the
    schema check, its greedy SQL alone is a row of the report too."""
    t = clock.start("finetuned", "fine-tuned model: generate -> eval")
    target = plan.finetuned_target(run_dir)
    tuned = generate_and_eval(test_rows, plan.folders.finetuned, target, plan.generation)
    summary["backends"]["finetuned"] = target.backend
    name = f"{plan.model} + {plan.method_label}"
    per_model = {name: tuned.greedy_rows if tuned.greedy_rows is not None else tuned.rows}
    if plan.generation.repair_beams:
        per_model[f"{name} + schema check"] = tuned.rows
        checked, replaced = tuned.repair_counts or (0, 0)
        summary["schema_check"] = {"beams": plan.generation.repair_beams, "checked": checked, "replaced": replaced}
    if plan.generation.vote:
        from kosql.vote.rows import vote_counts

        per_model[f"{name} + vote {plan.generation.vote}"] = tuned.rows
        summary["vote"] = vote_counts(list(iter_jsonl(tuned.preds_path)))
    clock.finish("finetuned", t)
    return per_model


def report_step(plan: RunPlan, per_model: dict[str, list[dict[str, Any]]], clock: _Clock,
                summary: dict[str, Any]) -> dict[str, Path]:
    """report.md, report.html, the plots and the terminal table; the results into ``summary``."""
    t = clock.start("report", "report")
    comp = compare(per_model)
    total = time.monotonic() - clock.t0
    notes = (f"kosql quickstart · {time.strftime('%Y-%m-%d')} · {summary['machine']['description']} · "
             f"{total / 60:.1f} min end to end")
    files = write_comparison(comp, plan.folders.out, title="kosql quickstart: base vs fine-tuned", notes=notes)
    print_comparison(comp, title="kosql quickstart (EX / TS-EX / EM, 95 % CI)")
    summary["results"] = {
        model: {f"{metric}:{sid}": {"k": comp.get(model, sid, metric).k, "n": comp.get(model, sid, metric).n,
                                    "acc": comp.get(model, sid, metric).acc}
                for sid, _ in comp.slices for metric in ("ex", "ts_ex", "em")}
        for model in comp.models}
    summary["paired"] = [{"a": a, "b": b, **res.to_dict()} for a, b, res in comp.paired]
    clock.finish("report", t)
    return files


def _native_bf16() -> bool:
    from kosql.models.cpu import cpu_supports_bf16

    return cpu_supports_bf16()


def _machine() -> dict[str, Any]:
    from kosql.models.cpu import cpu_model_name, probe_cpu_bf16

    cores = os.cpu_count() or 0
    bf16 = probe_cpu_bf16()
    kind = "native bf16" if bf16.native else "no native bf16"
    cpu = cpu_model_name()
    return {"cores": cores, "platform": platform.platform(), "python": platform.python_version(),
            "cpu": cpu, "native_bf16": bf16.native, "bf16_reason": bf16.reason,
            "description": f"{cores}-core {platform.machine()} CPU ({cpu}, {kind}), "
                           f"Python {platform.python_version()}"}
