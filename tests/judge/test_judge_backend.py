"""`--backend openai`: chat and completions endpoints against the fake server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kosql.errors import UserError
from kosql.models.base import Backend, GenerationParams
from kosql.models.openai_backend import OpenAIBackend
from kosql.testing.fake_openai_server import FakeOpenAIServer, ServerConfig


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    srv = FakeOpenAIServer(ServerConfig(retry_after="0")).start()
    yield srv
    srv.stop()


@pytest.mark.parametrize("endpoint", ["chat", "completions"])
def test_judge_backend_generates(server: FakeOpenAIServer, endpoint: str) -> None:
    backend = OpenAIBackend("fake-judge", base_url=server.base_url, endpoint=endpoint,  # type: ignore[arg-type]
                            rpm=6000, timeout=2)
    assert isinstance(backend, Backend)
    prompts = ["질문 1 /*fault:503*/", "질문 2", "질문 3"]
    out = backend.generate(prompts, GenerationParams(num_return_sequences=2))
    assert len(out) == 6 and all(g.text == "SELECT 1;" and g.prompt_tokens > 0 for g in out)
    paths = {e["path"] for e in server.log.snapshot()["entries"]}
    assert paths == {"/v1/chat/completions" if endpoint == "chat" else "/v1/completions"}
    assert backend.failures == []


def test_judge_backend_failures_and_fatal_errors(server: FakeOpenAIServer) -> None:
    backend = OpenAIBackend("fake-judge", base_url=server.base_url, rpm=6000, max_attempts=2)
    out = backend.generate(["a /*fault:400**/", "b"], GenerationParams())
    assert [g.text for g in out] == ["", "SELECT 1;"] and len(backend.failures) == 1
    with pytest.raises(UserError, match="model 'nope' was not found"):
        OpenAIBackend("nope", base_url=server.base_url).generate(["x"], GenerationParams())


def test_generate_cli_with_openai_backend(server: FakeOpenAIServer, tmp_path: object,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    import json
    from pathlib import Path

    from kosql.cli.main import main

    folder = Path(str(tmp_path))
    data = folder / "test.jsonl"
    rows = [{"id": f"r{i}", "db_id": "d", "context": "CREATE TABLE t (a INT);", "question": f"질문 {i}",
             "answer": "SELECT a FROM t;"} for i in range(3)]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = folder / "preds.jsonl"
    args = ["generate", "--data", str(data), "--backend", "openai", "--model", "fake-judge",
            "--base-url", server.base_url, "--endpoint", "completions", "--rpm", "6000",
            "--concurrency", "2", "--out", str(out)]
    assert main(args) == 0
    preds = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [p["id"] for p in preds] == ["r0", "r1", "r2"] and all(p["pred"] == "SELECT 1;" for p in preds)
    assert {e["path"] for e in server.log.snapshot()["entries"]} == {"/v1/completions"}
    # an API option with another backend is a usage error (exit 2), not a silent no-op
    assert main(["generate", "--data", str(data), "--backend", "fake", "--rpm", "10",
                 "--out", str(folder / "x.jsonl")]) == 2
    assert "--rpm works with the openai backend only" in capsys.readouterr().err
