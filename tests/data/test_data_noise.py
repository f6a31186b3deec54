"""The raw-data noise injector used by the clean-vs-raw experiment."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from kosql.cli.main import main
from kosql.data.noise import NOISE_KINDS, add_noise
from kosql.data.rows import Example, read_jsonl, write_jsonl

DDL = "CREATE TABLE players (player_id INT PRIMARY KEY, user_name VARCHAR(50), email VARCHAR(100));"


def _rows(n: int = 40) -> list[Example]:
    return [Example(id=str(i), db_id="game", context=DDL, question=f"{i}번 플레이어의 이메일을 알려줘",
                    answer=f"SELECT email FROM players WHERE player_id = {i};") for i in range(n)]


def test_noise_kinds_and_determinism() -> None:
    a = add_noise(_rows(), rate=0.3, seed=1)
    b = add_noise(_rows(), rate=0.3, seed=1)
    assert [r.to_dict() for r in a] == [r.to_dict() for r in b]
    kinds = Counter(r.extra.get("noise") for r in a if r.extra.get("noise"))
    assert set(kinds) == set(NOISE_KINDS)
    assert len(a) == 40 + kinds["duplicate"] + kinds["near_duplicate"]
    broken = [r for r in a if r.extra.get("noise") == "broken_sql"]
    assert all(r.answer.endswith("WHERE (") for r in broken)


def test_noise_is_removed_by_clean_except_wrong_answers(tmp_path: Path) -> None:
    from kosql.data.clean import clean_examples

    noisy = add_noise(_rows(), rate=0.3, seed=1)
    result = clean_examples(noisy)
    kept_noise = Counter(r.extra.get("noise") for r in result.kept if r.extra.get("noise"))
    assert set(kept_noise) <= {"wrong_answer"}


def test_cli_refuses_to_overwrite_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "train.jsonl"
    write_jsonl(src, _rows())
    assert main(["data", "noise", str(src), "--out", str(src)]) == 2
    assert "refusing to write over the input" in capsys.readouterr().err
    assert main(["data", "noise", str(src), "--out", str(tmp_path / "raw.jsonl"), "--rate", "0.5"]) == 0
    assert len(read_jsonl(tmp_path / "raw.jsonl")) > 40
