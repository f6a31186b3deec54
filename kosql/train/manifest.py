"""What kosql.train writes into a run folder: the resolved config, the manifest and the step log.

The folder's layout and its readers (``RunFolder``, ``read_json``, ``load_run``,
``trained_prompt_format``, ...) live in :mod:`kosql.runinfo`, below both training and inference;
they are re-exported here.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from importlib import metadata
from typing import Any

from kosql.config import dump_config, write_yaml
from kosql.runinfo import RunFolder, load_run, read_json, read_log, trained_prompt_format, write_json

__all__ = [
    "VERSIONED_PACKAGES", "RunFolder", "append_log", "load_run", "make_manifest", "package_versions",
    "read_json", "read_log", "trained_prompt_format", "write_json", "write_run_config",
]

VERSIONED_PACKAGES: tuple[str, ...] = (
    "kosql", "torch", "transformers", "trl", "peft", "accelerate", "datasets", "bitsandbytes",
)


def package_versions(names: tuple[str, ...] = VERSIONED_PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` (None when not installed)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def write_run_config(run: RunFolder, cfg: Any) -> None:
    write_yaml(dump_config(cfg), run.config)


def make_manifest(*, kind: str, cfg: Any, base_model: str, base_model_path: str, seed: int, data: dict[str, Any],
                  prompt_format: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest dict (pure apart from reading installed versions)."""
    from kosql.prompts import prompt_hash

    out: dict[str, Any] = {
        "kind": kind,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "base_model": base_model,
        "base_model_path": base_model_path,
        "seed": seed,
        "prompt_format": prompt_format,
        "prompt_hash": prompt_hash(prompt_format),
        "data": data,
        "versions": package_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "config": dump_config(cfg),
    }
    out.update(extra or {})
    return out


def append_log(run: RunFolder, entry: dict[str, Any]) -> None:
    """Append one entry to train_log.jsonl."""
    run.log.parent.mkdir(parents=True, exist_ok=True)
    with run.log.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
