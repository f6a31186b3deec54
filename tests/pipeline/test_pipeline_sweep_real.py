"""`kosql sweep` end to end with the real default model on a tiny two-point grid."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from kosql.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_tiny_sweep_runs_and_resumes(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("trl")
    config = tmp_path / "tiny.yaml"
    shutil.copy(ROOT / "configs" / "sweeps" / "tiny-test.yaml", config)
    text = config.read_text(encoding="utf-8").replace(
        "configs/sft-cpu-smollm2.yaml", str(ROOT / "configs" / "sft-cpu-smollm2.yaml"))
    config.write_text(text, encoding="utf-8")
    out = tmp_path / "sweep"
    assert main(["sweep", "--config", str(config), "--out", str(out)]) == 0
    with (out / "results.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["lora.r"] for r in rows] == ["4", "8"]
    assert all(r["n"] == "6" and r["ex"] != "" and 0.0 <= float(r["ex"]) <= 1.0 for r in rows)
    assert all(int(r["train_steps"]) == 2 for r in rows)
    assert (out / "summary.md").exists() and (out / "ex_by_lora_r.png").exists()
    mtime = (out / "results.csv").stat().st_mtime
    assert main(["sweep", "--config", str(config), "--out", str(out)]) == 0  # all points skipped
    assert (out / "results.csv").stat().st_mtime == mtime


def test_sweep_bad_field_fails_before_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("trl")
    config = tmp_path / "bad.yaml"
    config.write_text(
        f"name: bad\ntrain_config: {ROOT / 'configs' / 'sft-cpu-smollm2.yaml'}\ngrid:\n  lora.rank: [4]\n",
        encoding="utf-8")
    assert main(["sweep", "--config", str(config), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "lora.rank" in err and "lora.r" in err
    assert not (tmp_path / "o" / "results.csv").exists()
