"""Other kosql tools against `kosql serve`: `kosql judge --base-url`, and `kosql serve --backend openai`
sending generation to an external OpenAI-compatible server (kosql's fake one), started as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai

from kosql.cli.main import main
from kosql.models.fake import FakeBackend
from kosql.serve.live import free_port
from kosql.testing.fake_openai_server import FakeOpenAIServer, ServerConfig, judge_answer


def _judge_reply(prompt: str) -> str:
    return json.dumps({"resolve_yn": judge_answer(prompt) or "unknown"})


def test_kosql_judge_runs_against_kosql_serve(live, tmp_path: Path):
    data, pred = tmp_path / "test.jsonl", tmp_path / "pred.jsonl"
    rows = [{"id": f"r{i}", "db_id": "d", "context": "CREATE TABLE t (a INT);", "question": f"질문 {i}",
             "answer": f"SELECT a FROM t WHERE a = {i}"} for i in range(6)]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    pred.write_text("".join(json.dumps({"id": r["id"], "pred": r["answer"] if i % 2 else "SELECT 1"}) + "\n"
                            for i, r in enumerate(rows)), encoding="utf-8")
    backend = FakeBackend(name="judge", reply=_judge_reply)
    with live(backend, model_id="kosql-judge") as (url, state):
        code = main(["judge", "--data", str(data), "--pred", str(pred), "--model", "kosql-judge",
                     "--base-url", url + "/v1", "--no-progress", "--out", str(tmp_path / "out")])
        assert code == 0
        assert state.batcher.stats.prompts == 6
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdicts"]["yes"] == 3 and summary["verdicts"]["no"] == 3


def _wait_healthy(url: str, proc: subprocess.Popen[str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"kosql serve exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        try:
            return httpx.get(url + "/healthz", timeout=2).json()
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("kosql serve did not answer /healthz")


def test_serve_command_with_an_external_openai_server():
    with FakeOpenAIServer(ServerConfig(models=("upstream-model",))) as upstream:
        port = free_port()
        env = {**os.environ, "KOSQL_TEST_KEY": "k3y"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "kosql", "serve", "--backend", "openai", "--model", "upstream-model",
             "--base-url", upstream.base_url, "--port", str(port), "--api-key-env", "KOSQL_TEST_KEY",
             "--log-level", "warning"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            url = f"http://127.0.0.1:{port}"
            health = _wait_healthy(url, proc)
            assert health["model"] == "upstream-model" and health["auth"] is True
            client = openai.OpenAI(base_url=url + "/v1", api_key="k3y", max_retries=0)
            out = client.chat.completions.create(model="upstream-model",
                                                 messages=[{"role": "user", "content": "부서 목록"}])
            assert out.choices[0].message.content == "SELECT 1;"  # the upstream server's answer
            streamed = client.completions.create(model="upstream-model", prompt="x", stop=[";"], stream=True)
            assert "".join(c.choices[0].text for c in streamed if c.choices) == "SELECT 1"
            log = httpx.get(upstream.base_url.removesuffix("/v1") + "/_stats").json()["entries"]
            assert [e["path"] for e in log] == ["/v1/completions", "/v1/completions"]
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def test_serve_command_refuses_bad_setups(capsys):
    assert main(["serve", "--backend", "openai", "--model", "m"]) == 2
    assert "--base-url" in capsys.readouterr().err
    os.environ.pop("KOSQL_UNSET_KEY_VAR", None)
    assert main(["serve", "--backend", "fake", "--api-key-env", "KOSQL_UNSET_KEY_VAR"]) == 2
    assert "KOSQL_UNSET_KEY_VAR" in capsys.readouterr().err
    assert main(["serve", "--backend", "fake", "--db", "bundled:nope"]) == 2
    assert "no database 'nope'" in capsys.readouterr().err
