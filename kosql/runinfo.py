"""A training run's folder as inference and pipelines read it: layout, JSON files, prompt format.

Layout::

    <run>/config.yaml        resolved config (every field, defaults filled in)
    <run>/manifest.json      versions, seed, data hash, prompt hash, base model, row counts, drops
    <run>/train_log.jsonl    one JSON object per logged step (loss, lr, EX, ...)
    <run>/adapter/           the LoRA adapter (peft) + tokenizer, or the full model for method 'full'
    <run>/metrics.json       final numbers (train loss, tokens/s, EX)
    <run>/checkpoints/       trainer checkpoints (for --resume)

This module sits below both ``kosql.train`` (which writes run folders) and the commands that only
read them (``kosql generate``, the pipelines), so reading a run never imports training code.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kosql.errors import UserError


@dataclass
class RunFolder:
    """Paths of one run folder."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def log(self) -> Path:
        return self.root / "train_log.jsonl"

    @property
    def adapter(self) -> Path:
        return self.root / "adapter"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.json"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    def is_finished(self) -> bool:
        return self.metrics.exists() and self.adapter.exists()

    def last_checkpoint(self) -> Path | None:
        """The newest ``checkpoint-<step>`` folder, or None."""
        if not self.checkpoints.is_dir():
            return None
        found = [p for p in self.checkpoints.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()]
        if not found:
            return None
        return max(found, key=lambda p: int(p.name.split("-")[-1]))

    def prepare(self, *, resume: bool, overwrite: bool, field_name: str = "output_dir") -> Path | None:
        """Create the folder; returns the checkpoint to resume from (None = start fresh).

        A folder with a finished run is refused unless ``overwrite``; ``resume`` without a
        checkpoint is a UserError naming the folder.
        """
        if resume:
            ckpt = self.last_checkpoint()
            if ckpt is None:
                raise UserError(f"{field_name}: '{self.root}' has no checkpoint to resume from.")
            return ckpt
        if self.is_finished() and not overwrite:
            raise UserError(
                f"{field_name}: '{self.root}' already holds a finished run; choose another output_dir, "
                "pass overwrite=true, or --resume."
            )
        if self.last_checkpoint() is not None and not overwrite:
            raise UserError(
                f"{field_name}: '{self.root}' holds checkpoints of an interrupted run; pass --resume to continue "
                "it or overwrite=true to start again."
            )
        self.root.mkdir(parents=True, exist_ok=True)
        if overwrite and self.log.exists():
            self.log.unlink()
        return None


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (UTF-8, indented)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such file.") from None
    except json.JSONDecodeError:
        raise UserError(f"{path}: is not valid JSON.") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: is not a JSON object.")
    return data


def read_log(run: RunFolder) -> list[dict[str, Any]]:
    if not run.log.exists():
        return []
    return [json.loads(line) for line in run.log.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_run(path: str | Path, *, field_name: str = "--run") -> tuple[RunFolder, dict[str, Any]]:
    """A finished run folder and its manifest; a UserError names what is missing."""
    run = RunFolder(Path(path))
    if not run.root.is_dir():
        raise UserError(f"{field_name}: run folder '{run.root}' does not exist.")
    if not run.manifest.exists():
        raise UserError(f"{field_name}: '{run.root}' has no manifest.json (not a kosql training run).")
    if not run.adapter.is_dir():
        raise UserError(f"{field_name}: '{run.root}' has no adapter/ folder (the run did not finish).")
    return run, read_json(run.manifest)


def trained_prompt_format(path: str | Path | None) -> str | None:
    """The prompt format a model was trained with, read from the run's manifest.json next to its
    ``adapter/`` folder (``path`` is the adapter folder or the run folder); None when unknown."""
    if not path:
        return None
    for candidate in (Path(path) / "manifest.json", Path(path).parent / "manifest.json"):
        if candidate.is_file():
            try:
                fmt = read_json(candidate).get("prompt_format")
            except UserError:
                return None
            return str(fmt) if fmt else None
    return None


def read_record(path: Path) -> dict[str, Any] | None:
    """The JSON object recorded in ``path`` (what produced a file or run folder), or None when there
    is none or it cannot be read."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def first_difference(before: dict[str, Any], current: dict[str, Any],
                     keys: list[str] | tuple[str, ...] | None = None) -> tuple[str, Any, Any] | None:
    """(key, recorded value, current value) of the first of ``keys`` (default: ``current``'s) recorded
    in ``before`` with another value, or None."""
    for key in keys if keys is not None else list(current):
        if key in before and before[key] != current.get(key):
            return key, before[key], current.get(key)
    return None


def latest_quickstart_adapter(model: str, root: str | Path = "runs") -> Path | None:
    """The adapter of the newest finished ``kosql quickstart`` run under ``root`` (its default
    ``runs/``) that fine-tuned ``model``, or None: what ``kosql ask`` and ``kosql serve`` answer with by
    default, since the main job's model beats the untrained one on every set measured."""
    best: tuple[float, Path] | None = None
    base = Path(root)
    if not base.is_dir():
        return None
    for summary in base.glob("*/summary.json"):
        adapter = summary.parent / "train" / "adapter"
        manifest = summary.parent / "train" / "manifest.json"
        if not (adapter / "adapter_config.json").is_file() or not manifest.is_file():
            continue
        try:
            if read_json(manifest).get("base_model") != model:
                continue
        except (OSError, ValueError, UserError):
            continue
        stamp = summary.stat().st_mtime
        if best is None or stamp > best[0]:
            best = (stamp, adapter)
    return best[1] if best else None
