"""Token buckets for requests/minute and tokens/minute, and token counting.

Bucket capacity (the largest burst): one second's worth of the rate, at least 1
(``burst_seconds=1.0``). A bucket starts full, so with ``rpm=600`` the first 10 requests may go at
once and then one every 100 ms; over any window of ``w`` seconds at most ``capacity + rate * w``
requests are sent. A request costing more tokens than the token bucket holds waits until the
bucket is full and then drives it negative (a debt paid back before the next request goes).

Token counting: ``tiktoken``'s ``cl100k_base`` when it is installed and its encoding file is
available (it is fetched once from the internet and cached by tiktoken); otherwise an estimate of
one token per two characters, ``ceil(len(text) / 2)``, which is close for Korean-heavy text
(a Hangul syllable is usually 1-2 cl100k tokens) and over-counts English/SQL (about 4
characters per token), so the estimate errs towards staying under a tokens/minute limit.
"""

from __future__ import annotations

import asyncio
import importlib.util
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_ENCODER: Any = None
_ENCODER_TRIED = False


def _encoder() -> Any:
    global _ENCODER, _ENCODER_TRIED
    if not _ENCODER_TRIED:
        _ENCODER_TRIED = True
        if importlib.util.find_spec("tiktoken") is None:
            return None
        box: list[Any] = []

        def load() -> None:
            try:
                import tiktoken

                box.append(tiktoken.get_encoding("cl100k_base"))
            except Exception:  # the encoding file cannot be fetched (offline)
                pass

        # tiktoken downloads the encoding on first use without a timeout: give it 10 s at most
        thread = threading.Thread(target=load, daemon=True, name="tiktoken-load")
        thread.start()
        thread.join(timeout=10.0)
        _ENCODER = box[0] if box else None
    return _ENCODER


def estimate_tokens(text: str) -> int:
    """The tokenizer-free estimate: one token per two characters (see the module docstring)."""
    return math.ceil(len(text) / 2)


def count_tokens(text: str) -> int:
    """Tokens in ``text`` with tiktoken cl100k_base when available, else :func:`estimate_tokens`."""
    enc = _encoder()
    if enc is None:
        return estimate_tokens(text)
    return len(enc.encode(text, disallowed_special=()))


def token_counter_name() -> str:
    """'tiktoken:cl100k_base' or 'estimate:chars/2', recorded in summaries."""
    return "tiktoken:cl100k_base" if _encoder() is not None else "estimate:chars/2"


def count_request_tokens(messages_or_prompt: list[dict[str, str]] | str, max_tokens: int | None) -> int:
    """Tokens a request will use: prompt (+4 per chat message) + the completion budget.

    The completion budget is ``max_tokens`` when given, else 16 (a judge verdict is ~10 tokens).
    """
    if isinstance(messages_or_prompt, str):
        prompt = count_tokens(messages_or_prompt)
    else:
        prompt = sum(4 + count_tokens(str(m.get("content", ""))) for m in messages_or_prompt) + 2
    return prompt + (max_tokens if max_tokens is not None else 16)


@dataclass
class TokenBucket:
    """A bucket refilled continuously at ``per_minute / 60`` units a second, holding ``capacity``."""

    per_minute: float
    capacity: float
    clock: Callable[[], float] = time.monotonic
    level: float = field(init=False)
    stamp: float = field(init=False)

    def __post_init__(self) -> None:
        if self.per_minute <= 0:
            raise ValueError("a rate limit must be positive")
        self.capacity = max(1.0, float(self.capacity))
        self.level = self.capacity
        self.stamp = self.clock()

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0

    def _refill(self) -> None:
        now = self.clock()
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.per_second)
        self.stamp = now

    def wait_time(self, amount: float) -> float:
        """Seconds until ``amount`` can be taken (0 when it can be taken now)."""
        self._refill()
        need = min(float(amount), self.capacity)  # a huge request waits for a full bucket
        if self.level >= need:
            return 0.0
        return (need - self.level) / self.per_second

    def take(self, amount: float) -> None:
        """Remove ``amount`` (may leave the level negative for an oversized request)."""
        self._refill()
        self.level -= float(amount)

    def give_back(self, amount: float) -> None:
        """Return ``amount`` units (negative: charge more), e.g. after a usage report."""
        self._refill()
        self.level = min(self.capacity, self.level + float(amount))


def bucket_capacity(per_minute: float, burst_seconds: float = 1.0) -> float:
    """The bucket size used by :class:`RateLimiter`: ``burst_seconds`` worth of the rate, >= 1."""
    return max(1.0, per_minute / 60.0 * burst_seconds)


class RateLimiter:
    """Requests/minute and tokens/minute buckets, served first come first served.

    ``await acquire(tokens)`` returns when one request and ``tokens`` tokens may be sent.
    """

    def __init__(self, rpm: float, tpm: float | None = None, *, burst_seconds: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.requests = TokenBucket(rpm, bucket_capacity(rpm, burst_seconds), clock)
        self.tokens = (TokenBucket(tpm, bucket_capacity(tpm, burst_seconds), clock)
                       if tpm else None)
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    def wait_time(self, tokens: int) -> float:
        """Seconds until a request of ``tokens`` tokens may go (0: now)."""
        wait = self.requests.wait_time(1)
        if self.tokens is not None:
            wait = max(wait, self.tokens.wait_time(tokens))
        return wait

    def take(self, tokens: int) -> None:
        self.requests.take(1)
        if self.tokens is not None:
            self.tokens.take(tokens)

    async def acquire(self, tokens: int) -> None:
        """Wait (FIFO among callers) until both buckets allow the request, then take from both."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:  # one limiter may outlive a loop
            self._lock, self._lock_loop = asyncio.Lock(), loop
        async with self._lock:
            while True:
                wait = self.wait_time(tokens)
                if wait <= 0:
                    self.take(tokens)
                    return
                await asyncio.sleep(wait)

    def settle_tokens(self, estimated: int, actual: int) -> None:
        """Correct the token bucket once the server reports the real usage."""
        if self.tokens is not None and actual > 0:
            self.tokens.give_back(estimated - actual)
