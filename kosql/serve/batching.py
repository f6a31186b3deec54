"""Micro-batching: prompts that arrive together go to the backend in one ``generate`` call.

Requests put their prompts on one queue (bounded: :class:`QueueFull` when it holds ``max_queue``
prompts, which the server answers with 503 and Retry-After; a request with more prompts than
``max_queue`` could never fit, :class:`TooManyPrompts`, answered 400). One collector task takes the first
waiting prompt, then waits at most ``window_s`` for more, up to ``max_batch`` prompts; prompts
with the same :class:`GenerationParams` go to one ``backend.generate`` call, run in a worker
thread so the event loop keeps serving. While a batch runs, new prompts queue up and form the
next batch, so under load batches fill without any wait. ``max_batch=1`` is one-at-a-time.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kosql.models.base import Backend, Generation, GenerationParams


class QueueFull(Exception):
    """The queue holds ``max_queue`` prompts; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the generation queue is full; retry after {retry_after} s")
        self.retry_after = retry_after


class TooManyPrompts(Exception):
    """One request holds more prompts than the queue can ever hold: retrying would never help."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"The request holds {count} prompts, more than this server queues at once "
                         f"({limit}, --max-queue); send at most {limit} per request.")
        self.count = count
        self.limit = limit


@dataclass
class _Item:
    prompt: str
    params: GenerationParams
    future: asyncio.Future[list[Generation]]


@dataclass
class BatchStats:
    """What the batcher did: batch sizes (the last 1000), prompts, model seconds."""

    batches: int = 0
    prompts: int = 0
    seconds: float = 0.0
    recent_sizes: deque[int] = field(default_factory=lambda: deque(maxlen=1000))

    def record(self, size: int, seconds: float) -> None:
        self.batches += 1
        self.prompts += size
        self.seconds += seconds
        self.recent_sizes.append(size)

    def to_dict(self) -> dict[str, Any]:
        sizes = list(self.recent_sizes)
        return {"batches": self.batches, "prompts": self.prompts, "model_seconds": round(self.seconds, 3),
                "mean_batch": round(sum(sizes) / len(sizes), 2) if sizes else 0.0,
                "max_batch_seen": max(sizes) if sizes else 0}


class MicroBatcher:
    """Collects prompts from concurrent requests into batched ``backend.generate`` calls."""

    def __init__(self, backend: Backend, *, max_batch: int = 8, window_s: float = 0.01,
                 max_queue: int = 64) -> None:
        if max_batch < 1 or max_queue < 1 or window_s < 0:
            raise ValueError("max_batch and max_queue must be >= 1 and window_s >= 0")
        self.backend = backend
        self.max_batch = max_batch
        self.window_s = window_s
        self.max_queue = max_queue
        self.stats = BatchStats()
        self.pending = 0  # prompts queued or being generated
        self._queue: asyncio.Queue[_Item] | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kosql-generate")

    async def start(self) -> None:
        """Start the collector on the running event loop."""
        if self._task is None:
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._collect(), name="kosql-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self._executor.shutdown(wait=False, cancel_futures=True)

    def retry_after(self) -> int:
        """Seconds until the queue has likely drained (at least 1)."""
        per_batch = self.stats.seconds / self.stats.batches if self.stats.batches else 1.0
        return max(1, math.ceil(per_batch * math.ceil(self.pending / self.max_batch)))

    async def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        """Generations for ``prompts`` (``params.num_return_sequences`` each, prompt-major)."""
        if self._queue is None:
            await self.start()
        assert self._queue is not None
        if len(prompts) > self.max_queue:
            raise TooManyPrompts(len(prompts), self.max_queue)
        if self.pending + len(prompts) > self.max_queue:
            raise QueueFull(self.retry_after())
        loop = asyncio.get_running_loop()
        items = [_Item(p, params, loop.create_future()) for p in prompts]
        self.pending += len(items)
        for item in items:
            item.future.add_done_callback(self._done)
            self._queue.put_nowait(item)
        results = await asyncio.gather(*(item.future for item in items))
        return [g for gens in results for g in gens]

    def _done(self, _future: asyncio.Future[list[Generation]]) -> None:
        self.pending -= 1

    async def _next_batch(self) -> list[_Item]:
        assert self._queue is not None
        batch = [await self._queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.window_s
        while len(batch) < self.max_batch:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except asyncio.QueueEmpty:
                pass
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), left))
            except TimeoutError:
                break
        return [item for item in batch if not item.future.done()]  # drop requests already gone

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._next_batch()
            groups: dict[GenerationParams, list[_Item]] = {}
            for item in batch:
                groups.setdefault(item.params, []).append(item)
            for params, items in groups.items():
                await self._run_group(loop, params, items)

    async def _run_group(self, loop: asyncio.AbstractEventLoop, params: GenerationParams,
                         items: list[_Item]) -> None:
        prompts = [item.prompt for item in items]
        start = time.perf_counter()
        try:
            gens = await loop.run_in_executor(self._executor, self.backend.generate, prompts, params)
        except Exception as exc:  # the requests get the error; the batcher keeps running
            for item in items:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        self.stats.record(len(items), time.perf_counter() - start)
        n = max(1, params.num_return_sequences)
        for i, item in enumerate(items):
            if not item.future.done():
                item.future.set_result(list(gens[i * n:(i + 1) * n]))
