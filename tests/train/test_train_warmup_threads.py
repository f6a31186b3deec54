"""warmup_ratio reaches TRL as a ratio (1.0 = every step), and KOSQL_THREADS is honoured by training."""

from __future__ import annotations

from pathlib import Path

import pytest

from kosql.train.manifest import RunFolder
from kosql.train.modeling import thread_count, warmup_args


@pytest.mark.parametrize("ratio, steps", [(0.0, 0), (0.1, 4), (0.5, 20), (1.0, 40)])
def test_sft_trainer_args_warm_up_that_fraction_of_the_steps(tmp_path: Path, ratio: float, steps: int) -> None:
    pytest.importorskip("trl")
    from kosql.config import load_config
    from kosql.train.config import SFTConfig
    from kosql.train.sft import trainer_args

    cfg = load_config(SFTConfig, None, ["data.train=bundled:small", f"output_dir={tmp_path}",
                                          f"train.warmup_ratio={ratio}"])
    args = trainer_args(cfg, RunFolder(tmp_path), progress=False, max_length=64)
    assert args.get_warmup_steps(40) == steps


def test_dpo_trainer_args_warm_up_that_fraction_of_the_steps(tmp_path: Path) -> None:
    pytest.importorskip("trl")
    from kosql.config import load_config
    from kosql.train.config import DPOConfig
    from kosql.train.dpo import _dpo_args

    cfg = load_config(DPOConfig, None, [f"sft_run={tmp_path}", "data.train=bundled:small",
                                        f"output_dir={tmp_path}"])
    cfg.dpo.warmup_ratio = 1.0
    args = _dpo_args(cfg, RunFolder(tmp_path), progress=False)
    assert args.get_warmup_steps(12) == 12
    cfg.dpo.warmup_ratio = 0.25
    assert _dpo_args(cfg, RunFolder(tmp_path), progress=False).get_warmup_steps(12) == 3


def test_warmup_ratio_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        warmup_args(1.5)


def test_training_threads_come_from_the_config_then_kosql_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KOSQL_THREADS", raising=False)
    assert thread_count(None) is None
    assert thread_count(3) == 3
    monkeypatch.setenv("KOSQL_THREADS", "1")
    assert thread_count(None) == 1
    assert thread_count(4) == 4  # an explicit train.threads wins
    monkeypatch.setenv("KOSQL_THREADS", "x")
    assert thread_count(None) is None


def test_set_threads_applies_kosql_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    from kosql.train.modeling import set_threads

    before = torch.get_num_threads()
    monkeypatch.setenv("KOSQL_THREADS", "1")
    try:
        set_threads(None)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
