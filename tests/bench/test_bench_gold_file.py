"""bench/gold_file.py: a kosql adapt --gold file from a ko_text2sql JSONL, filtered by split and db_id."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _row(i: int, split: str, db_id: str) -> dict[str, str]:
    return {"id": f"r{i}", "db_id": db_id, "split": split, "question": f"질문 {i}", "answer": f"SELECT {i}",
            "context": f"CREATE TABLE t{i} (a INT);"}


def _run(src: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "bench/gold_file.py"), str(src), *args],
                          capture_output=True, text=True)


def test_rows_of_one_split_and_database_with_their_own_context(tmp_path: Path) -> None:
    src = tmp_path / "rows.jsonl"
    rows = [_row(0, "dev", "a"), _row(1, "test", "a"), _row(2, "dev", "b")]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    done = _run(src, "--split", "dev")
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert out == [{k: r[k] for k in ("question", "answer", "context")} for r in (rows[0], rows[2])]
    one = [json.loads(line) for line in _run(src, "--split", "dev", "--db-id", "b").stdout.splitlines()]
    assert [r["answer"] for r in one] == ["SELECT 2"]
    none = _run(src, "--db-id", "nosuch")
    assert none.returncode == 2 and "no rows match" in none.stderr
