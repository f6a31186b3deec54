"""kosql ask / serve answer with the main job's fine-tuned adapter by default (--adapter auto)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kosql.cli.options import resolve_adapter
from kosql.runinfo import latest_quickstart_adapter


def _run(root: Path, name: str, model: str, *, finished: bool = True) -> Path:
    train = root / name / "train"
    (train / "adapter").mkdir(parents=True)
    (train / "adapter" / "adapter_config.json").write_text("{}")
    (train / "manifest.json").write_text(json.dumps({"base_model": model}))
    if finished:
        (root / name / "summary.json").write_text("{}")
    return train / "adapter"


def test_the_newest_finished_run_of_the_model_is_taken(tmp_path: Path) -> None:
    old = _run(tmp_path, "quickstart-1", "qwen2.5-coder-0.5b")
    new = _run(tmp_path, "quickstart-2", "qwen2.5-coder-0.5b")
    _run(tmp_path, "quickstart-3", "qwen2.5-coder-1.5b")
    _run(tmp_path, "quickstart-4", "qwen2.5-coder-0.5b", finished=False)
    os.utime(old.parents[1] / "summary.json", (1, 1))
    assert latest_quickstart_adapter("qwen2.5-coder-0.5b", tmp_path) == new
    assert latest_quickstart_adapter("smollm2-135m", tmp_path) is None
    assert latest_quickstart_adapter("qwen2.5-coder-0.5b", tmp_path / "nope") is None


def test_auto_none_and_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_adapter("auto", "qwen2.5-coder-0.5b", "auto", None)[0] is None  # no runs/: untrained, said
    adapter = _run(tmp_path / "runs", "quickstart-1", "qwen2.5-coder-0.5b")
    chosen, note = resolve_adapter("auto", "qwen2.5-coder-0.5b", "auto", None)
    assert chosen is not None and Path(chosen).resolve() == adapter.resolve() and "kosql quickstart" in note
    assert resolve_adapter("none", "qwen2.5-coder-0.5b", "auto", None) == (None, "")
    assert resolve_adapter("auto", "qwen2.5-coder-0.5b", "fake", None) == (None, "")
    assert resolve_adapter("my/adapter", "qwen2.5-coder-0.5b", "auto", None) == ("my/adapter", "")


def test_ask_and_serve_answer_with_the_serving_model_and_say_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --model, ask/serve use the 1.5B; a main-job adapter of the 0.5B is named, not applied to it."""
    from click.testing import CliRunner

    from kosql.cli.main import cli
    from kosql.models.resolve import DEFAULT_MODEL, SERVING_MODEL

    monkeypatch.chdir(tmp_path)
    adapter = _run(tmp_path / "runs", "quickstart-1", DEFAULT_MODEL)
    chosen, note = resolve_adapter("auto", SERVING_MODEL, "auto", None)
    assert chosen is None and f"--model {DEFAULT_MODEL}" in note and str(adapter.relative_to(tmp_path)) in note
    assert resolve_adapter("auto", DEFAULT_MODEL, "auto", None)[0] is not None
    for command in ("ask", "serve"):
        shown = CliRunner().invoke(cli, [command, "--help"]).output
        assert f"[default: {SERVING_MODEL}]" in " ".join(shown.split()), command
    shown = CliRunner().invoke(cli, ["generate", "--help"]).output
    assert f"[default: {DEFAULT_MODEL}]" in " ".join(shown.split())
