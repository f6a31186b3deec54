"""The page is Korean: /api answers carry the guard's and the cost check's sentences in Korean (`ko`),
beside the English the CLI prints (kosql.messages)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from kosql.serve.app import build_state, resolve_db
from kosql.serve.config import ServeConfig
from kosql.serve.fakes import fixed_backend

CROSS = "SELECT a.name FROM employees a, employees b, employees c, employees d"  # 160^4 row combinations
ENGLISH = re.compile(r"\b(?:added|lowered|Full|scans?|rows?|estimated|budget|refused|query|guard|table)\b")


@pytest.fixture
def server(live: Any, tmp_path: Path) -> Any:
    db = tmp_path / "hr.sqlite"
    shutil.copy(resolve_db("bundled:hr"), db)
    state = build_state(ServeConfig(model_id="kosql-test", feedback_path=tmp_path / "fb.jsonl"),
                        fixed_backend("SELECT name FROM employees;"), db=str(db))
    with live(None, state=state) as (url, _):
        yield url


def _korean_only(text: str) -> None:
    assert re.search(r"[가-힣]", text) and not ENGLISH.search(text), text


def test_notes_and_cost_in_korean_beside_the_english(server: str) -> None:
    out = httpx.post(server + "/api/ask", json={"question": "직원 이름"}, timeout=30).json()
    assert out["verdict"]["notes"] == ["LIMIT 100 added"]  # the API's fields keep the CLI's English
    assert out["cost"] == "Full scans: employees; at most 160 row combinations scanned."
    assert out["ko"]["notes"] == ["LIMIT 100 추가"]
    assert out["ko"]["cost"] == "전체 스캔: employees; 훑는 행 조합은 많아야 160개."
    assert out["ko"]["error"] is None and out["ko"]["reason"] == ""


@pytest.mark.parametrize("sql, field", [
    ("DELETE FROM employees", "reason"),  # the guard refuses
    ("SELECT nope FROM employees", "error"),  # the database refuses (its own error text stays as it is)
    (CROSS, "error"),  # the cost check refuses (rows over the budget)
])
def test_refusals_in_korean(server: str, sql: str, field: str) -> None:
    out = httpx.post(server + "/api/run", json={"sql": sql}, timeout=30).json()
    assert out["error"] and not re.search(r"[가-힣]", out["error"])  # English for API clients and the CLI
    _korean_only(out["ko"][field])
    _korean_only(out["ko"]["error"])
