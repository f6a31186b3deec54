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
    assert httpx.get(fake_cli_server + "/healthz").json()["model"] == "qwen2.5-coder-0.5b"
