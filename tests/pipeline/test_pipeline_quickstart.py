"""The quickstart's run folder: resumed only with the options it was started with."""

from __future__ import annotations

from pathlib import Path

import pytest

from kosql.errors import UserError
from kosql.pipeline.quickstart import QuickstartOptions, check_resumable


def test_resume_with_the_same_options_and_refusal_with_others(tmp_path: Path) -> None:
    out = tmp_path / "run"
    opts = QuickstartOptions(out=out, train_overrides=["train.max_steps=5"])
    check_resumable(out, opts)
    (out / "test_rows.jsonl").write_text("{}\n", encoding="utf-8")
    check_resumable(out, QuickstartOptions(out=out, train_overrides=["train.max_steps=5"], batch_size=4))
    with pytest.raises(UserError, match="model='smollm2-135m', not 'gemma3-270m'"):
        check_resumable(out, QuickstartOptions(out=out, model="gemma3-270m", train_overrides=["train.max_steps=5"]))
    with pytest.raises(UserError, match="train_overrides"):
        check_resumable(out, QuickstartOptions(out=out))
    assert (out / "test_rows.jsonl").exists()  # nothing the user had is touched


def test_a_foreign_non_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(UserError, match="not made by this quickstart"):
        check_resumable(tmp_path, QuickstartOptions(out=tmp_path))
    assert (tmp_path / "mine.txt").read_text(encoding="utf-8") == "keep me"
    assert not (tmp_path / "options.json").exists()
