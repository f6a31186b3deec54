"""`kosql judge` against a flaky server (429s, 5xx, 200 with an error body, bodies that are not JSON),
killed once mid-run and run again: every row ends with a verdict; the shared predictions reader and
dataset resolver (`bundled:small`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import kosql
from kosql.cli.main import main
from kosql.testing.fake_openai_server import FakeOpenAIServer, ServerConfig

REPO = Path(kosql.__file__).resolve().parent.parent


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    srv = FakeOpenAIServer(ServerConfig(retry_after="0")).start()
    yield srv
    srv.stop()


def _files(tmp_path: Path, n: int = 42, fault: dict[int, str] | None = None) -> dict[str, Path]:
    data, pred = tmp_path / "test.jsonl", tmp_path / "preds.jsonl"
    rows = [{"id": f"r{i}", "db_id": "d", "context": "CREATE TABLE t (a INT);", "question": f"질문 {i}",
             "answer": f"SELECT a FROM t WHERE a = {i}"} for i in range(n)]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    pred.write_text("".join(json.dumps({"id": r["id"], "pred": r["answer"] + (fault or {}).get(i, "")}) + "\n"
                            for i, r in enumerate(rows)), encoding="utf-8")
    return {"data": data, "pred": pred, "out": tmp_path / "out"}


def _args(f: dict[str, Path], url: str, *extra: str) -> list[str]:
    return ["judge", "--data", str(f["data"]), "--pred", str(f["pred"]), "--model", "gpt-4o-mini",
            "--base-url", url, "--out", str(f["out"]), "--no-progress", *extra]


def _records(out: Path) -> list[dict]:
    path = out / "judgments.jsonl"
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.endswith("}")]


def test_flaky_server_and_a_kill_end_with_a_verdict_for_every_row(server: FakeOpenAIServer, tmp_path: Path) -> None:
    server.config.faults = 0.3
    server.config.fault_kinds = ("429", "500", "503", "errbody", "badjson")
    server.config.latency = 0.1  # one request at a time: ~6 s in all, so the kill lands mid-run
    f = _files(tmp_path)
    args = _args(f, server.base_url, "--rpm", "60000", "--concurrency", "1", "--max-attempts", "12")
    cmd = [sys.executable, "-m", "kosql", *args]
    proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while len(_records(f["out"])) < 8 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    first = _records(f["out"])
    assert 8 <= len(first) < 42
    assert main(args) == 0  # the rerun judges the rest; nothing ends failed
    final = _records(f["out"])
    assert sorted(r["id"] for r in final) == sorted(f"r{i}" for i in range(42))
    assert all(r["status"] == "ok" and r["verdict"] == "yes" for r in final), \
        [r for r in final if r["status"] != "ok"][:3]
    outcomes = {e["outcome"] for e in server.log.snapshot()["entries"]}
    assert {"errbody", "badjson"} <= outcomes  # the faults did happen and were retried


def test_a_plain_rerun_retries_failed_rows(server: FakeOpenAIServer, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    f = _files(tmp_path, n=4, fault={1: " /*fault:400,400*/"})  # a 400 (not retried) on attempts 1 and 2
    args = _args(f, server.base_url, "--rpm", "60000")
    assert main(args) == 1
    assert [r["id"] for r in _records(f["out"]) if r["status"] == "failed"] == ["r1"]
    assert main([*args, "--no-retry-failed"]) == 1  # kept: nothing sent
    assert "0 sent, 4 reused" in capsys.readouterr().out
    assert main(args) == 1  # attempt 2: another 400
    assert main(args) == 0  # attempt 3 succeeds
    assert "1 sent, 3 reused" in capsys.readouterr().out
    assert all(r["status"] == "ok" for r in _records(f["out"]))


def test_judge_reads_predictions_as_eval_does(server: FakeOpenAIServer, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    f = _files(tmp_path, n=3)
    # 'sql' is a key kosql eval accepts: so does judge
    f["pred"].write_text("".join(json.dumps({"id": f"r{i}", "sql": f"SELECT a FROM t WHERE a = {i}"}) + "\n"
                                 for i in range(3)), encoding="utf-8")
    assert main(_args(f, server.base_url, "--rpm", "60000")) == 0
    assert len(_records(f["out"])) == 3
    # more predictions without ids than dataset rows: refused by both, never dropped silently
    f["pred"].write_text("".join(json.dumps({"pred": "SELECT 1"}) + "\n" for _ in range(5)), encoding="utf-8")
    assert main(_args(f, server.base_url)) == 2
    assert "has 5 predictions without ids but the dataset has 3 rows" in capsys.readouterr().err
    assert main(["eval", "--data", str(f["data"]), "--pred", str(f["pred"]), "--quiet"]) == 2
    assert "has 5 predictions without ids but the dataset has 3 rows" in capsys.readouterr().err
    # a generation that failed is not judged
    lines = [{"id": "r0", "pred": "SELECT a FROM t WHERE a = 0"}, {"id": "r1", "pred": "", "status": "failed",
                                                                    "error": "timeout after 5 attempt(s)"}]
    f["pred"].write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    f["out"] = tmp_path / "out2"
    assert main(_args(f, server.base_url, "--rpm", "60000")) == 0
    assert "1 rows failed to generate and are not judged" in capsys.readouterr().err
    assert [r["id"] for r in _records(f["out"])] == ["r0"]


def test_eval_and_judge_take_a_bundled_dataset(server: FakeOpenAIServer, tmp_path: Path) -> None:
    from kosql.data.resolve import load_dataset

    rows = load_dataset("bundled:small", "test")[:3]
    pred = tmp_path / "preds.jsonl"
    pred.write_text("".join(json.dumps({"id": r.id, "pred": r.answer}, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    assert main(["eval", "--data", "bundled:small", "--pred", str(pred), "--no-testsuite", "--quiet",
                 "--workers", "1", "--out", str(tmp_path / "ev")]) == 0
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["categories"]["correct"] == 3  # the bundled rows' databases were found
    assert main(["judge", "--data", "bundled:small", "--pred", str(pred), "--model", "gpt-4o-mini",
                 "--base-url", server.base_url, "--rpm", "60000", "--out", str(tmp_path / "j"),
                 "--no-progress"]) == 0
    assert sorted(r["id"] for r in _records(tmp_path / "j")) == sorted(r.id for r in rows)
