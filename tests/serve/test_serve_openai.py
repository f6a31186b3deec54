"""The OpenAI-compatible endpoints, with the official `openai` client against a live server."""

from __future__ import annotations

import httpx
import openai
import pytest

from kosql.models.fake import FakeBackend
from kosql.serve.openai_api import cut_at_stop, split_chunks


def _reply(prompt: str) -> str:
    return "SELECT name FROM users WHERE id = 1; -- 끝 ### more"


@pytest.fixture
def server(live):
    with live(FakeBackend(name="fake", reply=_reply)) as (url, state):
        yield url, state


def _client(url: str, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=30)


def test_models_lists_the_served_name(server):
    url, _ = server
    models = _client(url).models.list()
    assert [m.id for m in models.data] == ["kosql-test"]


def test_chat_completion_non_stream(server):
    url, _ = server
    out = _client(url).chat.completions.create(
        model="kosql-test", messages=[{"role": "user", "content": "사용자 이름을 알려 줘"}])
    choice = out.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == _reply("")
    assert choice.finish_reason == "stop"
    assert out.usage is not None
    assert out.usage.completion_tokens == len(_reply("").split())
    assert out.usage.total_tokens == out.usage.prompt_tokens + out.usage.completion_tokens
    assert out.object == "chat.completion"


def test_chat_stream_matches_non_stream_and_ends_with_done(server):
    url, _ = server
    client = _client(url)
    kwargs = {"model": "kosql-test", "messages": [{"role": "user", "content": "질문"}], "stop": [";"]}
    whole = client.chat.completions.create(**kwargs).choices[0].message.content
    chunks = list(client.chat.completions.create(**kwargs, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole == "SELECT name FROM users WHERE id = 1"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 3  # sent in pieces
    raw = httpx.post(url + "/v1/chat/completions", json={**kwargs, "stream": True}).text
    assert raw.rstrip().endswith("data: [DONE]")
    assert all(line.startswith("data: ") for line in raw.split("\n\n") if line.strip())


def test_completions_stop_max_tokens_and_stream(server):
    url, _ = server
    client = _client(url)
    out = client.completions.create(model="kosql-test", prompt="### SQL:", stop=["###"])
    assert out.choices[0].text == "SELECT name FROM users WHERE id = 1; -- 끝 "
    short = client.completions.create(model="kosql-test", prompt="p", max_tokens=3)
    assert short.choices[0].text == "SELECT name FROM"
    assert short.choices[0].finish_reason == "length"
    assert short.usage is not None and short.usage.completion_tokens == 3
    stream = list(client.completions.create(model="kosql-test", prompt="p", stop=";", stream=True))
    assert "".join(c.choices[0].text for c in stream if c.choices) == "SELECT name FROM users WHERE id = 1"
    assert stream[-1].choices[0].finish_reason == "stop"


def test_completions_batch_of_prompts_and_n(server):
    url, state = server
    out = _client(url).completions.create(model="kosql-test", prompt=["a b", "c d e"], n=2, temperature=0.7)
    assert len(out.choices) == 4
    assert [c.index for c in out.choices] == [0, 1, 2, 3]
    assert out.usage is not None and out.usage.prompt_tokens == 2 + 3


def test_unknown_model_is_404_and_server_keeps_serving(server):
    url, _ = server
    client = _client(url)
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "x"}])
    assert "gpt-9" in str(info.value) and "kosql-test" in str(info.value)
    assert client.models.list().data[0].id == "kosql-test"


@pytest.mark.parametrize("body, field", [
    ({"model": "kosql-test", "messages": []}, "messages"),
    ({"model": "kosql-test", "messages": "hello"}, "messages"),
    ({"model": "kosql-test", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}, "temperature"),
    ({"model": "kosql-test", "messages": [{"role": "user", "content": "x"}], "max_tokens": 0}, "max_tokens"),
    ({"model": "kosql-test", "messages": [{"role": "user", "content": "x"}], "max_tokens": 100000}, "max_tokens"),
    ({"model": "kosql-test", "messages": [{"role": "user", "content": "x"}], "stop": ["a", "b", "c", "d", "e"]},
     "stop"),
    ({"model": "kosql-test", "messages": [{"role": "wizard", "content": "x"}]}, "messages.0.role"),
    ({"messages": [{"role": "user", "content": "x"}]}, "model"),
])
def test_bad_requests_are_400_with_openai_error_body(server, body, field):
    url, _ = server
    r = httpx.post(url + "/v1/chat/completions", json=body)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["param"] == field
    assert err["message"].endswith(".") and field.split(".")[0] in err["message"]
    assert err["type"] == "invalid_request_error"
    assert httpx.get(url + "/healthz").json()["status"] == "ok"


def test_invalid_json_oversized_body_and_unknown_path(live):
    with live(FakeBackend(), max_body_bytes=2000) as (url, _):
        r = httpx.post(url + "/v1/completions", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 400 and "JSON" in r.json()["error"]["message"]
        r = httpx.post(url + "/v1/completions", json={"model": "kosql-test", "prompt": "x" * 5000})
        assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"

        def chunked():  # no Content-Length: counted while read
            for _ in range(10):
                yield b"x" * 500

        r = httpx.post(url + "/v1/completions", content=chunked())
        assert r.status_code == 413
        assert httpx.get(url + "/v1/nothing").status_code == 404
        ok = httpx.post(url + "/v1/completions", json={"model": "kosql-test", "prompt": "CREATE TABLE t (a INT)"})
        assert ok.status_code == 200


def test_api_key_required_when_set(live):
    with live(FakeBackend(), api_key="s3cret") as (url, _):
        with pytest.raises(openai.AuthenticationError):
            _client(url, "wrong").models.list()
        r = httpx.get(url + "/v1/models")
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
        assert httpx.post(url + "/api/sql", json={"question": "q", "ddl": "CREATE TABLE t (a INT)"}).status_code == 401
        assert _client(url, "s3cret").models.list().data[0].id == "kosql-test"
        assert httpx.get(url + "/healthz").status_code == 200


def test_cut_at_stop_and_split_chunks():
    assert cut_at_stop("SELECT 1; x", [";"]) == ("SELECT 1", True)
    assert cut_at_stop("a ### b ;", [";", "###"]) == ("a ", True)
    assert cut_at_stop("abc", ["z"]) == ("abc", False)
    for text in ["", "  lead", "SELECT  a,\n b FROM t  ", "한국어 문장 입니다\n\n"]:
        pieces = split_chunks(text)
        assert "".join(pieces) == text
        assert all(p for p in pieces)
