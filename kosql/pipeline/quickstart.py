"""`kosql quickstart`: the whole pipeline on the embedded defaults, offline, on a CPU.

1. the bundled dataset (generated on first use) and a test subset (held-out domains + in-domain);
2. the base model generates SQL for it -> evaluation;
3. LoRA SFT with the CPU config -> the fine-tuned model generates -> evaluation;
4. a report like the seed's results table (report.md, report.html, PNGs, terminal table).

Every artifact lands in one run folder; rerunning with the same ``--out`` resumes where it stopped.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console

from kosql.data.rows import write_jsonl
from kosql.errors import UserError
from kosql.models.resolve import check_model
from kosql.pipeline.compare import compare, print_comparison, write_comparison
from kosql.pipeline.steps import (
    METHOD_LABELS,
    default_train_config,
    generate_and_eval,
    load_split,
    pick_test_rows,
    train_config,
    train_sft_run,
    tuned_model,
)
from kosql.train.data import check_dataset
from kosql.train.sft import check_paths

# First-guess seconds per step on a 2-core CPU (120 test rows); replaced by measurements as the run goes.
_GUESS = {"data": 30.0, "base": 180.0, "train": 630.0, "finetuned": 140.0, "report": 5.0}
# Seconds per training row on 2 idle cores (4 rows a step in shared-prefix batches), measured in
# sessions 4-6; the training step's estimate is this times the rows it will see.
_TRAIN_SECONDS_PER_ROW = {("smollm2-135m", "full"): 0.9, ("smollm2-135m", "lora"): 0.85,
                          ("gemma3-270m", "lora"): 0.55, ("gemma3-270m", "full"): 0.93}
# Korean column comments in the DDL ('+comments') double the prompt prefix: ~1.3x the seconds a training
# row (4.6-5.1 s a step instead of ~3.6, sessions 5 and 7) and ~1.4x the generation time (212 s vs 151 s).
_COMMENTS_COST = {"train": 1.3, "base": 1.4, "finetuned": 1.4}


@dataclass
class QuickstartOptions:
    """What the quickstart runs."""

    out: Path = field(metadata={"help": "Run folder."})
    model: str = field(default="smollm2-135m", metadata={"help": "Base model."})
    dataset: str | None = field(default=None, metadata={"help": "Dataset spec (default: the training config's "
                                                                 "bundled dataset, see quickstart_dataset)."})
    test_per_split: int = field(default=60, metadata={"help": "Test rows per split."})
    train_config: str | None = field(default=None, metadata={"help": "SFT config (default: CPU config)."})
    method: str | None = field(default=None, metadata={"help": "Fine-tuning method: 'full' or 'lora' "
                                                                "(default: the model's best measured one)."})
    train_overrides: list[str] = field(default_factory=list, metadata={"help": "key=value for training."})
    batch_size: int = field(default=16, metadata={"help": "Generation batch size."})
    max_new_tokens: int = field(default=96, metadata={"help": "Generation length limit."})
    seed: int = field(default=0, metadata={"help": "Seed of the test subset."})
    skip_base: bool = field(default=False, metadata={"help": "Do not evaluate the base model."})
    repair_beams: int = field(default=0, metadata={"help": "Schema-checked decoding of the fine-tuned model "
                                                             "with N beams (0 = off)."})


def quickstart_dataset(config: str | None, overrides: list[str]) -> str:
    """The dataset the quickstart uses when --data is not given: the training config's bundled dataset
    (the recipe was measured on it; ``bundled:small`` for the shipped CPU configs), or
    ``bundled:small`` when there is no config file or it trains on a file of its own."""
    spec = str(train_config(config, overrides).data.train) if config else ""
    return spec if spec.startswith("bundled:") else "bundled:small"


# Options that decide what a run folder holds: resuming with other values would mix two runs.
_RUN_DEFINING = ("model", "dataset", "test_per_split", "train_config", "method", "train_overrides", "max_new_tokens",
                 "seed", "repair_beams")


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


def step_guesses(model: str, method: str, train_rows: int, test_rows: int, dataset: str) -> dict[str, float]:
    """First guesses of each step's seconds on 2 idle cores: generation scaled from 120 test rows,
    training = its rows x measured seconds a row, both longer with '+comments' prompts."""
    guess = dict(_GUESS)
    for step in ("base", "finetuned"):
        guess[step] *= test_rows / 120
    guess["train"] = train_rows * _TRAIN_SECONDS_PER_ROW.get((model, method), 0.9)
    if dataset.endswith("+comments"):
        for step, factor in _COMMENTS_COST.items():
            guess[step] *= factor
    return guess


def initial_guesses(opts: QuickstartOptions, settings: Any, dataset: str) -> dict[str, float]:
    """The estimate's guesses before the data step: :func:`step_guesses` when the training plan is
    known without reading the data (``max_steps`` set), else the defaults (corrected after the data step)."""
    if settings.train.max_steps <= 0:
        return dict(_GUESS)
    return step_guesses(opts.model, str(settings.model.method), planned_train_rows(settings),
                        2 * opts.test_per_split, dataset)


def check_resumable(out: Path, opts: QuickstartOptions) -> None:
    """Record the options that define the run in ``out/options.json``; refuse to resume a folder
    that was started with other ones (UserError naming the first that differs), or a non-empty
    folder that no quickstart made (a quickstart folder of an older kosql, without the record, is
    resumed as it is)."""
    path = out / "options.json"
    current = {k: v for k, v in asdict(opts).items() if k in _RUN_DEFINING}
    current = json.loads(json.dumps(current, default=str))
    if path.exists():
        try:
            before = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            before = None
        if isinstance(before, dict):
            for key in _RUN_DEFINING:
                if key in before and before[key] != current.get(key):
                    raise UserError(f"Run folder {out} was started with {key}={before[key]!r}, not "
                                    f"{current.get(key)!r}; give another --out to start a new run.")
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


def run_quickstart(opts: QuickstartOptions, console: Console | None = None) -> dict[str, Any]:
    """Run the quickstart; returns the summary written to ``summary.json``."""
    console = console or Console()
    out = opts.out
    config = opts.train_config or default_train_config(opts.model, opts.method)  # a bad pair fails here
    if opts.dataset is None:
        opts = replace(opts, dataset=quickstart_dataset(config, opts.train_overrides))
    dataset = str(opts.dataset)
    overrides = [f"model.name={opts.model}", f"data.train={dataset}", "eval.dev_rows=0",
                 *([f"model.method={opts.method}"] if opts.method and opts.train_config else []),
                 *opts.train_overrides]
    settings = train_config(config, overrides)  # so does a bad config file or override, before any file is written
    check_dataset(dataset, "test", field_name="--data")  # and a dataset that is not there
    check_paths(settings)  # the training data, as `kosql train` checks it
    check_model(opts.model)  # and a model that cannot be found
    check_resumable(out, opts)
    steps = ["data", "train", "finetuned", "report"] if opts.skip_base else \
        ["data", "base", "train", "finetuned", "report"]
    clock = _Clock(console, steps)
    clock.guess.update(initial_guesses(opts, settings, dataset))
    summary: dict[str, Any] = {"options": {k: str(v) for k, v in asdict(opts).items()},
                               "machine": _machine(), "steps": {}}

    t = clock.start("data", "bundled dataset and test subset")
    test_rows = pick_test_rows(load_split(dataset, "test.jsonl", field_name="--data"), opts.test_per_split, opts.seed)
    write_jsonl(out / "test_rows.jsonl", test_rows)
    splits: dict[str, int] = {}
    for r in test_rows:
        key = str(r.extra.get("split") or "test")
        splits[key] = splits.get(key, 0) + 1
    console.print(f"test rows: {len(test_rows)} " + ", ".join(f"{k} {v}" for k, v in sorted(splits.items())))
    summary["test_rows"] = splits
    summary["steps"]["data"] = clock.finish("data", t)
    planned = planned_train_rows(settings)
    clock.guess.update(step_guesses(opts.model, str(settings.model.method), planned, len(test_rows), dataset))

    prompt_format = str(settings.data.prompt_format)  # the base model gets the same prompt
    method = METHOD_LABELS.get(str(settings.model.method), str(settings.model.method))
    summary["prompt_format"] = prompt_format
    per_model: dict[str, list[dict[str, Any]]] = {}
    if not opts.skip_base:
        t = clock.start("base", f"base model {opts.model}: generate -> eval")
        base = generate_and_eval(test_rows, out / "base", model=opts.model, label="base",
                                 prompt_format=prompt_format,
                                 batch_size=opts.batch_size, max_new_tokens=opts.max_new_tokens)
        per_model[f"{opts.model} (base)"] = base.rows
        took = clock.finish("base", t)
        summary["steps"]["base"] = took
        clock.guess["finetuned"] = took * 0.7  # the tuned model stops earlier than the rambling base
    if opts.repair_beams:  # measured: 4 beams for the ~50 % of rows that fail the check, 2.2x the time
        clock.guess["finetuned"] *= 1.0 + 0.3 * opts.repair_beams

    t = clock.start("train", f"{method} fine-tuning ({Path(config).stem if config else 'built-in config'}, "
                             f"{planned} rows)")
    run_dir, train_metrics = train_sft_run(config, overrides, out / "train")
    summary["train"] = {"run_dir": str(run_dir), **{k: v for k, v in train_metrics.items()
                                                     if isinstance(v, int | float | str)}}
    summary["steps"]["train"] = clock.finish("train", t)

    t = clock.start("finetuned", "fine-tuned model: generate -> eval")
    tuned_name, tuned_adapter = tuned_model(run_dir, opts.model)
    tuned = generate_and_eval(test_rows, out / "finetuned", model=tuned_name,
                              adapter=tuned_adapter, label="fine-tuned", prompt_format=prompt_format,
                              batch_size=opts.batch_size, max_new_tokens=opts.max_new_tokens,
                              repair_beams=opts.repair_beams)
    per_model[f"{opts.model} + {method}"] = tuned.greedy_rows if tuned.greedy_rows is not None else tuned.rows
    if opts.repair_beams:
        per_model[f"{opts.model} + {method} + schema check"] = tuned.rows
        checked, replaced = tuned.repair_counts or (0, 0)
        summary["schema_check"] = {"beams": opts.repair_beams, "checked": checked, "replaced": replaced}
    summary["steps"]["finetuned"] = clock.finish("finetuned", t)

    t = clock.start("report", "report")
    comp = compare(per_model)
    total = time.monotonic() - clock.t0
    notes = (f"kosql quickstart · {time.strftime('%Y-%m-%d')} · {summary['machine']['description']} · "
             f"{total / 60:.1f} min end to end")
    files = write_comparison(comp, out, title="kosql quickstart: base vs fine-tuned", notes=notes)
    print_comparison(comp, title="kosql quickstart (EX / TS-EX / EM, 95 % CI)")
    summary["results"] = {
        model: {f"{metric}:{sid}": {"k": comp.get(model, sid, metric).k, "n": comp.get(model, sid, metric).n,
                                    "acc": comp.get(model, sid, metric).acc}
                for sid, _ in comp.slices for metric in ("ex", "ts_ex", "em")}
        for model in comp.models}
    summary["paired"] = [{"a": a, "b": b, **res.to_dict()} for a, b, res in comp.paired]
    summary["steps"]["report"] = clock.finish("report", t)
    summary["total_seconds"] = total
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"[bold green]done[/] in {total / 60:.1f} min · report: {files['md']} · {files['html']}")
    return summary


def _machine() -> dict[str, Any]:
    cores = os.cpu_count() or 0
    return {"cores": cores, "platform": platform.platform(), "python": platform.python_version(),
            "description": f"{cores}-core {platform.machine()} CPU, Python {platform.python_version()}"}
