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
