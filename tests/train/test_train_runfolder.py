"""Run folders (fresh / finished / interrupted / resume) and precision flags (pure parts of training)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kosql.errors import UserError
from kosql.models.cpu import Bf16Probe, decide_precision, probe_cpu_bf16
from kosql.train.manifest import RunFolder, load_run


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


NATIVE = Bf16Probe(True, "this CPU has native bf16")
NO_BF16 = Bf16Probe(False, "this CPU has no native bf16")


def test_auto_precision_follows_the_cpus_bf16() -> None:
    assert decide_precision("auto", cuda=False, cpu_bf16=NATIVE).flags == {"bf16": True, "fp16": False}
    slow = decide_precision("auto", cuda=False, cpu_bf16=NO_BF16)
    assert slow.flags == {"bf16": False, "fp16": False} and "no native bf16" in slow.reason
    assert decide_precision("bf16", cuda=False, cpu_bf16=NO_BF16).name == "bf16"  # asked for: kept, with a warning
    assert "very slow" in decide_precision("bf16", cuda=False, cpu_bf16=NO_BF16).reason
    assert decide_precision("fp32", cuda=False, cpu_bf16=NATIVE).name == "fp32"


def test_auto_precision_on_gpus_and_refusals() -> None:
    assert decide_precision("auto", cuda=True, gpu_bf16=True).name == "bf16"
    assert decide_precision("auto", cuda=True, gpu_bf16=False).flags == {"bf16": False, "fp16": True}
    with pytest.raises(UserError, match=r"^train\.precision: fp16 mixed precision needs a CUDA GPU"):
        decide_precision("fp16", cuda=False, cpu_bf16=NATIVE)
    with pytest.raises(UserError, match="does not support bf16"):
        decide_precision("bf16", cuda=True, gpu_bf16=False)


def test_bf16_probe_reads_dispatch_and_onednn_caps() -> None:
    pytest.importorskip("torch")
    assert probe_cpu_bf16(hardware=True, capability="AVX512", onednn_isa="").native
    assert not probe_cpu_bf16(hardware=False, capability="AVX2", onednn_isa="").native
    masked = probe_cpu_bf16(hardware=True, capability="AVX2", onednn_isa="")
    assert not masked.native and "ATEN_CPU_CAPABILITY" in masked.reason
    capped = probe_cpu_bf16(hardware=True, capability="AVX512", onednn_isa="AVX2")
    assert not capped.native and "ONEDNN_MAX_CPU_ISA" in capped.reason


def test_masked_cpu_trains_in_fp32(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulation of an AVX2-only CPU is seen by the probe (a fresh interpreter: torch reads the
    variables when it loads)."""
    pytest.importorskip("torch")
    import subprocess
    import sys

    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}
    code = ("from kosql.models.cpu import torch_precision; p = torch_precision('auto'); "
            "print(p.name, '|', p.reason)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.startswith("fp32 |"), out


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
