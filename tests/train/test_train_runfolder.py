"""Run folders (fresh / finished / interrupted / resume) and precision flags (pure parts of training)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kosql.errors import UserError
from kosql.train.manifest import RunFolder, load_run
from kosql.train.modeling import precision_flags


def test_run_folder_states(tmp_path: Path) -> None:
    run = RunFolder(tmp_path / "run")
    assert run.prepare(resume=False, overwrite=False) is None and run.root.is_dir()
    with pytest.raises(UserError, match="has no checkpoint to resume from"):
        run.prepare(resume=True, overwrite=False)
    for step in (5, 10, 50):
        (run.checkpoints / f"checkpoint-{step}").mkdir(parents=True)
    (run.checkpoints / "README.md").write_text("x")
    assert run.last_checkpoint() == run.checkpoints / "checkpoint-50"  # numeric, not text order
    assert run.prepare(resume=True, overwrite=False) == run.checkpoints / "checkpoint-50"
    with pytest.raises(UserError, match="interrupted run; pass --resume"):
        run.prepare(resume=False, overwrite=False)
    run.adapter.mkdir()
    run.metrics.write_text("{}")
    with pytest.raises(UserError, match="already holds a finished run"):
        run.prepare(resume=False, overwrite=False)
    assert run.prepare(resume=False, overwrite=True) is None


def test_load_run_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="^--run: run folder .* does not exist.$"):
        load_run(tmp_path / "nope")
    (tmp_path / "r").mkdir()
    with pytest.raises(UserError, match="has no manifest.json"):
        load_run(tmp_path / "r")
    (tmp_path / "r" / "manifest.json").write_text('{"base_model": "m"}')
    with pytest.raises(UserError, match="has no adapter/"):
        load_run(tmp_path / "r")
    (tmp_path / "r" / "adapter").mkdir()
    assert load_run(tmp_path / "r")[1] == {"base_model": "m"}


def test_precision_flags() -> None:
    assert precision_flags("auto", cuda=False) == {"bf16": True, "fp16": False}
    assert precision_flags("auto", cuda=True, bf16_ok=False) == {"bf16": False, "fp16": True}
    assert precision_flags("fp32", cuda=False) == {"bf16": False, "fp16": False}
    with pytest.raises(UserError, match=r"^train\.precision: fp16 mixed precision needs a CUDA GPU"):
        precision_flags("fp16", cuda=False)
    with pytest.raises(UserError, match="does not support bf16"):
        precision_flags("bf16", cuda=True, bf16_ok=False)


def test_qlora_on_cpu_is_a_clear_error() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    from kosql.train.modeling import load_model

    with pytest.raises(UserError, match=r"^model\.method: 'qlora' .* needs a CUDA GPU"):
        load_model("/nonexistent", method="qlora")


def test_merge_and_dpo_cli_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kosql.cli.main import main

    assert main(["merge", "--run", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 2
    assert "--run: run folder" in capsys.readouterr().err
    cfg = tmp_path / "dpo.yaml"
    cfg.write_text(f"sft_run: {tmp_path / 'nope'}\ndata:\n  train: x.jsonl\nsampling:\n  k: 0\n", encoding="utf-8")
    assert main(["dpo", "--config", str(cfg)]) == 2
    assert "field 'sampling.k' must be at least 1, got 0" in capsys.readouterr().err
    cfg.write_text(f"sft_run: {tmp_path / 'nope'}\ndata:\n  train: x.jsonl\n", encoding="utf-8")
    assert main(["dpo", "--config", str(cfg)]) == 2
    assert "sft_run: run folder" in capsys.readouterr().err


@pytest.mark.parametrize("enabled", [False, True])
def test_trainer_args_set_checkpointing_without_a_deprecation_warning(tmp_path: Path, enabled: bool) -> None:
    import warnings

    pytest.importorskip("trl")
    from kosql.config import load_config
    from kosql.train.config import SFTConfig
    from kosql.train.sft import trainer_args

    cfg = load_config(SFTConfig, None, ["data.train=bundled:small", f"output_dir={tmp_path}",
                                          f"train.gradient_checkpointing={enabled}"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        args = trainer_args(cfg, RunFolder(tmp_path), progress=False, max_length=64)
    assert args.gradient_checkpointing is enabled  # TRL's own default is True
    assert not [w for w in caught if "checkpointing" in str(w.message)]
