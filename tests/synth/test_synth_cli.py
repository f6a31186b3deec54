"""`kosql data synth` writes the files; --focus adds rows with the chosen features; bad tags fail."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from kosql.cli.main import main
from kosql.data.synth import generate_dataset, parse_focus
from kosql.errors import UserError


def _train_features(folder: Path) -> tuple[int, Counter[str]]:
    rows = [json.loads(x) for x in (folder / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    return len(rows), Counter(f for r in rows for f in r["features"])


def test_cli_writes_files(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    code = main(["data", "synth", "--out", str(out), "--size", "small", "--per-domain", "20", "--seed", "3"])
    assert code == 0
    for name in ("train.jsonl", "dev.jsonl", "test.jsonl", "stats.md", "dbs/shop.sqlite"):
        assert (out / name).is_file(), name
    n_train, _ = _train_features(out)
    assert n_train == 20 * 13


def test_cli_unknown_focus_is_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["data", "synth", "--out", str(tmp_path / "x"), "--focus", "having,joins"])
    assert code == 2
    err = capsys.readouterr().err
    assert "joins" in err and "having" in err  # names the bad tag and lists the valid ones
    with pytest.raises(UserError):
        parse_focus("nope")
    assert parse_focus("having, join,having") == ("having", "join")


def test_focus_adds_rows_with_those_features(tmp_path: Path) -> None:
    base = generate_dataset(tmp_path / "base", seed=0, per_domain=40, size="small")
    focused = generate_dataset(tmp_path / "focus", seed=0, per_domain=40, size="small",
                               focus="having,subquery")
    n_base, f_base = _train_features(tmp_path / "base")
    n_focus, f_focus = _train_features(tmp_path / "focus")
    assert n_focus > n_base
    extra = n_focus - n_base
    gained = (f_focus["having"] + f_focus["subquery"]) - (f_base["having"] + f_base["subquery"])
    assert gained >= extra  # every extra row carries a focus feature
    # the test files are unchanged by --focus
    assert (tmp_path / "base" / "test.jsonl").read_bytes() == (tmp_path / "focus" / "test.jsonl").read_bytes()
    assert focused.focus == ("having", "subquery") and base.focus == ()
