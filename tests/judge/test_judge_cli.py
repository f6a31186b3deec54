"""`kosql judge` as a user runs it: clear errors, the printed report, kill -9 / Ctrl-C and resume."""

from __future__ import annotations

import json
import os
import signal
import socket
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
    srv = FakeOpenAIServer(ServerConfig()).start()
    yield srv
    srv.stop()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    data, pred, per_row = tmp_path / "test.jsonl", tmp_path / "preds.jsonl", tmp_path / "per_row.jsonl"
    rows = [{"id": f"r{i}", "db_id": "d", "context": "CREATE TABLE t (a INT);", "question": f"질문 {i}",
             "answer": f"SELECT a FROM t WHERE a = {i}"} for i in range(40)]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    pred.write_text("".join(json.dumps({"id": r["id"], "pred": r["answer"] if i % 4 else "SELECT 1"}) + "\n"
                            for i, r in enumerate(rows)))
    per_row.write_text("".join(json.dumps({"id": r["id"], "ex": bool(i % 4) and i != 5}) + "\n"
                               for i, r in enumerate(rows)))
    return {"data": data, "pred": pred, "ex": per_row, "out": tmp_path / "out"}


def _args(f: dict[str, Path], url: str, *extra: str) -> list[str]:
    return ["judge", "--data", str(f["data"]), "--pred", str(f["pred"]), "--model", "gpt-4o-mini",
            "--base-url", url, "--out", str(f["out"]), "--no-progress", *extra]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_judge_cli_report(server: FakeOpenAIServer, files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args(files, server.base_url, "--ex", str(files["ex"]))) == 0
    out = capsys.readouterr().out
    assert "yes rate" in out and "75.0 %" in out and "95 % CI" in out
    assert "Cohen's kappa" in out and "disagreements (1): r5" in out
    summary = json.loads((files["out"] / "summary.json").read_text())
    assert summary["verdicts"]["yes"] == 30 and summary["agreement_with_ex"]["judge_yes_ex_no"] == 1
    assert (files["out"] / "judgments.csv").read_text().count("\n") == 41


def test_judge_cli_clear_errors(server: FakeOpenAIServer, files: dict[str, Path],
                                capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def error_for(args: list[str]) -> str:
        assert main(args) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("Error: ") and "\n" not in err and "Traceback" not in err
        return err

    dead = f"http://127.0.0.1:{_free_port()}/v1"
    assert "Cannot connect to the judge server at " + dead in error_for(_args(files, dead))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert "OPENAI_API_KEY is not set" in error_for(_args(files, "https://api.openai.com/v1"))
    assert "JUDGE_KEY is not set" in error_for(_args(files, server.base_url, "--api-key-env", "JUDGE_KEY"))
    bad_model = _args(files, server.base_url)
    bad_model[bad_model.index("gpt-4o-mini")] = "gpt-9"
    assert "has no model 'gpt-9'" in error_for(bad_model)
    server.config.api_key = "sk-right"
    monkeypatch.setenv("JUDGE_KEY", "sk-wrong")
    assert "rejected the API key (HTTP 401)" in error_for(_args(files, server.base_url, "--api-key-env", "JUDGE_KEY"))
    assert not (files["out"] / "judgments.jsonl").exists()


def _ids(out: Path) -> list[str]:
    path = out / "judgments.jsonl"
    if not path.exists():
        return []
    return [json.loads(x)["id"] for x in path.read_text().splitlines() if x.endswith("}")]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_judge_cli_resume_after_kill(server: FakeOpenAIServer, files: dict[str, Path], sig: int) -> None:
    # 1/s: 40 rows take ~40 s, so the signal after 10 results lands mid-run even when start-up is slow
    # on a loaded machine (at 2/s a loaded CI run once saw all 40 rows finish first)
    cmd = [sys.executable, "-m", "kosql", *_args(files, server.base_url, "--rpm", "60")]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # SIGINT back to its default in the child: a test run started in the background of a
    # non-interactive shell (`cmd &`, as a CI script may) ignores SIGINT, the child inherits that and
    # Python then never raises KeyboardInterrupt (the judge ran all 40 rows after the signal)
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while len(_ids(files["out"])) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        before = len(_ids(files["out"]))
        proc.send_signal(sig)
        try:
            output = proc.communicate(timeout=60)[0].decode()
        except subprocess.TimeoutExpired:
            proc.kill()
            partial = (proc.communicate()[0] or b"").decode(errors="replace")
            pytest.fail(f"judge still running 60 s after signal {sig} ({before} results when sent, "
                        f"{len(_ids(files['out']))} now); output: {partial[-2000:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    done = _ids(files["out"])
    assert 10 <= len(done) < 40 and len(set(done)) == len(done)
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "run the same command again" in output
    server.log.reset()
    assert main(_args(files, server.base_url, "--rpm", "6000")) == 0
    final = _ids(files["out"])
    assert sorted(final) == sorted(f"r{i}" for i in range(40))  # all ids, each exactly once
    sent = len(server.log.snapshot()["entries"])
    assert sent == 40 - len(done)  # only the missing rows were sent again
