"""Backends for trying the server without a model: a fixed answer, a simulated model time per batch.

``kosql serve --backend fake --fake-sql "SELECT ..." --fake-batch-seconds 0.2`` uses these; the
load benchmark and the tests too. :class:`TimedBackend` sleeps ``batch_seconds`` (plus
``prompt_seconds`` per prompt) per ``generate`` call, like a model whose cost is mostly per batch,
and records every batch size it was given.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from kosql.models.base import Backend, Generation, GenerationParams
from kosql.models.fake import FakeBackend


def fixed_backend(sql: str, name: str = "fake") -> FakeBackend:
    """A fake backend answering every prompt with ``sql``."""
    return FakeBackend(name=name, reply=lambda _prompt: sql)


@dataclass
class TimedBackend:
    """Wraps ``inner``: sleeps per call and records the batch sizes it was called with."""

    inner: Backend
    batch_seconds: float = 0.0
    prompt_seconds: float = 0.0
    name: str = ""
    batch_sizes: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.name = self.name or self.inner.name

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        with self._lock:
            self.batch_sizes.append(len(prompts))
        wait = self.batch_seconds + self.prompt_seconds * len(prompts)
        if wait > 0:
            time.sleep(wait)
        return self.inner.generate(prompts, params)
