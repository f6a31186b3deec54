"""The inference steps shared by the quickstart and sweeps (pick test rows, generate, evaluate) and
the shipped CPU training configs. Each step writes into a run folder and is resumed when its output
is partly there. Training itself is :mod:`kosql.pipeline.training`: nothing here imports
``kosql.train`` (a run folder is read through :mod:`kosql.runinfo`)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kosql.data.rows import Example
from kosql.models.base import Backend


def load_split(spec: str, split_file: str = "test.jsonl", field_name: str = "test_data") -> list[Example]:
    """Rows of one split of a dataset spec ('bundled:<size>', a folder or a file), with absolute
    ``db_path`` values (the same resolution ``kosql train`` uses for ``data.train``); errors name
    ``field_name``."""
    from kosql.data.resolve import load_dataset

    return load_dataset(spec, split_file.removesuffix(".jsonl"), field_name=field_name)


def pick_test_rows(rows: Sequence[Example], per_split: int, seed: int = 0) -> list[Example]:
    """A deterministic sample of ``per_split`` rows from each test split (all rows if fewer)."""
    by_split: dict[str, list[Example]] = {}
    for row in rows:
        by_split.setdefault(str(row.extra.get("split") or "test"), []).append(row)
    picked: list[Example] = []
    for split in sorted(by_split):
        group = by_split[split]
        if per_split and len(group) > per_split:
            group = sorted(random.Random(f"{seed}:{split}").sample(group, per_split), key=lambda r: r.id)
        picked.extend(group)
    return picked


@dataclass
class EvalOutcome:
    """Where one model's generations and scores went, and its per-row results."""

    preds_path: Path
    eval_dir: Path
    rows: list[dict[str, Any]]
    metrics: dict[str, Any]
    gen_seconds: float
    completion_tokens: int
    greedy_rows: list[dict[str, Any]] | None = None  # with repair_beams or vote: scores of the greedy SQL alone
    repair_counts: tuple[int, int] | None = None  # with repair_beams: (failed the check, replaced)


@dataclass(frozen=True)
class GenerationSettings:
    """How a run generates and scores SQL (the same for every model it evaluates)."""

    batch_size: int = 16
    max_new_tokens: int = 96
    repair_beams: int = 0  # schema-checked decoding with N beams (0 = off)
    vote: int = 0  # execution-guided voting over greedy + k samples (0 = off; kosql.vote)
    timeout: float = 5.0  # seconds per SQL execution when scoring
    testsuite: str = "always"


@dataclass(frozen=True)
class EvalTarget:
    """One model a run generates with: its name or folder, LoRA adapter, backend and prompt format.

    ``prompt_format`` None: :func:`kosql.models.prompting.default_prompt_format` (the format the adapter or a
    kosql-trained model folder was trained with, else the model's own), as in ``kosql generate``.
    """

    model: str
    adapter: str | None = None
    backend: str = "hf"
    prompt_format: str | None = None
    label: str = "model"

    def resolved_prompt_format(self, backend: Backend | None = None) -> str:
        from kosql.models.prompting import default_prompt_format

        return self.prompt_format or default_prompt_format(self.model, self.adapter, backend)


def generate_and_eval(rows: Sequence[Example], out_dir: Path, target: EvalTarget,
                      settings: GenerationSettings = GenerationSettings()) -> EvalOutcome:
    """Generate SQL for ``rows`` with ``target`` (resumable) and score it; outputs under ``out_dir``
    (``preds.jsonl``, ``eval/``; with ``settings.repair_beams`` also ``eval-greedy/``)."""
    from kosql.evaluate.api import evaluate_predictions, write_eval_outputs
    from kosql.models.base import GenerationParams
    from kosql.models.registry import load_backend
    from kosql.models.runner import generate_predictions

    s = settings
    out_dir.mkdir(parents=True, exist_ok=True)
    preds_path = out_dir / "preds.jsonl"
    backend = load_backend(target.backend, target.model, adapter=target.adapter)
    params = GenerationParams(max_new_tokens=s.max_new_tokens, batch_size=s.batch_size)
    preds = generate_predictions(list(rows), backend, preds_path, prompt_format=target.resolved_prompt_format(backend),
                                 batch_size=s.batch_size, params=params, resume=True, progress=True,
                                 repair_beams=s.repair_beams, vote=s.vote,
                                 source={"backend": target.backend, "adapter": target.adapter})
    del backend
    pred_map = {str(p["id"]): str(p.get("pred") or "") for p in preds}
    failed = {str(p["id"]): str(p.get("error")) for p in preds if p.get("status") == "failed"}
    report = evaluate_predictions(list(rows), pred_map, timeout=s.timeout, progress=True, testsuite=s.testsuite,
                                  failed=failed)
    eval_dir = out_dir / "eval"
    write_eval_outputs(report, eval_dir)
    outcome = EvalOutcome(preds_path=preds_path, eval_dir=eval_dir, rows=list(report.rows),
                          metrics=dict(report.metrics),
                          gen_seconds=sum(float(p.get("seconds") or 0.0) for p in preds),
                          completion_tokens=sum(int(p.get("completion_tokens") or 0) for p in preds))
    if s.repair_beams or s.vote:
        _score_greedy(rows, preds, out_dir, s, outcome)
    return outcome


def _score_greedy(rows: Sequence[Example], preds: list[dict[str, Any]], out_dir: Path, settings: GenerationSettings,
                  outcome: EvalOutcome) -> None:
    """With the schema check or the vote on: score each row's greedy SQL alone (the same run without
    them) into ``eval-greedy/`` and ``outcome.greedy_rows``, and count the checked and replaced rows."""
    from kosql.evaluate.api import evaluate_predictions, write_eval_outputs
    from kosql.models.runner import repair_counts

    outcome.repair_counts = repair_counts(preds)
    greedy = {str(p["id"]): str((p.get("repair") or p.get("vote") or {}).get("greedy", p.get("pred")) or "")
              for p in preds}
    report = evaluate_predictions(list(rows), greedy, timeout=settings.timeout, progress=False,
                                  testsuite=settings.testsuite)
    write_eval_outputs(report, out_dir / "eval-greedy")
    outcome.greedy_rows = list(report.rows)


METHOD_LABELS = {"lora": "LoRA", "qlora": "QLoRA", "full": "full FT"}


def adapter_dir(run_dir: Path) -> Path:
    return run_dir / "adapter"


def tuned_model(run_dir: Path, base: str) -> tuple[str, str | None]:
    """What generates after training in ``run_dir``: ``(base, its LoRA adapter folder)``, or
    ``(the fine-tuned model folder, None)`` after full fine-tuning (model.method 'full')."""
    folder = adapter_dir(run_dir)
    if (folder / "adapter_config.json").exists():
        return base, str(folder)
    return str(folder), None


# The CPU configs shipped with kosql (kosql/configs/, package data), by model and fine-tuning method.
CPU_CONFIGS = {("smollm2-135m", "full"): "sft-cpu-smollm2-full.yaml", ("smollm2-135m", "lora"): "sft-cpu-smollm2.yaml",
               ("gemma3-270m", "full"): "sft-cpu-gemma3-full.yaml", ("gemma3-270m", "lora"): "sft-cpu-gemma3.yaml",
               ("qwen2.5-coder-0.5b", "lora"): "sft-cpu-qwen-coder.yaml",
               ("qwen2.5-coder-1.5b", "lora"): "sft-cpu-qwen-coder-1.5b.yaml"}
# The method the quickstart uses when none is asked for: the one that scored best for that model.
DEFAULT_METHODS = {"smollm2-135m": "full", "gemma3-270m": "lora", "qwen2.5-coder-0.5b": "lora",
                   "qwen2.5-coder-1.5b": "lora"}


def default_method(model: str) -> str:
    """The quickstart's fine-tuning method for ``model``: the best measured one for an embedded
    model; LoRA for any other (a local folder or hub id may be far larger than 135M)."""
    return DEFAULT_METHODS.get(model, "lora")


def default_train_config(model: str = "smollm2-135m", method: str | None = None) -> str:
    """The CPU SFT config shipped with kosql (:func:`kosql.config.shipped_configs`) for ``model`` and
    ``method`` (the default model's for any other model).

    Raises UserError for a pair that has no shipped config, or when the file is missing from this
    install (never a silent fall-back to the dataclass defaults)."""
    from kosql.config import shipped_configs
    from kosql.errors import UserError

    method = method or default_method(model)
    key = (model if model in DEFAULT_METHODS else "smollm2-135m", method)
    if key not in CPU_CONFIGS:
        known = ", ".join(sorted(f"{m} --method {k}" for m, k in CPU_CONFIGS))
        raise UserError(f"No CPU config is shipped for {key[0]} with method '{method}' (shipped: {known}); "
                        "give one with --train-config.")
    path = shipped_configs() / CPU_CONFIGS[key]
    if not path.is_file():
        raise UserError(f"The shipped config {CPU_CONFIGS[key]} is missing from this kosql install "
                        f"({path}); reinstall kosql or give one with --train-config.")
    return str(path)

