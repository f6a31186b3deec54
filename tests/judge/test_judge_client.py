"""The async client against the fault-injecting server on a real 127.0.0.1 socket."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from kosql.http.client import CallResult, ClientConfig, OpenAIClient
from kosql.prompts import make_judge_prompt
from kosql.testing.fake_openai_server import FakeOpenAIServer, ServerConfig, prompt_key


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    srv = FakeOpenAIServer(ServerConfig(retry_after="0.3", slow_seconds=1.5)).start()
    yield srv
    srv.stop()


def _cfg(srv: FakeOpenAIServer, **kw: float) -> ClientConfig:
    base = dict(base_url=srv.base_url, rpm=6000.0, tpm=None, concurrency=8, max_attempts=4,
                timeout=0.5, backoff_base=0.01, backoff_max=0.05)
    base.update(kw)
    return ClientConfig(**base)  # type: ignore[arg-type]


def _prompt(gen_sql: str) -> str:
    return make_judge_prompt("CREATE TABLE t (a INT);", "a는?", "SELECT a FROM t", gen_sql)


async def _judge_all(cfg: ClientConfig, prompts: list[str]) -> list[CallResult]:
    async with OpenAIClient(cfg) as client:
        return list(await asyncio.gather(*[
            client.chat([{"role": "system", "content": p}], "fake-judge",
                        response_format={"type": "json_object"}) for p in prompts]))


CASES = {
    # schedule in gen_sql -> (ok, error_kind, attempts seen by the server)
    "SELECT a FROM t": (True, None, 1),
    "SELECT a FROM t /*fault:400**/": (False, "http_400", 1),
    "SELECT a FROM t /*fault:422**/": (False, "http_422", 1),
    "SELECT a FROM t /*fault:429,503*/": (True, None, 3),
    "SELECT a FROM t /*fault:408,409*/": (True, None, 3),
    "SELECT a FROM t /*fault:500**/": (False, "http_500", 4),
    "SELECT a FROM t /*fault:drop*/": (True, None, 2),
    "SELECT a FROM t /*fault:slow*/": (True, None, 2),
    "SELECT a FROM t /*fault:slow**/": (False, "timeout", 4),
    "SELECT a FROM t /*fault:badjson*/": (True, None, 2),  # a 200 that is no completion: retried
    "SELECT a FROM t /*fault:errbody*/": (True, None, 2),
    "SELECT a FROM t /*fault:badjson**/": (False, "bad_json", 4),
    "SELECT a FROM t /*fault:errbody**/": (False, "error_body", 4),
    "SELECT a FROM t /*fault:text*/": (True, None, 1),
}


def test_judge_client_retries_only_where_allowed(server: FakeOpenAIServer) -> None:
    prompts = [_prompt(sql) for sql in CASES]
    results = asyncio.run(_judge_all(_cfg(server), prompts))
    attempts = server.log.snapshot()["attempts"]
    for (sql, (ok, kind, n)), prompt, res in zip(CASES.items(), prompts, results, strict=True):
        assert (res.ok, res.error_kind) == (ok, kind), sql
        assert attempts[prompt_key(prompt)] == n, sql
        assert res.attempts == n, (sql, res.history)
        if not ok:
            assert res.text is None  # an error is never a completion
    assert results[0].text == '{"resolve_yn": "yes"}'
    assert results[-1].text == "Hmm, it depends on the data."


def test_judge_client_honours_retry_after(server: FakeOpenAIServer) -> None:
    prompt = _prompt("SELECT a FROM t /*fault:429*/")
    [res] = asyncio.run(_judge_all(_cfg(server), [prompt]))
    assert res.ok and res.attempts == 2
    times = [e["t"] for e in server.log.snapshot()["entries"]]
    assert times[1] - times[0] >= 0.29  # Retry-After: 0.3 (backoff alone would be <= 0.01 s)


def test_judge_client_concurrency_cap(server: FakeOpenAIServer) -> None:
    server.config.latency = 0.2
    prompts = [_prompt(f"SELECT {i}") for i in range(12)]
    results = asyncio.run(_judge_all(_cfg(server, concurrency=4), prompts))
    assert all(r.ok for r in results)
    times = sorted(e["t"] for e in server.log.snapshot()["entries"])
    # with 4 slots and 0.2 s per answer, no 5 requests arrive within 0.15 s of each other
    assert all(times[i + 4] - times[i] > 0.15 for i in range(len(times) - 4))


def test_judge_client_rate_stays_within_limit(server: FakeOpenAIServer) -> None:
    rpm, n = 1200.0, 100  # 20 requests/s, bucket capacity 20 (one second's worth)
    prompts = [_prompt(f"SELECT {i}") for i in range(n)]
    results = asyncio.run(_judge_all(_cfg(server, rpm=rpm, concurrency=16), prompts))
    assert all(r.ok for r in results)
    times = sorted(e["t"] for e in server.log.snapshot()["entries"])
    assert len(times) == n
    rate, capacity = rpm / 60, 20
    for i in range(n):  # every window holds at most capacity + rate * width (+2 for timing jitter)
        for j in range(i + 1, n):
            assert j - i + 1 <= capacity + rate * (times[j] - times[i]) + 2
    steady = (n - capacity) / (times[-1] - times[0])
    assert steady <= rate * 1.05
    assert steady >= rate * 0.5  # and the limit is actually used, not just respected
