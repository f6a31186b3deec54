"""`kosql quickstart` end to end with the real default model, shrunk to a few rows and steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kosql.cli.main import main


@pytest.mark.slow
def test_quickstart_tiny_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("trl")
    out = tmp_path / "qs"
    args = ["quickstart", "--model", "smollm2-135m", "--out", str(out), "--test-per-split", "2",
            "--handwritten", "2", "--max-new-tokens", "24", "--batch-size", "4", "train.max_steps=1", "train.batch_size=2",
            "data.max_rows=4", "data.check_sql=false", "eval.dev_rows=0"]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["test_rows"] == {"heldout_domain": 2, "in_domain": 2, "handwritten": 2}
    assert summary["options"]["dataset"] == "bundled:small"  # the full-FT config's data
    assert set(summary["results"]) == {"smollm2-135m (base)", "smollm2-135m + full FT"}
    assert summary["backends"] == {"base": "hf", "finetuned": "hf"}  # a fully fine-tuned folder: transformers
    for name in ("report.md", "report.html", "ex_by_split.png", "base/preds.jsonl",
                 "finetuned/eval/per_row.jsonl", "train/adapter/config.json"):
        assert (out / name).exists(), name
    assert not (out / "train" / "adapter" / "adapter_config.json").exists()  # the whole model, no adapter
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| smollm2-135m + full FT |" in report and "held-out domains" in report
    printed = capsys.readouterr().out
    assert "left (estimate)" in printed and "TS-EX" in printed
    # a rerun resumes: generation and training outputs are reused, not redone
    preds_mtime = (out / "base" / "preds.jsonl").stat().st_mtime
    assert main(args) == 0
    assert (out / "base" / "preds.jsonl").stat().st_mtime == preds_mtime


@pytest.mark.slow
def test_quickstart_with_the_seeds_lora_method(tmp_path: Path) -> None:
    pytest.importorskip("trl")
    out = tmp_path / "qs"
    args = ["quickstart", "--model", "smollm2-135m", "--out", str(out), "--method", "lora", "--skip-base",
            "--test-per-split", "1", "--handwritten", "1",
            "--max-new-tokens", "16", "train.max_steps=1", "train.batch_size=2", "data.max_rows=4",
            "data.check_sql=false"]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["results"]) == {"smollm2-135m + LoRA"}
    assert (out / "train" / "adapter" / "adapter_config.json").exists()
    options = json.loads((out / "options.json").read_text(encoding="utf-8"))
    assert options["method"] == "lora" and options["dataset"] == "bundled:small"


@pytest.mark.slow
def test_quickstart_default_model_trains_lora_and_generates_with_llama_cpp(tmp_path: Path) -> None:
    """The default job: Qwen2.5-Coder-0.5B, LoRA in the chat format, base and fine-tuned generation on
    llama.cpp (the adapter exported to GGUF once)."""
    pytest.importorskip("trl")
    pytest.importorskip("llama_cpp")
    out = tmp_path / "qs"
    args = ["quickstart", "--out", str(out), "--test-per-split", "1", "--handwritten", "1", "--max-new-tokens", "24",
            "train.max_steps=1", "train.batch_size=2", "data.max_rows=4", "data.check_sql=false"]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["results"]) == {"qwen2.5-coder-0.5b (base)", "qwen2.5-coder-0.5b + LoRA"}
    assert summary["backends"] == {"base": "llamacpp", "finetuned": "llamacpp"}
    assert summary["prompt_format"] == "chat"
    assert list((out / "train" / "adapter").glob("adapter.*.gguf"))
