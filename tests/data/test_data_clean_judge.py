"""`kosql data clean --judge-model M --base-url URL`: an LLM judge pass over training rows (fake server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kosql.cli.main import main
from kosql.data.rows import Example, read_jsonl
from kosql.evaluate.judge_clean import judge_reason, split_by_verdict
from kosql.testing.fake_openai_server import FakeOpenAIServer, ServerConfig

DDL = "CREATE TABLE employees (id INT PRIMARY KEY, name VARCHAR(50), dept VARCHAR(20), salary INT);"
ROWS = [
    ("영업 부서 직원의 이름을 보여줘", "SELECT name FROM employees WHERE dept = '영업'"),
    # valid SQL on the right table, for another question: only a judge sees it
    ("개발 부서의 평균 급여는?", "SELECT COUNT(*) FROM employees /*verdict:no*/"),
    ("급여가 5000 이상인 직원 수는?", "SELECT COUNT(*) FROM employees WHERE salary >= 5000"),
    ("가장 높은 급여는?", "SELECT MIN(salary) FROM employees /*verdict:no*/"),
    ("인사 부서 직원 수는?", "SELECT COUNT(*) FROM employees WHERE dept = '인사'"),
]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    srv = FakeOpenAIServer(ServerConfig()).start()
    yield srv
    srv.stop()


@pytest.fixture
def train(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps({"id": f"r{i}", "db_id": "hr", "context": DDL, "question": q,
                                        "answer": a}, ensure_ascii=False) + "\n"
                            for i, (q, a) in enumerate(ROWS)), encoding="utf-8")
    return path


def _clean(train: Path, url: str, *extra: str) -> int:
    return main(["data", "clean", str(train), "--out", str(train.parent / "clean.jsonl"),
                 "--judge-model", "fake-judge", "--base-url", url, *extra])


def test_rows_judged_no_are_dropped_with_the_reason(server: FakeOpenAIServer, train: Path) -> None:
    assert _clean(train, server.base_url) == 0
    kept = read_jsonl(train.parent / "clean.jsonl")
    assert [e.id for e in kept] == ["r0", "r2", "r4"]
    dropped = [json.loads(line) for line in (train.parent / "clean.dropped.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(d["id"], d["reason"], d["row"]) for d in dropped] == [("r1", "judge_no", 2), ("r3", "judge_no", 4)]
    assert all("does not answer" in d["detail"] for d in dropped)
    report = (train.parent / "clean.jsonl.judge" / "report.md").read_text(encoding="utf-8")
    assert "dropped 2" in report and "가장 높은 급여는?" in report and "does not answer" in report


def test_a_rerun_reuses_the_judgments(server: FakeOpenAIServer, train: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _clean(train, server.base_url) == 0
    sent = len(server.log.snapshot()["entries"])
    (train.parent / "clean.jsonl").unlink()
    assert _clean(train, server.base_url) == 0
    assert "0 rows sent, 5 reused" in capsys.readouterr().out.replace("\n", " ")
    chats = [e for e in server.log.snapshot()["entries"][sent:] if e["path"].endswith("chat/completions")]
    assert chats == []
    assert [e.id for e in read_jsonl(train.parent / "clean.jsonl")] == ["r0", "r2", "r4"]


def test_failed_judgments_write_nothing_and_are_retried(server: FakeOpenAIServer, train: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    rows = [json.loads(line) for line in train.read_text(encoding="utf-8").splitlines()]
    rows[2]["answer"] += " /*fault:500,500,500,500,500*/"  # fails on all 5 attempts of the first run
    train.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert _clean(train, server.base_url) == 2
    assert "1 rows could not be judged" in capsys.readouterr().err
    assert not (train.parent / "clean.jsonl").exists()
    stored = [json.loads(line) for line in
              (train.parent / "clean.jsonl.judge" / "judgments.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(r["status"] for r in stored) == ["failed", "ok", "ok", "ok", "ok"]
    assert _clean(train, server.base_url) == 0  # the same command: only the failed row is sent again
    assert "1 rows sent, 4 reused" in capsys.readouterr().out.replace("\n", " ")
    assert [e.id for e in read_jsonl(train.parent / "clean.jsonl")] == ["r0", "r2", "r4"]


def test_judge_model_needs_a_base_url(train: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "clean", str(train), "--out", str(train.parent / "c.jsonl"), "--judge-model", "m"]) == 2
    assert "--base-url" in capsys.readouterr().err


def test_split_by_verdict_keeps_unparsed_and_reports_failures() -> None:
    exs = [Example(f"r{i}", "d", "", "q", "SELECT 1") for i in range(4)]
    recs = [{"id": "r0", "judge": "m", "status": "ok", "verdict": "yes", "raw": '{"resolve_yn": "yes"}'},
            {"id": "r1", "judge": "m", "status": "ok", "verdict": "no", "raw": '{"resolve_yn": "no", "reason": "wrong"}'},
            {"id": "r2", "judge": "m", "status": "ok", "verdict": "unparsed", "raw": "hmm"},
            {"id": "r3", "judge": "m", "status": "failed", "error": "HTTP 500"}]
    res = split_by_verdict(exs, recs, "m")
    assert [e.id for e in res.kept] == ["r0", "r2"] and res.unparsed == ["r2"]
    assert [(d.example.id, d.reason) for d in res.dropped] == [("r1", "wrong")]
    assert res.failed == {"r3": "HTTP 500"}
    assert judge_reason("no, the SQL counts rows") == "no, the SQL counts rows"
