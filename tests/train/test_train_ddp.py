"""`kosql train` under `accelerate launch`: 2 CPU processes (DDP over gloo) on the default model."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import write_dataset

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_process_ddp_run(tmp_path: Path, base_model_dir: str) -> None:
    pytest.importorskip("accelerate")
    data = write_dataset(tmp_path / "data", n_train=8, n_dev=2)
    cfg = tmp_path / "ddp.yaml"
    cfg.write_text(
        f"data:\n  train: {data / 'train.jsonl'}\n  max_length: 256\noutput_dir: {tmp_path / 'run'}\n"
        "train:\n  max_steps: 2\n  batch_size: 2\n  logging_steps: 1\n  threads: 1\n  warmup_ratio: 0.0\n",
        encoding="utf-8")
    cmd = [sys.executable, "-m", "accelerate.commands.launch",
           "--config_file", str(ROOT / "configs" / "accelerate" / "ddp-cpu.yaml"),
           "--main_process_port", str(_free_port()),
           "-m", "kosql.cli.train", "--config", str(cfg), "--no-progress"]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["global_step"] == 2
    # 2 steps x 2 rows x 2 processes = all 8 rows: one epoch (a single process would be at 0.5)
    assert metrics["epoch"] == pytest.approx(1.0)
    log = [json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log if "loss" in e] == [1, 2]  # written once, by the main process
