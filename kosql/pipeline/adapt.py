"""`kosql adapt`: a LoRA adapter for the user's own database, measured against the base model.

0. the plan (:func:`plan_adapt`): the database opened read-only, its schema and the glossary checked,
   the questions file read, the model and recipe resolved, the training steps fitted to the time box:
   every check that can fail happens before anything is written;
1. ``data/``: training rows synthesized from the live schema (:func:`kosql.pipeline.synth_db.synth_from_database`),
   and ``train-rows.jsonl``: those rows beside a sample of general rows over other schemas
   (``--general``, ``bundled:mix`` by default) so that the model keeps reading the schema instead of
   learning one database's rows by heart;
2. the base model answers the evaluation sets (:mod:`kosql.pipeline.adapt_eval`) -> ``base/<set>/``;
3. LoRA fine-tuning with the model's shipped CPU recipe -> ``train/`` (the adapter in ``train/adapter``);
4. the adapted model answers the same rows -> ``adapted/<set>/``;
5. ``report.md`` / ``report.html`` (base vs adapted, exact McNemar test per set) and ``summary.json``.

Rerunning with the same ``--out`` resumes; other options are refused for a started folder.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from kosql.data.rows import Example, read_jsonl, write_jsonl
from kosql.errors import UserError
from kosql.models.resolve import DEFAULT_MODEL, SERVING_MODEL
from kosql.pipeline.adapt_eval import SETS, for_disk, is_url, read_feedback, read_gold
from kosql.pipeline.steps import EvalTarget, GenerationSettings, default_train_config, tuned_model
from kosql.pipeline.training import train_config, train_sft_run
from kosql.pipeline.verbalize import DEFAULT_LIMIT as VERBALIZE_LIMIT

GENERAL_SOURCE = "bundled:mix"
GENERAL_SHARE = 0.75  # 250 rows of one database + 750 general rows: see docs/results/adapt
TRAIN_ROWS = "train-rows.jsonl"
SYNTH_SECONDS = 30.0  # a first guess of the data step on a small database (bounded by --max-queries)
VERBALIZE_SECONDS = {"here": 5.0, "endpoint": 2.0}  # a rewritten query (rewrite + its SQL): 4.9 s measured for the 1.5B
MIN_STEPS = 10


@dataclass
class AdaptOptions:
    """What `kosql adapt` runs."""

    db: str = field(metadata={"help": "A SQLite file or a PostgreSQL URL (opened read-only)."})
    out: Path = field(metadata={"help": "Run folder."})
    names: Path | None = field(default=None, metadata={"help": "Glossary: 'column: 한국어 이름' a line."})
    gold: Path | None = field(default=None, metadata={"help": "Your questions (JSONL: question + answer)."})
    feedback: Path | None = field(default=Path("kosql-feedback.jsonl"),
                                  metadata={"help": "Corrections saved by `kosql serve` (used when it exists)."})
    minutes: float = field(default=20.0, metadata={"help": "Time box of the whole run in minutes."})
    steps: int | None = field(default=None, metadata={"help": "Training steps (instead of the time box)."})
    model: str = field(default=DEFAULT_MODEL, metadata={"help": "Base model."})
    train_overrides: list[str] = field(default_factory=list, metadata={"help": "key=value for training."})
    test_rows: int = field(default=60, metadata={"help": "Synthetic test rows evaluated (at most)."})
    phrasings: int = field(default=3, metadata={"help": "Korean questions per synthesized query."})
    max_queries: int | None = field(default=None, metadata={"help": "Queries to synthesize (default: synth's)."})
    seed: int = field(default=0, metadata={"help": "Seed of the synthesis and the test sample."})
    general: str = field(default=GENERAL_SOURCE, metadata={
        "help": "Rows over other schemas mixed into the training rows ('none': the database's rows only)."})
    general_share: float = field(default=GENERAL_SHARE, metadata={
        "help": "Share of the training rows drawn from --general (0 to below 1)."})
    backend: str | None = field(default=None, metadata={"help": "Generation backend (default: the model's)."})
    verbalizer_model: str | None = field(default=None, metadata={
        "help": "A model that rewrites generated questions as people ask them (kept when its SQL agrees)."})
    verbalizer_url: str | None = field(default=None, metadata={
        "help": "The OpenAI-compatible endpoint serving --verbalizer-model (default: run it here)."})
    verbalize: int = field(default=VERBALIZE_LIMIT, metadata={"help": "Training queries the verbalizer rewrites."})


# Options that decide what a run folder holds: resuming with other values would mix two runs.
_RUN_DEFINING = ("db", "names", "gold", "minutes", "steps", "model", "train_overrides", "test_rows", "phrasings",
                 "max_queries", "seed", "general", "general_share", "verbalizer_model", "verbalizer_url", "verbalize")


@dataclass
class AdaptPlan:
    options: AdaptOptions
    db_id: str
    context: str  # the live schema as `kosql ask` shows it
    names: dict[str, str]
    gold: list[Example]
    feedback: list[Example]
    config: str
    overrides: list[str]
    max_steps: int
    guesses: dict[str, float]
    backend: str

    @property
    def out(self) -> Path:
        return self.options.out

    @property
    def adapter(self) -> Path:
        return self.out / "train" / "adapter"

    def prompt_format(self) -> str:
        return str(train_config(self.config, self.overrides).data.prompt_format)

    def base_target(self) -> EvalTarget:
        return EvalTarget(self.options.model, backend=self.backend, prompt_format=self.prompt_format(), label="base")

    def adapted_target(self, run_dir: Path) -> EvalTarget:
        """The base model + the adapter trained in ``run_dir`` (its backend resolved now that it exists)."""
        from kosql.models.registry import default_backend

        name, adapter = tuned_model(run_dir, self.options.model)
        backend = self.options.backend or default_backend(name, adapter)
        return EvalTarget(name, adapter=adapter, backend=backend, prompt_format=self.prompt_format(),
                          label="adapted")


def _db_label(db: str) -> str:
    from kosql.pipeline.synth_db import _public_url

    return _public_url(db) if is_url(db) else str(Path(db).expanduser().resolve())


def _check_database(db: str, names_file: Path | None) -> tuple[str, str, dict[str, str]]:
    """(db_id, live schema DDL, glossary spelled as the schema does); UserError for a database that cannot
    be opened or read, that has no tables or only empty ones, or a glossary naming what it does not have."""
    from kosql.ask.schema import render_ddl
    from kosql.pipeline.synth_db import _db_id, _open, check_names, read_names

    if not is_url(db) and not Path(db).expanduser().is_file():
        raise UserError(f"--db: there is no SQLite file '{db}'.")
    names = read_names(names_file) if names_file is not None else {}
    connector, schema = _open(db)
    try:
        glossary = check_names(names, schema)
        if not any(_has_rows(connector, t) for t in schema.tables):
            raise UserError(f"--db: every table of {connector.url} is empty; there are no values to ask about.")
    finally:
        connector.close()
    return _db_id(db), render_ddl(schema, None), glossary


def _has_rows(connector: Any, table: str) -> bool:
    res = connector.execute(f'SELECT 1 FROM "{table.replace(chr(34), chr(34) * 2)}" LIMIT 1', max_rows=1,
                            timeout=5.0, denied_columns=[])
    return bool(res.ok and res.rows)


def fit_steps(opts: AdaptOptions, settings: Any, eval_rows: int) -> tuple[int, dict[str, float]]:
    """Training steps that fit the time box after the data step and both models' generation (the
    quickstart's measured seconds a row, :func:`kosql.pipeline.quickstart.step_guesses`), at least
    MIN_STEPS; ``--steps`` or a ``train.max_steps=`` override wins. Returns (steps, step guesses)."""
    from kosql.pipeline.quickstart import step_guesses

    rows_a_step = int(settings.train.batch_size * settings.train.grad_accum)
    method = str(settings.model.method)
    per_step = step_guesses(opts.model, method, rows_a_step, eval_rows, "")
    data = _data_seconds(opts)
    fixed = data + per_step["base"] + per_step["finetuned"] + per_step["report"]
    if opts.steps is not None:
        steps = opts.steps
    elif any(o.startswith("train.max_steps=") for o in opts.train_overrides):
        steps = int(settings.train.max_steps)
    else:
        steps = max(MIN_STEPS, math.floor((opts.minutes * 60 - fixed) / per_step["train"]))
    guesses = step_guesses(opts.model, method, steps * rows_a_step, eval_rows, "")
    guesses["data"] = data
    return steps, guesses


def _data_seconds(opts: AdaptOptions) -> float:
    if opts.verbalizer_model is None:
        return SYNTH_SECONDS
    return SYNTH_SECONDS + opts.verbalize * VERBALIZE_SECONDS["endpoint" if opts.verbalizer_url else "here"]


def plan_adapt(opts: AdaptOptions) -> AdaptPlan:
    """Every check that can fail, before anything is written (see the module docstring)."""
    from kosql.models.registry import default_backend
    from kosql.models.resolve import check_model

    if opts.steps is not None and opts.steps < 1:
        raise UserError("--steps must be at least 1.")
    if opts.minutes <= 0:
        raise UserError("--minutes must be more than 0.")
    _check_data_options(opts)
    config = default_train_config(opts.model, "lora")
    base = [f"model.name={opts.model}", "model.method=lora", f"data.train={opts.out / TRAIN_ROWS}", "eval.dev_rows=0"]
    settings = train_config(config, [*base, *opts.train_overrides])  # a bad override fails here
    db_id, context, glossary = _check_database(opts.db, opts.names)
    gold = read_gold(opts.gold, db_id, context, opts.db) if opts.gold is not None else []
    feedback = read_feedback(opts.feedback, opts.db, db_id) if opts.feedback is not None else []
    check_model(opts.model)
    steps, guesses = fit_steps(opts, settings, opts.test_rows + len(gold) + len(feedback))
    overrides = [*base, f"train.max_steps={steps}", *[o for o in opts.train_overrides
                                                      if not o.startswith("train.max_steps=")]]
    return AdaptPlan(options=opts, db_id=db_id, context=context, names=glossary, gold=gold, feedback=feedback,
                     config=config, overrides=overrides, max_steps=steps, guesses=guesses,
                     backend=opts.backend or default_backend(opts.model))


def _check_data_options(opts: AdaptOptions) -> None:
    """The --general and --verbalizer-* options, refused in one sentence before anything is written."""
    from kosql.data.resolve import check_source

    if not 0 <= opts.general_share < 1:
        raise UserError(f"--general-share must be at least 0 and below 1, not {opts.general_share}.")
    if opts.general != "none" and opts.general_share > 0:
        check_source(opts.general, "train", field_name="--general")
    from kosql.pipeline.verbalize import check_verbalizer

    check_verbalizer(opts.verbalizer_model, opts.verbalizer_url)
    if opts.verbalize < 1:
        raise UserError("--verbalize must be at least 1.")


def _record(opts: AdaptOptions) -> dict[str, Any]:
    current = {k: v for k, v in asdict(opts).items() if k in _RUN_DEFINING}
    current["db"] = _db_label(opts.db)
    return dict(json.loads(json.dumps(current, default=str)))


def check_resumable(opts: AdaptOptions) -> None:
    """Refuse a folder started with other options, or a non-empty one that `kosql adapt` did not make
    (reads only: the folder is created by the data step)."""
    from kosql.runinfo import first_difference, read_record

    path = opts.out / "options.json"
    if path.exists():
        diff = first_difference(read_record(path) or {}, _record(opts), _RUN_DEFINING)
        if diff is not None:
            key, was, now = diff
            raise UserError(f"Run folder {opts.out} was started with {key}={was!r}, not {now!r}; "
                            "give another --out to start a new run.")
    elif opts.out.exists() and any(opts.out.iterdir()):
        raise UserError(f"Run folder {opts.out} is not empty and was not made by kosql adapt; give another --out.")


def run_adapt(opts: AdaptOptions, console: Console | None = None) -> dict[str, Any]:
    """Run `kosql adapt`; returns the summary written to ``summary.json``."""
    console = console or Console()
    plan = plan_adapt(opts)
    check_resumable(opts)
    t0 = time.monotonic()
    console.print(f"[bold]kosql adapt[/] {_db_label(opts.db)} · {opts.model} + LoRA, {plan.max_steps} steps · "
                  f"about {sum(plan.guesses[s] for s in ('data', 'base', 'train', 'finetuned')) / 60:.0f} min (estimate)")
    summary: dict[str, Any] = {"options": _record(opts), "steps": {}, "max_steps": plan.max_steps}
    sets = _data_step(plan, console, summary)
    (opts.out / "options.json").write_text(json.dumps(_record(opts), ensure_ascii=False, indent=2) + "\n",
                                           encoding="utf-8")
    per_set: dict[str, dict[str, list[dict[str, Any]]]] = {name: {} for name in sets}
    _timed(summary, "base", lambda: _eval_step(plan, sets, plan.base_target(), "base", per_set, console))
    run_dir = _timed(summary, "train", lambda: _train_step(plan, console, summary))
    _timed(summary, "adapted", lambda: _eval_step(plan, sets, plan.adapted_target(run_dir), "adapted", per_set,
                                                  console))
    from kosql.pipeline.adapt_report import write_report

    files = write_report(plan, per_set, summary, time.monotonic() - t0)
    summary["total_seconds"] = round(time.monotonic() - t0, 1)
    (opts.out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"[bold green]done[/] in {summary['total_seconds'] / 60:.1f} min · report: {files['md']}")
    console.print("Ask your database with the adapter:\n  " + ask_command(plan), markup=False, soft_wrap=True)
    return summary


def ask_command(plan: AdaptPlan) -> str:
    """The `kosql ask` command line that uses the adapter of this run."""
    import shlex

    db = _db_label(plan.options.db) if is_url(plan.options.db) else plan.options.db
    model = "" if plan.options.model == SERVING_MODEL else f" --model {shlex.quote(plan.options.model)}"
    return f"kosql ask --db {shlex.quote(db)}{model} --adapter {shlex.quote(str(plan.adapter))} \"질문\""


def _timed(summary: dict[str, Any], step: str, fn: Any) -> Any:
    t = time.monotonic()
    result = fn()
    summary["steps"][step] = round(time.monotonic() - t, 1)
    return result


def _data_step(plan: AdaptPlan, console: Console, summary: dict[str, Any]) -> dict[str, list[Example]]:
    """Synthesize ``data/`` (reused on a rerun) and pick the evaluation sets (``sets/<name>.jsonl``)."""
    from kosql.pipeline.steps import pick_test_rows
    from kosql.pipeline.synth_db import synth_from_database

    data = plan.out / "data"
    opts = plan.options
    if not (data / "summary.json").exists():
        console.rule("[bold]step 1/5: training rows from the live schema")
        s = synth_from_database(opts.db, data, names=plan.names, phrasings=opts.phrasings, seed=opts.seed,
                                max_queries=opts.max_queries, progress=console.is_terminal)
        console.print(f"{s.queries} queries over {len(s.tables)} tables: {s.counts['train']} train, "
                      f"{s.counts['test']} test rows")
    summary["data"] = json.loads((data / "summary.json").read_text(encoding="utf-8"))
    if opts.verbalizer_model is not None and "verbalized" not in summary["data"]:
        summary["data"] = _verbalize_step(plan, console)
    summary["train_rows"] = _training_rows(plan, console)
    test = read_jsonl(data / "test.jsonl")
    for r in test:
        r.extra["split"] = "synthetic"
        if is_url(opts.db):
            r.extra["db_url"] = opts.db
    sets = {"synthetic": pick_test_rows(test, opts.test_rows, opts.seed), "gold": plan.gold, "feedback": plan.feedback}
    sets = {k: v for k, v in sets.items() if v}
    if not sets:
        raise UserError("The synthetic test split is empty and no --gold questions were given: nothing to evaluate.")
    for name, rows in sets.items():
        write_jsonl(plan.out / "sets" / f"{name}.jsonl", for_disk(rows))
    summary["eval_rows"] = {name: len(rows) for name, rows in sets.items()}
    return sets


def _verbalize_step(plan: AdaptPlan, console: Console) -> dict[str, Any]:
    """Add the verbalizer's kept rewrites to ``data/train.jsonl``; returns the updated data summary."""
    from kosql.pipeline.verbalize import load_verbalizer, verbalize_folder

    opts = plan.options
    model = str(opts.verbalizer_model)
    console.print(f"rewriting up to {opts.verbalize} questions with {model} (each kept only when its SQL agrees)")
    backend = load_verbalizer(model, opts.verbalizer_url)
    v = verbalize_folder(opts.db, plan.out / "data", backend, model=model, limit=opts.verbalize, seed=opts.seed,
                         progress=console.is_terminal)
    del backend
    console.print(f"{v.kept} of {v.queries} rewrites kept ({v.mismatched} gave another result, "
                  f"{v.unchanged} unchanged), {v.seconds:.0f} s")
    return dict(json.loads((plan.out / "data" / "summary.json").read_text(encoding="utf-8")))


def _training_rows(plan: AdaptPlan, console: Console) -> dict[str, Any]:
    """Write ``train-rows.jsonl`` once: the database's training rows and, unless ``--general none``, rows
    of ``--general`` sampled so that they make ``--general-share`` of the file, shuffled together."""
    import random

    from kosql.data.resolve import load_dataset

    opts = plan.options
    path, record = plan.out / TRAIN_ROWS, plan.out / "train-rows.json"
    if path.exists() and record.exists():
        return dict(json.loads(record.read_text(encoding="utf-8")))
    own = read_jsonl(plan.out / "data" / "train.jsonl")
    general: list[Example] = []
    if opts.general != "none" and opts.general_share > 0:
        want = round(len(own) * opts.general_share / (1 - opts.general_share))
        console.print(f"general rows: {want} from {opts.general} (generated on first use, about 20 s)")
        pool = load_dataset(opts.general, "train", field_name="--general")
        general = random.Random(f"kosql-adapt-general:{opts.seed}").sample(pool, min(want, len(pool)))
    rows = own + general
    random.Random(f"kosql-adapt-rows:{opts.seed}").shuffle(rows)
    write_jsonl(path, rows)
    info = {"database": len(own), "general": len(general), "general_source": opts.general}
    record.write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    console.print(f"training rows: {len(own)} from the database + {len(general)} general ({opts.general})")
    return info


def _eval_step(plan: AdaptPlan, sets: dict[str, list[Example]], target: EvalTarget, who: str,
               per_set: dict[str, dict[str, list[dict[str, Any]]]], console: Console) -> None:
    from kosql.pipeline.adapt_eval import evaluate_set

    console.rule(f"[bold]step {2 if who == 'base' else 4}/5: {who} model answers "
                 + ", ".join(f"{len(r)} {dict(SETS)[n]}" for n, r in sets.items()))
    settings = GenerationSettings(testsuite="never")
    for name, rows in sets.items():
        per_set[name][who] = evaluate_set(rows, plan.out / who / name, target, settings, plan.options.db)


def _train_step(plan: AdaptPlan, console: Console, summary: dict[str, Any]) -> Path:
    from kosql.train.sft import check_paths

    console.rule(f"[bold]step 3/5: LoRA fine-tuning, {plan.max_steps} steps")
    check_paths(train_config(plan.config, plan.overrides))
    run_dir, metrics = train_sft_run(plan.config, plan.overrides, plan.out / "train",
                                     planned_seconds=plan.guesses["train"])
    summary["train"] = {"run_dir": str(run_dir), **{k: v for k, v in metrics.items()
                                                     if isinstance(v, int | float | str)}}
    return run_dir

