"""kosql installed from its wheel works outside a git checkout: the shipped configs are package data,
found from any folder, and a missing one is an error, never a silent fall-back to the defaults."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import kosql
from kosql.config import find_config, shipped_configs
from kosql.errors import UserError

REPO = Path(kosql.__file__).resolve().parent.parent


def test_documented_config_paths_resolve_from_any_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    found = find_config("configs/sweeps/tiny-test.yaml")
    assert found == shipped_configs() / "sweeps" / "tiny-test.yaml" and found.is_file()
    assert (shipped_configs() / "sft-cpu-smollm2-full.yaml").is_file()
    with pytest.raises(UserError, match="configs/nope.yaml: no such config file"):
        find_config("configs/nope.yaml")
    (tmp_path / "configs").mkdir()  # a config of the user's own, at the same relative path, wins
    (tmp_path / "configs" / "sft-cpu-smollm2.yaml").write_text("seed: 3\n", encoding="utf-8")
    assert find_config("configs/sft-cpu-smollm2.yaml") == Path("configs/sft-cpu-smollm2.yaml")


def test_a_missing_shipped_config_is_an_error_not_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kosql.config
    from kosql.pipeline.steps import default_train_config

    monkeypatch.setattr(kosql.config, "shipped_configs", lambda: tmp_path)
    with pytest.raises(UserError, match="sft-cpu-smollm2-full.yaml is missing from this kosql install"):
        default_train_config("smollm2-135m", "full")


def _site_packages(python: Path) -> Path:
    out = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         check=True, capture_output=True, text=True).stdout.strip()
    return Path(out)


@pytest.mark.slow
def test_the_wheel_runs_the_tiny_quickstart_from_another_folder(tmp_path: Path) -> None:
    pytest.importorskip("trl")
    # the wheel, built from a copy of the sources (nothing is written into the checkout)
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "kosql", src / "kosql", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(src),
                    "-w", str(tmp_path / "dist")], check=True, cwd=tmp_path)
    [wheel] = list((tmp_path / "dist").glob("kosql-*.whl"))
    # a fresh virtualenv that reuses this environment's packages (torch, transformers, the embedded
    # model) through a .pth file, without this environment's own kosql (an editable install)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    (_site_packages(python) / "_kosql_test_base.pth").write_text(sysconfig.get_paths()["purelib"] + "\n",
                                                                  encoding="utf-8")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.setdefault("KOSQL_THREADS", "1")
    where = subprocess.run([str(python), "-c", "import kosql; print(kosql.__file__)"], cwd=elsewhere, env=env,
                           check=True, capture_output=True, text=True).stdout.strip()
    assert Path(where).is_relative_to(venv), where  # the installed wheel, not the checkout
    kosql_bin = str(venv / "bin" / "kosql")
    dry = subprocess.run([kosql_bin, "sweep", "--config", "configs/sweeps/tiny-test.yaml", "--dry-run"],
                         cwd=elsewhere, env=env, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    args = [kosql_bin, "quickstart", "--model", "smollm2-135m", "--out", "qs", "--skip-base", "--test-per-split", "1",
            "--handwritten", "1", "--max-new-tokens", "16", "--batch-size", "2", "train.max_steps=1", "train.batch_size=2",
            "data.max_rows=4", "data.check_sql=false", "eval.dev_rows=0"]
    run = subprocess.run(args, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    summary = json.loads((elsewhere / "qs" / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["results"]) == {"smollm2-135m + full FT"}  # the shipped full-FT recipe, not LoRA defaults
    import yaml

    used = yaml.safe_load((elsewhere / "qs" / "train" / "config.yaml").read_text(encoding="utf-8"))
    shipped = yaml.safe_load((REPO / "kosql" / "configs" / "sft-cpu-smollm2-full.yaml").read_text(encoding="utf-8"))
    assert used["model"]["method"] == "full"
    assert used["train"]["learning_rate"] == shipped["train"]["learning_rate"]
