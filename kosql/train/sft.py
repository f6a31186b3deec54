"""Supervised fine-tuning (LoRA / QLoRA / full) with TRL's SFTTrainer: ``train_sft(cfg) -> run folder``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kosql.compat import quiet_foreign_deprecations
from kosql.data.rows import Example
from kosql.errors import UserError
from kosql.train.config import SFTConfig
from kosql.train.data import (
    DroppedRow,
    GoldCheck,
    TrainRecord,
    build_records,
    check_gold_sql,
    data_hash,
    length_stats,
    load_rows,
    select_rows,
)
from kosql.train.eta import StepClock
from kosql.train.manifest import RunFolder, append_log, make_manifest, write_json, write_run_config
from kosql.train.modeling import (
    adapted_layers,
    checkpointing_flag,
    cuda_available,
    freeze,
    is_main_process,
    linear_module_names,
    load_model,
    load_tokenizer,
    lora_config,
    require_torch,
    resolve_base,
    resolve_precision,
    set_threads,
    warmup_args,
)

Printer = Callable[[str], None]


@dataclass
class PreparedData:
    """Everything decided about the data before the model is loaded."""

    rows: list[Example]
    records: list[TrainRecord]
    dropped: list[DroppedRow]
    gold: GoldCheck
    dev_rows: list[Example] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "rows_loaded": len(self.rows),
            "rows_trained": len(self.records),
            "dropped": [d.__dict__ for d in self.dropped],
            "gold_sql_checked": self.gold.checked,
            "gold_sql_failures": [{"id": i, "error": e} for i, e in self.gold.failures],
            "gold_sql_note": self.gold.note,
            "hash": data_hash(self.records),
            "lengths": length_stats(self.records),
            "dev_rows": len(self.dev_rows),
        }


def prepare_data(cfg: SFTConfig, tokenizer: Any, echo: Printer = print) -> PreparedData:
    """Load, sample, check and tokenize the training rows of ``cfg`` (reports drops and SQL failures)."""
    d = cfg.data
    rows = load_rows(d.train, "train", field_name="data.train")
    rows = select_rows(rows, fraction=d.data_fraction, max_rows=d.max_rows, seed=d.seed, pool_rows=d.pool_rows)
    gold = check_gold_sql(rows) if d.check_sql else GoldCheck(note="gold SQL check disabled (data.check_sql)")
    records, dropped = build_records(rows, tokenizer, fmt=d.prompt_format, max_length=d.max_length,
                                     drop_ids=gold.failed_ids if d.drop_failing_sql else None)
    if gold.note:
        echo(f"note: {gold.note}")
    elif gold.failures:
        echo(f"warning: {len(gold.failures)} of {gold.checked} gold SQL queries fail to execute "
             f"(first: row {gold.failures[0][0]}: {gold.failures[0][1]})"
             + ("; dropped" if d.drop_failing_sql else "; kept (data.drop_failing_sql=false)"))
    else:
        echo(f"gold SQL: {gold.checked} queries executed, all ok")
    if dropped:
        long = [x for x in dropped if x.tokens]
        echo(f"dropped {len(dropped)} of {len(rows)} rows"
             + (f" ({len(long)} longer than data.max_length={d.max_length}, e.g. row {long[0].id}: {long[0].reason})"
                if long else f" (e.g. row {dropped[0].id}: {dropped[0].reason})"))
    if not records:
        raise UserError(f"data.train: no trainable rows left out of {len(rows)} (see the dropped rows above).")
    dev_rows: list[Example] = []
    if cfg.eval.dev_rows and cfg.data.dev:
        dev_rows = load_rows(cfg.data.dev, "dev", field_name="data.dev")[: cfg.eval.dev_rows]
    return PreparedData(rows, records, dropped, gold, dev_rows)


def check_paths(cfg: SFTConfig) -> None:
    """Fail fast (before loading a model or generating the bundled dataset) on missing datasets or an
    EX request without dev rows."""
    from kosql.train.data import check_dataset

    check_dataset(cfg.data.train, "train", field_name="data.train")
    if cfg.eval.dev_rows:
        if not cfg.data.dev:
            raise UserError("eval.dev_rows: EX on dev rows needs data.dev to name a dev dataset.")
        check_dataset(cfg.data.dev, "dev", field_name="data.dev")


def trainer_args(cfg: SFTConfig, run: RunFolder, *, progress: bool, max_length: int | None) -> Any:
    """TRL's SFTConfig built from ours."""
    from trl import SFTConfig as TRLSFTConfig

    t = cfg.train
    flags: dict[str, Any] = dict(resolve_precision(t.precision).flags)
    flags["use_cpu"] = not cuda_available()
    batching_modes: dict[str, dict[str, Any]] = {
        "grouped": {"train_sampling_strategy": "group_by_length"},
        "padding_free": {"padding_free": True},
        "packed": {"packing": True, "packing_strategy": "bfd"},
        "padded": {},
        # one dataset item = one group of up to batch_size rows (kosql.train.prefix), so 1 item per step
        "shared_prefix": {"remove_unused_columns": False, "dataset_kwargs": {"skip_prepare_dataset": True}},
    }
    batching = batching_modes[t.batching]
    shared = t.batching == "shared_prefix"
    return TRLSFTConfig(
        output_dir=str(run.checkpoints),
        per_device_train_batch_size=1 if shared else t.batch_size,
        gradient_accumulation_steps=t.grad_accum,
        learning_rate=t.learning_rate,
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        **warmup_args(t.warmup_ratio),
        weight_decay=t.weight_decay,
        lr_scheduler_type=t.lr_scheduler,
        max_grad_norm=t.max_grad_norm,
        **checkpointing_flag(TRLSFTConfig, t.gradient_checkpointing),
        logging_steps=t.logging_steps,
        logging_first_step=True,
        save_strategy="steps",
        save_steps=t.save_steps,
        save_total_limit=t.save_total_limit,
        seed=t.seed,
        data_seed=t.seed,
        report_to=[r for r in t.report_to if r != "none"] or "none",
        dataloader_num_workers=t.dataloader_workers,
        disable_tqdm=not progress,
        include_num_input_tokens_seen=False if shared else "non_padding",  # a 4D mask: counted in the loss
        max_length=max_length,
        completion_only_loss=True,
        ddp_find_unused_parameters=False,
        **flags,
        **batching,
    )


class _RunLogCallback:
    """Writes each trainer log entry (loss, lr, EX, ...) to train_log.jsonl; optional EX on a schedule."""

    def __init__(self, run: RunFolder, cfg: SFTConfig, tokenizer: Any, dev_rows: list[Example],
                 echo: Printer) -> None:
        self.run, self.cfg, self.tokenizer, self.dev_rows, self.echo = run, cfg, tokenizer, dev_rows, echo

    def make(self) -> Any:
        from transformers import TrainerCallback

        outer = self

        class Callback(TrainerCallback):  # type: ignore[misc]
            def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
                if state.is_world_process_zero and logs:
                    entry = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4),
                             "time": round(time.time(), 2), **logs}
                    append_log(outer.run, entry)

            def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any) -> None:
                every = outer.cfg.eval.every_steps
                if (every and outer.dev_rows and state.global_step % every == 0 and state.is_world_process_zero
                        and model is not None):
                    res = outer.ex(model)
                    append_log(outer.run, {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4),
                                           "dev_ex": res.get("ex"), "dev_rows": res.get("rows")})
                    outer.echo(f"step {state.global_step}: dev EX = {res.get('ex')}")

        return Callback()

    def ex(self, model: Any) -> dict[str, Any]:
        from kosql.train.ex import dev_ex

        e = self.cfg.eval
        return dev_ex(model, self.tokenizer, self.dev_rows, fmt=self.cfg.data.prompt_format,
                      batch_size=e.batch_size, max_new_tokens=e.max_new_tokens, timeout=e.timeout)


def shared_prefix_data(cfg: SFTConfig, data: PreparedData, tokenizer: Any, model: Any,
                       echo: Printer) -> tuple[list[dict[str, Any]], Any]:
    """Groups of up to ``train.batch_size`` rows sharing a prompt prefix, and their collator."""
    from kosql.prompts import uses_bos
    from kosql.train.prefix import SharedPrefixCollator, group_records, prefix_lengths

    bos = uses_bos(cfg.data.prompt_format)
    lengths = prefix_lengths(data.records, tokenizer, bos)
    groups = group_records(data.records, lengths, cfg.train.batch_size, seed=cfg.train.seed)
    flat = sum(len(r.input_ids) for r in data.records)
    packed = sum(len(g.input_ids) for g in groups)
    echo(f"shared-prefix batches: {len(data.records)} rows in {len(groups)} sequences, {packed} tokens instead of "
         f"{flat} ({flat / max(packed, 1):.2f}x fewer); {sum(1 for n in lengths if not n)} rows without a shared prefix")
    attn = str(getattr(model.config, "_attn_implementation", "") or "")
    if attn.startswith("flash") or attn.startswith("flex"):
        raise UserError(f"train.batching: shared_prefix needs a 4D attention mask, which {attn} attention does not "
                        "take; set model.attn_implementation=sdpa or use train.batching=grouped.")
    collator = SharedPrefixCollator(int(tokenizer.pad_token_id), additive_mask=attn == "eager")
    return [g.to_features() for g in groups], collator


def _write_run_records(cfg: SFTConfig, run: RunFolder, data: PreparedData, base_path: str,
                       ckpt: Path | None) -> None:
    """run_config.yaml, dropped_rows.json and manifest.json of a starting (or resumed) run."""
    summary = data.summary()
    write_run_config(run, cfg)
    write_json(run.root / "dropped_rows.json", summary["dropped"])
    write_json(run.manifest, make_manifest(
        kind="sft", cfg=cfg, base_model=cfg.model.name, base_model_path=base_path, seed=cfg.train.seed,
        data={"train": cfg.data.train, **{k: v for k, v in summary.items() if k != "dropped"},
              "dropped": len(summary["dropped"])},
        prompt_format=cfg.data.prompt_format, extra={"method": cfg.model.method,
                                                     "precision": asdict(resolve_precision(cfg.train.precision)),
                                                     "resumed_from": str(ckpt) if ckpt else None}))


def _load_trainable(cfg: SFTConfig, base_path: str, say: Printer) -> tuple[Any, Any]:
    """The base model with ``model.freeze_*`` applied (full) and the peft LoRA config (lora/qlora, else None)."""
    m = cfg.model
    model = load_model(base_path, method=m.method, precision=resolve_precision(cfg.train.precision),
                       attn_implementation=m.attn_implementation)
    if m.method == "full" and (m.freeze_embeddings or m.freeze_layers):
        trainable = freeze(model, embeddings=m.freeze_embeddings, layers=m.freeze_layers)
        total = sum(p.numel() for p in model.parameters())
        say(f"frozen: {'embeddings, ' if m.freeze_embeddings else ''}{m.freeze_layers} lowest layers; "
            f"{trainable / 1e6:.1f}M of {total / 1e6:.1f}M weights trained")
    peft_cfg = None
    if m.method in ("lora", "qlora"):
        lc = cfg.lora
        layers = adapted_layers(lc.top_layers, int(getattr(model.config, "num_hidden_layers", 0) or 0))
        peft_cfg = lora_config(lc.r, lc.alpha, lc.dropout, lc.target_modules, layers=layers,
                               linear_names=linear_module_names(model) if layers else None)
    return model, peft_cfg


def _build_trainer(cfg: SFTConfig, run: RunFolder, data: PreparedData, tokenizer: Any, base_path: str, *,
                   progress: bool, callbacks: list[Any], say: Printer) -> Any:
    """The SFT trainer over ``data``'s records (or shared-prefix groups), with the run-log callback first."""
    from datasets import Dataset

    from kosql.train.loss import trainer_class

    model, peft_cfg = _load_trainable(cfg, base_path, say)
    max_length = None if cfg.train.batching == "padding_free" else cfg.data.max_length
    args = trainer_args(cfg, run, progress=progress, max_length=max_length)
    if cfg.train.batching == "padded":
        args.pad_to_multiple_of = None
    collator = None
    if cfg.train.batching == "shared_prefix":
        features, collator = shared_prefix_data(cfg, data, tokenizer, model, say)
    else:
        features = [r.to_features() for r in data.records]
    with quiet_foreign_deprecations():  # TRL wraps the model with peft here
        return trainer_class()(model=model, args=args, train_dataset=Dataset.from_list(features),
                               processing_class=tokenizer, data_collator=collator, peft_config=peft_cfg,
                               callbacks=callbacks)


def _train_metrics(trainer: Any, result: Any, seconds: float, data: PreparedData) -> dict[str, Any]:
    """metrics.json of a finished run: steps, losses, time, tokens and rows."""
    state = trainer.state
    losses = [e["loss"] for e in state.log_history if "loss" in e]
    tokens_seen = int(getattr(state, "num_input_tokens_seen", 0) or getattr(trainer, "_total_train_tokens", 0) or 0)
    return {
        "global_step": state.global_step,
        "epoch": state.epoch,
        "train_loss": result.training_loss,
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "train_seconds": round(seconds, 2),
        "train_runtime": result.metrics.get("train_runtime"),
        "tokens_seen": tokens_seen,
        "tokens_per_second": round(tokens_seen / seconds, 1) if seconds and tokens_seen else None,
        "rows_trained": len(data.records),  # the rows prepared for training (after drops)
        # the rows the steps went through: epochs run (fractional with max_steps) x rows
        "rows_seen": round(float(state.epoch or 0.0) * len(data.records)),
        "rows_dropped": len(data.dropped),
    }


def _score_dev(run: RunFolder, logcb: _RunLogCallback, model: Any, step: int, metrics: dict[str, Any],
               say: Printer) -> None:
    """EX of the trained model on the dev rows into ``metrics``, dev_predictions.jsonl and the log."""
    say(f"scoring EX on {len(logcb.dev_rows)} dev rows ...")
    res = logcb.ex(model)
    metrics["dev_ex"] = res.get("ex")
    metrics["dev_ex_rows"] = res.get("rows")
    if res.get("note"):
        metrics["dev_ex_note"] = res["note"]
    (run.root / "dev_predictions.jsonl").write_text(
        "".join(json.dumps({"id": k, "pred": v}, ensure_ascii=False) + "\n" for k, v in res["preds"].items()),
        encoding="utf-8")
    append_log(run, {"step": step, "dev_ex": res.get("ex"), "dev_rows": res.get("rows")})


def _eta_callback(clock: StepClock) -> Any:
    """A trainer callback feeding ``clock`` the step times (the re-projected time left)."""
    from transformers import TrainerCallback

    class Callback(TrainerCallback):  # type: ignore[misc]
        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            clock.total_steps = int(state.max_steps or clock.total_steps)
            clock.begin()

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.is_world_process_zero:
                clock.step_done(int(state.global_step))

    return Callback()


def train_sft(cfg: SFTConfig, *, resume: bool = False, progress: bool = True,
              callbacks: list[Any] | None = None, echo: Printer | None = None,
              planned_seconds: float | None = None) -> Path:
    """Fine-tune ``cfg.model.name`` on ``cfg.data``; returns the run folder (adapter/, metrics.json, ...).

    ``resume`` continues from the newest checkpoint in ``<output_dir>/checkpoints``. Extra transformers
    ``callbacks`` are passed to the trainer (tests use one to simulate an interruption).
    The time left is re-projected from the measured steps and said after the first few; with
    ``planned_seconds`` (a pipeline's plan for the whole training) a projection over 1.5x the plan is
    called out with its likely cause (:mod:`kosql.train.eta`).
    """
    require_torch("Training")
    main = is_main_process()
    say: Printer = echo or (print if main else (lambda _msg: None))
    check_paths(cfg)
    run = RunFolder(Path(cfg.output_dir))
    ckpt = run.prepare(resume=resume, overwrite=cfg.overwrite)
    set_threads(cfg.train.threads)
    base_path = resolve_base(cfg.model.name)
    tokenizer = load_tokenizer(base_path)
    data = prepare_data(cfg, tokenizer, say)
    if main:
        _write_run_records(cfg, run, data, base_path, ckpt)
    prec = resolve_precision(cfg.train.precision)
    say(f"precision: {prec.name} ({prec.reason})")
    say(f"training on {len(data.records)} rows ({length_stats(data.records)['tokens']} tokens/epoch) "
        f"-> {run.root}" + (f", resuming from {ckpt.name}" if ckpt else ""))
    logcb = _RunLogCallback(run, cfg, tokenizer, data.dev_rows, say)
    clock = StepClock(total_steps=max(cfg.train.max_steps, 1), say=say, planned_seconds=planned_seconds,
                      precision=prec.name, planned_precision=prec.name)
    trainer = _build_trainer(cfg, run, data, tokenizer, base_path, progress=progress,
                             callbacks=[logcb.make(), _eta_callback(clock), *(callbacks or [])], say=say)
    t0 = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=str(ckpt) if ckpt else None)
    seconds = time.perf_counter() - t0
    state = trainer.state
    if state.global_step < state.max_steps:
        say(f"training stopped at step {state.global_step} of {state.max_steps}; continue with --resume")
        return run.root
    if not main:
        return run.root
    trainer.model.save_pretrained(str(run.adapter))
    tokenizer.save_pretrained(str(run.adapter))
    metrics = _train_metrics(trainer, result, seconds, data)
    metrics.update(precision=prec.name, precision_reason=prec.reason, **clock.summary())
    if data.dev_rows:
        _score_dev(run, logcb, trainer.model, state.global_step, metrics, say)
    write_json(run.metrics, metrics)
    return run.root
