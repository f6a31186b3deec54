"""kosql.config: typed YAML configs with overrides; errors name the file and the field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from kosql.cli.main import main
from kosql.config import build_config, config_help, dump_config, load_config
from kosql.errors import UserError
from kosql.train.config import DPOConfig, SFTConfig

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Inner:
    r: int = field(default=16, metadata={"help": "rank", "min": 1})
    rate: float = field(default=0.1, metadata={"help": "rate", "min": 0.0, "max": 1.0})
    mode: Literal["a", "b"] = field(default="a", metadata={"help": "mode"})
    names: list[str] = field(default_factory=lambda: ["x"], metadata={"help": "names"})
    limit: int | None = field(default=None, metadata={"help": "limit"})


@dataclass
class Outer:
    path: str = field(metadata={"help": "required path"})
    flag: bool = field(default=False, metadata={"help": "flag"})
    inner: Inner = field(default_factory=Inner, metadata={"help": "inner"})


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "x.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_yaml_and_overrides(tmp_path: Path) -> None:
    p = _write(tmp_path, "path: a.jsonl\ninner:\n  r: 8\n  rate: 2e-4\n")
    cfg = load_config(Outer, p, ["inner.mode=b", "flag=true", "inner.names=[p, q]", "inner.limit=null"])
    assert cfg.path == "a.jsonl" and cfg.flag is True
    assert cfg.inner.r == 8 and cfg.inner.rate == pytest.approx(2e-4)  # PyYAML reads 2e-4 as a string
    assert cfg.inner.mode == "b" and cfg.inner.names == ["p", "q"] and cfg.inner.limit is None
    assert dump_config(cfg) == {"path": "a.jsonl", "flag": True,
                                "inner": {"r": 8, "rate": 2e-4, "mode": "b", "names": ["p", "q"], "limit": None}}
    assert build_config(Outer, dump_config(cfg)) == cfg


@pytest.mark.parametrize(("text", "overrides", "message"), [
    ("path: a\ninner:\n  rnk: 3\n", [], "x.yaml: unknown field 'inner.rnk' (did you mean 'inner.r'?)."),
    ("path: a\n", ["inner.rnk=3"], "override 'inner.rnk=3': unknown field 'inner.rnk' (did you mean 'inner.r'?)."),
    ("path: a\ninner:\n  r: sixteen\n", [], "x.yaml: field 'inner.r' must be an integer, got 'sixteen'."),
    ("path: a\n", ["inner.r=1.5"], "override 'inner.r=1.5': field 'inner.r' must be an integer, got 1.5."),
    ("path: a\nflag: maybe\n", [], "x.yaml: field 'flag' must be true or false, got 'maybe'."),
    ("inner: {}\n", [], "x.yaml: missing required field 'path'."),
    ("path: a\ninner:\n  r: 0\n", [], "x.yaml: field 'inner.r' must be at least 1, got 0."),
    ("path: a\ninner:\n  rate: 2\n", [], "x.yaml: field 'inner.rate' must be at most 1.0, got 2.0."),
    ("path: a\ninner:\n  mode: c\n", [], "x.yaml: field 'inner.mode' must be one of 'a', 'b', got 'c'."),
    ("path: a\ninner: 3\n", [], "x.yaml: field 'inner' must be a section (a mapping), got 3."),
    ("- a\n- b\n", [], "x.yaml: the top level must be a mapping of field names to values."),
])
def test_errors_name_the_field(tmp_path: Path, text: str, overrides: list[str], message: str) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(UserError) as err:
        load_config(Outer, p, overrides)
    assert str(err.value) == str(p.parent / message) if message.startswith("x.yaml") else str(err.value) == message


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such config file"):
        load_config(Outer, tmp_path / "nope.yaml")
    with pytest.raises(UserError, match="not valid YAML at line"):
        load_config(Outer, _write(tmp_path, "path: [a\n"))
    with pytest.raises(UserError, match="must look like key=value"):
        load_config(Outer, None, ["path"])


def test_every_field_has_help() -> None:
    for cls in (SFTConfig, DPOConfig):
        rows = config_help(cls)
        assert rows and all(help_text for _, _, help_text in rows), [n for n, _, h in rows if not h]


@pytest.mark.parametrize("name", ["sft-cpu-smollm2.yaml", "sft-cpu-gemma3.yaml", "sft-seed-autotrain.yaml",
                                  "dpo-cpu-smollm2.yaml"])
def test_shipped_configs_load_and_start_with_their_command(name: str) -> None:
    path = ROOT / "configs" / name
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# kosql ") and name in first
    cls = DPOConfig if name.startswith("dpo") else SFTConfig
    cfg = load_config(cls, path, [])
    assert dump_config(cfg)


def test_seed_config_matches_autotrain() -> None:
    cfg = load_config(SFTConfig, ROOT / "configs" / "sft-seed-autotrain.yaml", [])
    t, lo = cfg.train, cfg.lora
    assert (t.learning_rate, t.batch_size, t.epochs, cfg.data.max_length, t.warmup_ratio) == (2e-4, 8, 1, 1024, 0.1)
    assert (lo.r, lo.alpha, lo.dropout, t.weight_decay, t.grad_accum) == (16, 32, 0.05, 0.01, 8)
    assert (cfg.model.method, t.precision) == ("qlora", "fp16")


def test_cli_bad_configs_exit_2_with_one_sentence(tmp_path: Path, tiny_data: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    good = f"data:\n  train: {tiny_data / 'train.jsonl'}\noutput_dir: {tmp_path / 'run'}\n"
    cases = [
        (good + "lora:\n  rnk: 8\n", [], "unknown field 'lora.rnk' (did you mean 'lora.r'?)"),
        (good, ["train.learning_rate=fast"], "field 'train.learning_rate' must be a number, got 'fast'"),
        (f"data:\n  train: {tmp_path / 'missing.jsonl'}\n", [], "data.train: dataset file"),
        ("model:\n  name: smollm2-135m\n", [], "missing required field 'data.train'"),
        (good + "eval:\n  dev_rows: 4\n", [], "eval.dev_rows: EX on dev rows needs data.dev"),
    ]
    for text, overrides, expected in cases:
        path = tmp_path / "c.yaml"
        path.write_text(text, encoding="utf-8")
        assert main(["train", "--config", str(path), *overrides]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("Error: ") and expected in err and err.count("\n") == 0, err
    assert not (tmp_path / "run").exists()
