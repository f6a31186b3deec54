"""What `kosql serve` answers when a request cannot be served as asked: a backend without a tokenizer,
a failed model call, more prompts than the queue holds; and the prompt /api/sql builds for a DDL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kosql.serve.app import resolve_db
from kosql.serve.live import serve_in_thread


@pytest.fixture(scope="module")
def hr_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("db") / "hr.sqlite"
    shutil.copy(resolve_db("bundled:hr"), target)
    return target


def _cli_app(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> Any:
    """The app `kosql serve ARGS` would serve (built by the command; not listening)."""
    import kosql.serve.live as live
    from kosql.cli.main import main

    apps: list[Any] = []
    monkeypatch.setattr(live, "serve_forever", lambda app, *a, **k: apps.append(app))
    assert main(["serve", *args]) == 0
    return apps[0]


@pytest.fixture
def fake_cli_server(monkeypatch: pytest.MonkeyPatch, hr_db: Path, tmp_path: Path) -> Iterator[str]:
    app = _cli_app(monkeypatch, ["--backend", "fake", "--fake-sql", "SELECT name FROM departments ORDER BY name;",
                                 "--db", str(hr_db), "--feedback", str(tmp_path / "fb.jsonl")])
    with serve_in_thread(app) as url:
        yield url


def test_the_fake_backend_answers_ask_for_the_default_model(fake_cli_server: str) -> None:
    """The documented test backend has no tokenizer: the default (chat-format) model gets a prompt it can take."""
    r = httpx.post(fake_cli_server + "/api/ask", json={"question": "부서 이름을 알려 줘"}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["sql"] == "SELECT name FROM departments ORDER BY name;" and r.json()["rows"]
    from kosql.models.resolve import SERVING_MODEL

    assert httpx.get(fake_cli_server + "/healthz").json()["model"] == SERVING_MODEL


# ---------------------------------------------------------------- a failed model call (item 5)

FAIL = "/*fault:429**/"  # the fake OpenAI server answers 429 to every attempt of a prompt holding this


@pytest.fixture(scope="module")
def upstream() -> Iterator[Any]:
    from kosql.testing.fake_openai_server import FakeOpenAIServer, ServerConfig

    with FakeOpenAIServer(ServerConfig(retry_after="0")) as server:  # retries at once, then gives up
        yield server


@pytest.fixture
def failing_server(live: Any, upstream: Any, hr_db: Path, tmp_path: Path) -> Iterator[str]:
    from kosql.models.registry import load_backend
    from kosql.serve.app import build_state
    from kosql.serve.config import ServeConfig

    backend = load_backend("openai", "fake-judge", base_url=upstream.base_url, endpoint="completions")
    state = build_state(ServeConfig(model_id="kosql-test", feedback_path=tmp_path / "fb.jsonl"), backend,
                        db=str(hr_db))
    with live(None, state=state) as (url, _):
        yield url


def _says_the_model_failed(r: httpx.Response) -> None:
    assert r.status_code == 502, r.text
    error = r.json()["error"]
    assert error["code"] == "model_call_failed" and error["message"].startswith("The model call failed: ")
    assert "429" in error["message"]  # the reason


@pytest.mark.parametrize("path, body", [
    ("/api/ask", {"question": f"부서 목록 {FAIL}"}),
    ("/api/sql", {"question": f"부서 목록 {FAIL}"}),
    ("/api/sql", {"question": f"부서 목록 {FAIL}", "ddl": "CREATE TABLE d (name TEXT);"}),
    ("/v1/completions", {"model": "kosql-test", "prompt": f"SELECT {FAIL}"}),
    ("/v1/chat/completions", {"model": "kosql-test", "messages": [{"role": "user", "content": f"x {FAIL}"}]}),
])
def test_a_failed_model_call_is_a_502_with_the_reason(failing_server: str, path: str, body: dict[str, Any]) -> None:
    _says_the_model_failed(httpx.post(failing_server + path, json=body, timeout=60))
    ok = httpx.post(failing_server + "/api/ask", json={"question": "부서 목록"}, timeout=60)
    assert ok.status_code == 200 and ok.json()["sql"] == "SELECT 1;"  # the server keeps serving


def test_kosql_ask_says_the_model_call_failed(upstream: Any, hr_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kosql.cli.main import main

    args = ["ask", f"부서 목록 {FAIL}", "--db", str(hr_db), "--backend", "openai", "--model", "fake-judge",
            "--base-url", upstream.base_url, "--endpoint", "completions"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "The model call failed: " in err and "429" in err and "guard" not in err.lower()
    assert main([*args, "--json"]) == 1
    out = capsys.readouterr().out
    assert '"status": "model_call_failed"' in out and "The model call failed" in out


# ---------------------------------------------------------------- /api/sql with a DDL (item 6)


class _Template:
    chat_template = "{{ messages }}"

    def apply_chat_template(self, conversation: Any, **_: Any) -> str:
        return "<chat>" + conversation[-1]["content"]


@pytest.mark.parametrize("fmt", ["chat", "seed"])
def test_api_sql_with_a_ddl_builds_the_servers_prompt_format(live: Any, tmp_path: Path, fmt: str) -> None:
    from kosql.models.fake import FakeBackend
    from kosql.models.prompting import render_prompt
    from kosql.serve.app import build_state
    from kosql.serve.config import ServeConfig

    backend = FakeBackend(name="chatty", reply=lambda _p: "SELECT name FROM d;")
    backend.tokenizer = _Template()  # type: ignore[attr-defined]  # a backend that takes the chat format
    state = build_state(ServeConfig(model_id="kosql-test"), backend, prompt_format=fmt)  # no --db
    ddl = "CREATE TABLE d (name TEXT);"
    with live(None, state=state) as (url, _):
        r = httpx.post(url + "/api/sql", json={"question": "부서 이름", "ddl": ddl}, timeout=30)
    assert r.status_code == 200 and r.json()["sql"] == "SELECT name FROM d;", r.text
    assert backend.seen == [render_prompt(ddl, "부서 이름", fmt, backend)]
    assert backend.seen[0].startswith("<chat>") == (fmt == "chat")


# ---------------------------------------------------------------- more prompts than the queue (item 7)


def test_a_request_larger_than_the_queue_is_a_400_naming_the_limit(live: Any) -> None:
    from kosql.serve.fakes import fixed_backend

    with live(fixed_backend("SELECT 1;"), max_queue=2) as (url, _):  # an idle server
        r = httpx.post(url + "/v1/completions", json={"model": "kosql-test", "prompt": ["a", "b", "c"]})
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == "too_many_prompts" and "Retry-After" not in r.headers
        assert "at most 2" in r.json()["error"]["message"]
        ok = httpx.post(url + "/v1/completions", json={"model": "kosql-test", "prompt": ["a", "b"]})
        assert ok.status_code == 200 and len(ok.json()["choices"]) == 2
