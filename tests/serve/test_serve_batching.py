"""Micro-batching batches concurrent requests; a full queue answers 503 with Retry-After.

No test here depends on how fast the machine is: a gated backend holds the model call until the
test has seen the requests queue up (counted by the batcher), so what is batched is decided by the
test, not by a race between sleeps and a loaded CPU."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence

import httpx
import pytest

from kosql.models.base import Generation, GenerationParams
from kosql.models.fake import FakeBackend
from kosql.serve.batching import MicroBatcher, TooManyPrompts
from kosql.serve.fakes import TimedBackend
from kosql.serve.state import ServeState


async def _burst(url: str, n: int, path: str = "/v1/completions") -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=60) as client:
        return await asyncio.gather(*(client.post(url + path, json={"model": "kosql-test", "prompt": f"q{i}"})
                                      for i in range(n)))


class GatedBackend:
    """A model call that waits until the test opens the gate; records each call's batch size."""

    def __init__(self, inner: FakeBackend | None = None) -> None:
        self.inner = inner or FakeBackend()
        self.name = self.inner.name
        self.batch_sizes: list[int] = []
        self.gate = threading.Event()
        self.in_call = threading.Event()

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        self.batch_sizes.append(len(prompts))
        self.in_call.set()
        assert self.gate.wait(120), "the test never opened the gate"
        return self.inner.generate(prompts, params)


async def _until(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    """Poll ``condition`` (the timeout only bounds a failure)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.01)


def _post(client: httpx.AsyncClient, url: str, prompt: str) -> asyncio.Task[httpx.Response]:
    return asyncio.create_task(client.post(url + "/v1/completions", json={"model": "kosql-test", "prompt": prompt}))


async def _gated_burst(url: str, state: ServeState, backend: GatedBackend, n: int) -> list[httpx.Response]:
    """``n`` requests sent while the first model call is held: all of them are queued (or in that
    call) before any answer comes back."""
    async with httpx.AsyncClient(timeout=120) as client:
        tasks = [_post(client, url, f"q{i}") for i in range(n)]
        await _until(lambda: state.batcher.pending == n and backend.in_call.is_set(), f"{n} prompts are queued")
        backend.gate.set()
        return list(await asyncio.gather(*tasks))


def test_concurrent_requests_share_one_model_call(live):
    backend = GatedBackend()
    with live(backend, max_batch=8, batch_window_ms=50) as (url, state):
        responses = asyncio.run(_gated_burst(url, state, backend, 8))
        assert [r.status_code for r in responses] == [200] * 8
        assert sum(backend.batch_sizes) == 8
        # the first call took what had arrived; every prompt queued behind it went in one call
        assert len(backend.batch_sizes) <= 2 and max(backend.batch_sizes) >= 4, backend.batch_sizes
        stats = httpx.get(url + "/healthz").json()["batching"]
        assert stats["prompts"] == 8 and stats["max_batch_seen"] == max(backend.batch_sizes)


def test_max_batch_one_is_one_at_a_time(live):
    backend = TimedBackend(FakeBackend(), batch_seconds=0.02)
    with live(backend, max_batch=1) as (url, _):
        responses = asyncio.run(_burst(url, 6))
        assert all(r.status_code == 200 for r in responses)
        assert backend.batch_sizes == [1] * 6


def test_each_request_gets_its_own_answer(live):
    backend = GatedBackend(FakeBackend(reply=lambda p: f"SELECT '{p}'"))
    with live(backend, max_batch=16, batch_window_ms=50) as (url, state):
        responses = asyncio.run(_gated_burst(url, state, backend, 12))
        assert [r.json()["choices"][0]["text"] for r in responses] == [f"SELECT 'q{i}'" for i in range(12)]
        assert max(backend.batch_sizes) > 1


def test_full_queue_is_503_with_retry_after_and_recovers(live):
    backend = GatedBackend()
    with live(backend, max_batch=2, max_queue=3) as (url, state):
        async def scenario() -> tuple[list[httpx.Response], list[httpx.Response]]:
            async with httpx.AsyncClient(timeout=120) as client:
                queued = [_post(client, url, f"q{i}") for i in range(3)]
                await _until(lambda: state.batcher.pending == 3, "the queue is full")
                refused = await asyncio.gather(*(_post(client, url, f"more{i}") for i in range(7)))
                backend.gate.set()
                return list(await asyncio.gather(*queued)), list(refused)

        accepted, refused = asyncio.run(scenario())
        assert [r.status_code for r in accepted] == [200] * 3
        assert [r.status_code for r in refused] == [503] * 7
        busy = refused[0]
        assert int(busy.headers["Retry-After"]) >= 1
        assert busy.json()["error"]["code"] == "queue_full"
        again = httpx.post(url + "/v1/completions", json={"model": "kosql-test", "prompt": "later"}, timeout=30)
        assert again.status_code == 200


def test_generation_runs_off_the_event_loop(live):
    backend = GatedBackend()
    with live(backend) as (url, _):
        async def scenario() -> None:
            async with httpx.AsyncClient(timeout=120) as client:
                slow = _post(client, url, "x")
                await _until(backend.in_call.is_set, "the model call has started")
                # the model call is held until the gate opens: the server answers meanwhile
                assert (await client.get(url + "/healthz")).status_code == 200
                assert not backend.gate.is_set() and not slow.done()
                backend.gate.set()
                assert (await slow).status_code == 200

        asyncio.run(scenario())


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
        with pytest.raises(TooManyPrompts):  # more than the queue ever holds: not "busy, retry"
            await batcher.generate(["a", "b", "c"], GenerationParams())
        assert batcher.pending == 0
        await batcher.stop()

    asyncio.run(scenario())
