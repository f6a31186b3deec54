"""DPO from execution feedback: sample the SFT model, judge samples by execution, train TRL's DPOTrainer.

The pair builder (:func:`build_pairs`) is pure: it takes the rows, the sampled SQL per row and a
judge function, so tests can feed it fake generations.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kosql.compat import quiet_foreign_deprecations
from kosql.data.rows import Example
from kosql.errors import UserError
from kosql.prompts import build_prompt
from kosql.train.config import DPOConfig
from kosql.train.data import Tokenizer, load_rows, resolve_dataset, select_rows, tokenize_record
from kosql.train.manifest import (
    RunFolder,
    append_log,
    load_run,
    make_manifest,
    write_json,
    write_run_config,
)
from kosql.train.modeling import (
    checkpointing_flag,
    cuda_available,
    is_main_process,
    load_model,
    load_tokenizer,
    require_torch,
    resolve_base,
    resolve_precision,
    set_threads,
    warmup_args,
)

Printer = Callable[[str], None]


@dataclass(frozen=True)
class Verdict:
    """How one SQL fared on its row's database."""

    correct: bool
    executable: bool
    error: str | None = None
    gold_error: bool = False  # the gold SQL itself fails: the row cannot be judged


@dataclass
class PreferencePair:
    """One DPO example: ``chosen`` and ``rejected`` continue ``prompt``."""

    id: str
    prompt: str
    chosen: str
    rejected: str
    chosen_source: str  # 'gold' | 'sample'
    rejected_kind: str  # 'wrong_result' | 'error'


Judge = Callable[[Example, str], Verdict]


def _norm(sql: str) -> str:
    return " ".join(sql.strip().rstrip(";").split()).lower()


def build_pairs(rows: list[Example], samples: dict[str, list[str]], judge: Judge, *, chosen: str = "gold",
                prompt_fn: Callable[[Example], str] | None = None) -> tuple[list[PreferencePair], dict[str, int]]:
    """Preference pairs from sampled SQL judged by ``judge`` (pure given a pure judge).

    Per row: chosen = the gold SQL (or, with ``chosen='sample'``, a correct sample when there is one);
    rejected = an executable but wrong sample, else a failing one. Rows whose samples are all correct
    (or that have no samples) give no pair. Returns the pairs and counts of what happened.
    """
    make = prompt_fn or (lambda r: build_prompt(r.context, r.question, "seed"))
    pairs: list[PreferencePair] = []
    stats: Counter[str] = Counter()
    for row in rows:
        seen: dict[str, str] = {}
        for sql in samples.get(row.id, []):
            if sql.strip() and _norm(sql) not in seen:
                seen[_norm(sql)] = sql.strip()
        if not seen:
            stats["no_samples"] += 1
            continue
        verdicts = [(sql, judge(row, sql)) for sql in seen.values()]
        if any(v.gold_error for _, v in verdicts):
            stats["gold_error"] += 1
            continue
        good = [s for s, v in verdicts if v.correct]
        wrong = [s for s, v in verdicts if v.executable and not v.correct]
        failing = [s for s, v in verdicts if not v.executable and not v.correct]
        stats["samples"] += len(verdicts)
        stats["samples_correct"] += len(good)
        stats["samples_wrong_result"] += len(wrong)
        stats["samples_error"] += len(failing)
        if chosen == "sample" and good:
            chosen_sql, source = good[0], "sample"
        else:
            chosen_sql, source = row.answer.strip(), "gold"
        rejected = [(s, "wrong_result") for s in wrong] + [(s, "error") for s in failing]
        rejected = [(s, k) for s, k in rejected if _norm(s) != _norm(chosen_sql)]
        if not rejected:
            stats["all_correct"] += 1
            continue
        rej_sql, kind = rejected[0]
        pairs.append(PreferencePair(row.id, make(row), chosen_sql, rej_sql, source, kind))
        stats["pairs"] += 1
    return pairs, dict(stats)


def execution_judge(*, timeout: float = 5.0) -> Judge:
    """A judge backed by the evaluation engine's ``score_row`` (category correct / wrong_result / errors)."""
    if importlib.util.find_spec("kosql.evaluate.api") is None:
        raise UserError("kosql dpo judges samples by execution and needs kosql.evaluate.api, which is not installed.")
    from kosql.evaluate.api import score_row

    def judge(row: Example, sql: str) -> Verdict:
        if not row.db_path or not Path(row.db_path).exists():
            raise UserError(f"row {row.id}: kosql dpo needs a database for every training row (db_path).")
        res = score_row(row, sql, testsuite=False, em=False, timeout=timeout)
        category = str(res.get("category"))
        return Verdict(correct=category == "correct", executable=category in ("correct", "wrong_result"),
                       error=res.get("error"), gold_error=category == "gold_error")

    return judge


def sample_sql(model: Any, tokenizer: Any, rows: list[Example], cfg: DPOConfig, fmt: str) -> dict[str, list[str]]:
    """``k`` sampled SQL per row from the model (temperature > 0)."""
    from kosql.train.ex import extract, generate_texts

    s = cfg.sampling
    prompts = [build_prompt(r.context, r.question, fmt, tokenizer) for r in rows]
    texts = generate_texts(model, tokenizer, prompts, batch_size=s.batch_size, max_new_tokens=s.max_new_tokens,
                           do_sample=True, temperature=s.temperature, top_p=s.top_p, num_return_sequences=s.k,
                           seed=cfg.dpo.seed)
    return {r.id: [extract(t) for t in ts] for r, ts in zip(rows, texts, strict=True)}


def tokenize_pairs(pairs: list[PreferencePair], tokenizer: Tokenizer, *, fmt: str,
                   max_length: int) -> tuple[list[dict[str, list[int]]], int]:
    """``prompt_ids`` / ``chosen_ids`` / ``rejected_ids`` of each pair, the prompt and the SQL tokenized
    apart (EOS appended) as SFT trains and generation sees them; TRL's own tokenization of
    prompt + completion as one text merges the seed prompt's trailing spaces with the SQL's first
    word, so its training context would not be the one the model sees at inference. Pairs whose
    prompt alone fills ``max_length`` are dropped (as TRL drops them). Returns (rows, dropped)."""
    out: list[dict[str, list[int]]] = []
    dropped = 0
    for p in pairs:
        chosen = tokenize_record(p.id, p.prompt, p.chosen, tokenizer, fmt=fmt)
        rejected = tokenize_record(p.id, p.prompt, p.rejected, tokenizer, fmt=fmt)
        n = chosen.completion_mask.index(1)
        if n >= max_length:
            dropped += 1
            continue
        out.append({"prompt_ids": chosen.input_ids[:n], "chosen_ids": chosen.input_ids[n:],
                    "rejected_ids": rejected.input_ids[n:]})
    return out, dropped


def pretokenized_trainer_class() -> type:
    """TRL's ``DPOTrainer`` taking rows already tokenized by :func:`tokenize_pairs` as they are (a
    dataset with text columns is prepared by TRL as usual)."""
    from trl import DPOTrainer

    class KosqlDPOTrainer(DPOTrainer):  # type: ignore[misc]
        def _prepare_dataset(self, dataset: Any, processing_class: Any, args: Any, dataset_name: str) -> Any:
            if "prompt_ids" in (dataset.column_names or []):
                return dataset
            return super()._prepare_dataset(dataset, processing_class, args, dataset_name)

    return KosqlDPOTrainer


def _dpo_args(cfg: DPOConfig, run: RunFolder, *, progress: bool) -> Any:
    from trl import DPOConfig as TRLDPOConfig

    d = cfg.dpo
    flags: dict[str, Any] = dict(resolve_precision(d.precision, field_name="dpo.precision").flags)
    return TRLDPOConfig(
        output_dir=str(run.checkpoints), beta=d.beta, learning_rate=d.learning_rate, num_train_epochs=d.epochs,
        max_steps=d.max_steps, per_device_train_batch_size=d.batch_size, gradient_accumulation_steps=d.grad_accum,
        **warmup_args(d.warmup_ratio), logging_steps=d.logging_steps, logging_first_step=True, save_strategy="no",
        seed=d.seed, report_to=[r for r in d.report_to if r != "none"] or "none", disable_tqdm=not progress,
        **checkpointing_flag(TRLDPOConfig, False), max_length=cfg.data.max_length, use_cpu=not cuda_available(), **flags,
    )


Sampler = Callable[[Any, Any, list[Example]], dict[str, list[str]]]


def _check_sft_run(cfg: DPOConfig) -> tuple[RunFolder, dict[str, Any]]:
    """The SFT run DPO starts from and its manifest; fails fast on a full run or missing datasets."""
    sft_run, sft_manifest = load_run(cfg.sft_run, field_name="sft_run")
    if sft_manifest.get("method") == "full":
        raise UserError("sft_run: kosql dpo tunes a LoRA adapter; this run is a full fine-tuning run.")
    resolve_dataset(cfg.data.train, "train", field_name="data.train")
    if cfg.eval.dev_rows and not cfg.data.dev:
        raise UserError("eval.dev_rows: EX before/after needs data.dev to name a dev dataset.")
    return sft_run, sft_manifest


def _load_questions(cfg: DPOConfig) -> tuple[list[Example], list[Example]]:
    """The training questions to sample (``sampling.questions``) and the dev rows for EX before/after."""
    rows = load_rows(cfg.data.train, "train", field_name="data.train")
    rows = select_rows(rows, fraction=cfg.data.data_fraction, max_rows=cfg.sampling.questions or None,
                       seed=cfg.data.seed)
    dev = (load_rows(cfg.data.dev, "dev", field_name="data.dev")[: cfg.eval.dev_rows]
           if cfg.eval.dev_rows and cfg.data.dev else [])
    return rows, dev


def _load_policy(sft_run: RunFolder, sft_manifest: dict[str, Any]) -> tuple[Any, Any, str]:
    """The SFT adapter on its base model, trainable, with its tokenizer and the base model's path."""
    base_path = str(sft_manifest.get("base_model_path") or "")
    if not Path(base_path).is_dir():
        base_path = resolve_base(str(sft_manifest.get("base_model")), field_name="sft_run base_model")

    from peft import PeftModel

    tokenizer = load_tokenizer(str(sft_run.adapter))
    base = load_model(base_path, method="lora")
    with quiet_foreign_deprecations():
        model: Any = PeftModel.from_pretrained(base, str(sft_run.adapter), is_trainable=True)
    return model, tokenizer, base_path


def _make_pairs(cfg: DPOConfig, model: Any, tokenizer: Any, rows: list[Example], fmt: str,
                sampler: Sampler | None, judge: Judge | None,
                say: Printer) -> tuple[list[PreferencePair], dict[str, int]]:
    """Sample the model on ``rows``, judge each sample and pair it against a chosen SQL."""
    say(f"sampling {cfg.sampling.k} generations for {len(rows)} training questions ...")
    samples = (sampler(model, tokenizer, rows) if sampler is not None
               else sample_sql(model, tokenizer, rows, cfg, fmt))
    judge_fn = judge or execution_judge(timeout=cfg.sampling.timeout)
    pairs, stats = build_pairs(rows, samples, judge_fn, chosen=cfg.sampling.chosen,
                               prompt_fn=lambda r: build_prompt(r.context, r.question, fmt, tokenizer))
    say(f"{len(pairs)} preference pairs from {len(rows)} questions ({stats})")
    return pairs, stats


def _write_pair_records(cfg: DPOConfig, run: RunFolder, pairs: list[PreferencePair], stats: dict[str, int], *,
                        questions: int, sft_run: RunFolder, sft_manifest: dict[str, Any], base_path: str,
                        fmt: str) -> None:
    """run_config.yaml, pairs.jsonl and manifest.json of the run (written before training)."""
    write_run_config(run, cfg)
    (run.root / "pairs.jsonl").write_text(
        "".join(json.dumps(asdict(p), ensure_ascii=False) + "\n" for p in pairs), encoding="utf-8")
    write_json(run.manifest, make_manifest(
        kind="dpo", cfg=cfg, base_model=str(sft_manifest.get("base_model")), base_model_path=base_path,
        seed=cfg.dpo.seed, data={"train": cfg.data.train, "questions": questions, "pairs": len(pairs),
                                 "pair_stats": stats},
        prompt_format=fmt, extra={"method": "lora", "sft_run": str(sft_run.root),
                                  "precision": asdict(resolve_precision(cfg.dpo.precision, field_name="dpo.precision"))}))


def _dpo_trainer(cfg: DPOConfig, run: RunFolder, model: Any, tokenizer: Any, pairs: list[PreferencePair],
                 fmt: str, *, progress: bool, say: Printer) -> Any:
    """The DPO trainer over the pairs tokenized as SFT sees them (pairs whose prompt is too long dropped)."""
    from datasets import Dataset

    tokenized, too_long = tokenize_pairs(pairs, tokenizer, fmt=fmt, max_length=cfg.data.max_length)
    if too_long:
        say(f"{too_long} pairs dropped: their prompt alone fills data.max_length={cfg.data.max_length} tokens")
    if not tokenized:
        raise UserError(f"data.max_length: every pair's prompt is {cfg.data.max_length} tokens or longer; raise it.")
    return pretokenized_trainer_class()(model=model, args=_dpo_args(cfg, run, progress=progress),
                                        train_dataset=Dataset.from_list(tokenized), processing_class=tokenizer)


def train_dpo(cfg: DPOConfig, *, progress: bool = True, echo: Printer | None = None,
              sampler: Sampler | None = None, judge: Judge | None = None) -> Path:
    """Sample, judge, pair and DPO-train on top of ``cfg.sft_run``'s adapter; returns the run folder.

    ``sampler(model, tokenizer, rows)`` and ``judge`` replace sampling / execution judging (tests).
    """
    require_torch("DPO training")
    say: Printer = echo or (print if is_main_process() else (lambda _m: None))
    sft_run, sft_manifest = _check_sft_run(cfg)
    run = RunFolder(Path(cfg.output_dir))
    run.prepare(resume=False, overwrite=cfg.overwrite)
    set_threads(cfg.dpo.threads)
    prec = resolve_precision(cfg.dpo.precision, field_name="dpo.precision")
    say(f"precision: {prec.name} ({prec.reason})")
    fmt = str(sft_manifest.get("prompt_format") or cfg.data.prompt_format)
    rows, dev = _load_questions(cfg)
    model, tokenizer, base_path = _load_policy(sft_run, sft_manifest)
    from kosql.train.ex import dev_ex

    ex_kwargs: dict[str, Any] = {"fmt": fmt, "batch_size": cfg.eval.batch_size,
                                 "max_new_tokens": cfg.eval.max_new_tokens, "timeout": cfg.eval.timeout}
    before = dev_ex(model, tokenizer, dev, **ex_kwargs) if dev else {}
    if dev:
        say(f"dev EX before DPO: {before.get('ex')} on {len(dev)} rows")
    t0 = time.perf_counter()
    pairs, stats = _make_pairs(cfg, model, tokenizer, rows, fmt, sampler, judge, say)
    sample_seconds = time.perf_counter() - t0
    _write_pair_records(cfg, run, pairs, stats, questions=len(rows), sft_run=sft_run, sft_manifest=sft_manifest,
                        base_path=base_path, fmt=fmt)
    if not pairs:
        raise UserError("sampling: no preference pairs were built (every sample was correct or empty); "
                        "sample more questions or raise sampling.temperature.")
    trainer = _dpo_trainer(cfg, run, model, tokenizer, pairs, fmt, progress=progress, say=say)
    t1 = time.perf_counter()
    with quiet_foreign_deprecations():  # TRL reads peft's checkpointing flag every step
        result = trainer.train()
    train_seconds = time.perf_counter() - t1
    for entry in trainer.state.log_history:
        append_log(run, entry)
    model = trainer.model
    model.save_pretrained(str(run.adapter), selected_adapters=["default"])
    tokenizer.save_pretrained(str(run.adapter))
    after = dev_ex(model, tokenizer, dev, **ex_kwargs) if dev else {}
    if dev:
        say(f"dev EX after DPO: {after.get('ex')} (before: {before.get('ex')})")
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    write_json(run.metrics, {
        "pairs": len(pairs), "pair_stats": stats, "global_step": trainer.state.global_step,
        "train_loss": result.training_loss, "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None, "sample_seconds": round(sample_seconds, 2),
        "train_seconds": round(train_seconds, 2), "dev_ex_before": before.get("ex"),
        "dev_ex_after": after.get("ex"), "dev_rows": len(dev),
    })
    return run.root
