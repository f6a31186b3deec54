"""Micro-batching batches concurrent requests; a full queue answers 503 with Retry-After."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from kosql.models.base import GenerationParams
from kosql.models.fake import FakeBackend
from kosql.serve.batching import MicroBatcher, QueueFull
from kosql.serve.fakes import TimedBackend


async def _burst(url: str, n: int, path: str = "/v1/completions") -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=60) as client:
        return await asyncio.gather(*(client.post(url + path, json={"model": "kosql-test", "prompt": f"q{i}"})
                                      for i in range(n)))


def test_concurrent_requests_share_one_model_call(live):
    backend = TimedBackend(FakeBackend(), batch_seconds=0.3)
    with live(backend, max_batch=8, batch_window_ms=50) as (url, state):
        responses = asyncio.run(_burst(url, 8))
        assert [r.status_code for r in responses] == [200] * 8
        assert sum(backend.batch_sizes) == 8
        assert max(backend.batch_sizes) >= 4, backend.batch_sizes  # most of the burst went in one call
        assert len(backend.batch_sizes) <= 3
        stats = httpx.get(url + "/healthz").json()["batching"]
        assert stats["prompts"] == 8 and stats["max_batch_seen"] == max(backend.batch_sizes)


def test_max_batch_one_is_one_at_a_time(live):
    backend = TimedBackend(FakeBackend(), batch_seconds=0.02)
    with live(backend, max_batch=1) as (url, _):
        responses = asyncio.run(_burst(url, 6))
        assert all(r.status_code == 200 for r in responses)
        assert backend.batch_sizes == [1] * 6


def test_each_request_gets_its_own_answer(live):
    backend = TimedBackend(FakeBackend(reply=lambda p: f"SELECT '{p}'"), batch_seconds=0.1)
    with live(backend, max_batch=16, batch_window_ms=50) as (url, _):
        responses = asyncio.run(_burst(url, 12))
        assert [r.json()["choices"][0]["text"] for r in responses] == [f"SELECT 'q{i}'" for i in range(12)]
        assert max(backend.batch_sizes) > 1


def test_full_queue_is_503_with_retry_after_and_recovers(live):
    backend = TimedBackend(FakeBackend(), batch_seconds=0.5)
    with live(backend, max_batch=2, max_queue=3) as (url, _):
        responses = asyncio.run(_burst(url, 10))
        codes = sorted(r.status_code for r in responses)
        assert codes.count(200) >= 3 and codes.count(503) >= 1, codes
        busy = next(r for r in responses if r.status_code == 503)
        assert int(busy.headers["Retry-After"]) >= 1
        assert busy.json()["error"]["code"] == "queue_full"
        again = httpx.post(url + "/v1/completions", json={"model": "kosql-test", "prompt": "later"}, timeout=30)
        assert again.status_code == 200


def test_generation_runs_off_the_event_loop(live):
    backend = TimedBackend(FakeBackend(), batch_seconds=1.5)
    with live(backend) as (url, _):
        async def scenario() -> float:
            async with httpx.AsyncClient(timeout=30) as client:
                slow = asyncio.create_task(client.post(url + "/v1/completions",
                                                       json={"model": "kosql-test", "prompt": "x"}))
                await asyncio.sleep(0.3)
                loop = asyncio.get_running_loop()
                start = loop.time()
                assert (await client.get(url + "/healthz")).status_code == 200
                took = loop.time() - start
                assert (await slow).status_code == 200
                return took
        assert asyncio.run(scenario()) < 1.0  # healthz answered while the model call was running


def test_batcher_errors_reach_the_requests_and_it_keeps_running():
    class Flaky:
        name = "flaky"
        calls = 0

        def generate(self, prompts, params):
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("model crashed")
            return FakeBackend().generate(prompts, params)

    async def scenario() -> None:
        batcher = MicroBatcher(Flaky(), max_batch=4, window_s=0.0, max_queue=2)
        await batcher.start()
        with pytest.raises(RuntimeError, match="model crashed"):
            await batcher.generate(["a"], GenerationParams())
        out = await batcher.generate(["CREATE TABLE t (a INT)"], GenerationParams())
        assert out[0].text.startswith("SELECT * FROM t")
        with pytest.raises(QueueFull):
            await batcher.generate(["a", "b", "c"], GenerationParams())
        assert batcher.pending == 0
        await batcher.stop()

    asyncio.run(scenario())
