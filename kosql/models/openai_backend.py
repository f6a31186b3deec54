"""`kosql generate --backend openai`: any OpenAI-compatible server through :mod:`kosql.http`.

The prompt is sent as the user message of ``/chat/completions`` (``endpoint='chat'``, default) or
as the raw prompt of ``/completions`` (``endpoint='completions'``, right for base models served by
vLLM / llama.cpp, where the seed prompt should be continued verbatim). The API key comes from an
environment variable (see :func:`kosql.http.client.resolve_api_key` for when it is required).
One rate limiter is kept across ``generate`` calls, so batches share the requests/tokens budget.
A request that still fails after its retries yields a generation with ``error`` set (counted in
``failures``; the runner stores the row as failed, never as an empty answer); a rejected key, a
forbidden request or an unknown model raises ``UserError``. There is no beam search
(``beam_search = False``): schema-check candidates are sampled.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from kosql.errors import UserError
from kosql.http.client import CallResult, ClientConfig, OpenAIClient, resolve_api_key
from kosql.http.ratelimit import RateLimiter
from kosql.models.base import Generation, GenerationParams

log = logging.getLogger(__name__)
T = TypeVar("T")

FATAL_STATUS: frozenset[int] = frozenset({401, 403, 404})


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion, also when called from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def fatal_message(result: CallResult, base_url: str, model: str) -> str | None:
    """One sentence for failures no other row will survive (bad key, unknown model), else None."""
    if result.status in (401, 403):
        return f"The server at {base_url} rejected the request with HTTP {result.status} ({result.error})."
    if result.status == 404:
        return (f"The model '{model}' was not found at {base_url} (HTTP 404: "
                f"{(result.error or '').removeprefix('HTTP 404: ')}).")
    return None


@dataclass
class OpenAIBackend:
    """A :class:`kosql.models.base.Backend` over an OpenAI-compatible HTTP API."""

    model: str
    base_url: str = "https://api.openai.com/v1"
    api_key_env: str | None = None
    endpoint: Literal["chat", "completions"] = "chat"
    rpm: float = 300.0
    tpm: float | None = 100_000.0
    concurrency: int = 16
    max_attempts: int = 5
    timeout: float = 60.0
    name: str = ""
    failures: list[str] = field(default_factory=list)
    beam_search: bool = field(default=False, init=False)
    _config: ClientConfig = field(init=False, repr=False)
    _limiter: RateLimiter = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.endpoint not in ("chat", "completions"):
            raise UserError(f"Unknown OpenAI endpoint {self.endpoint!r}; use 'chat' or 'completions'.")
        self.name = self.name or f"openai:{self.model}"
        key = resolve_api_key(self.base_url, self.api_key_env, explicit=self.api_key_env is not None)
        self._config = ClientConfig(base_url=self.base_url, api_key=key, rpm=self.rpm, tpm=self.tpm,
                                    concurrency=self.concurrency, max_attempts=self.max_attempts,
                                    timeout=self.timeout)
        self._limiter = RateLimiter(self.rpm, self.tpm)

    @property
    def chat_api(self) -> bool:
        """True on ``/chat/completions``: the server applies the model's chat template itself."""
        return self.endpoint == "chat"

    def _body(self, params: GenerationParams, k: int) -> dict[str, Any]:
        body: dict[str, Any] = {"max_tokens": params.max_new_tokens, "temperature": params.temperature}
        if not params.greedy:
            body["top_p"] = params.top_p
            body["seed"] = params.seed + k
        if params.stop:
            body["stop"] = list(params.stop)[:4]  # OpenAI accepts at most 4 stop strings
        return body

    async def _one(self, client: OpenAIClient, prompt: str, params: GenerationParams, k: int) -> Generation:
        body = self._body(params, k)
        if self.endpoint == "chat":
            result = await client.chat([{"role": "user", "content": prompt}], self.model, **body)
        else:
            result = await client.completion(prompt, self.model, **body)
        if not result.ok:
            fatal = fatal_message(result, self.base_url, self.model)
            if fatal:
                raise UserError(fatal)
            self.failures.append(f"{result.error_kind}: {result.error}")
            log.warning("request failed after %d attempt(s): %s", result.attempts, result.error)
            return Generation(text="", seconds=result.seconds,
                              error=f"{result.error_kind} after {result.attempts} attempt(s): {result.error}")
        return Generation(text=result.text or "", prompt_tokens=result.prompt_tokens,
                          completion_tokens=result.completion_tokens, seconds=result.seconds)

    async def _generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        n = max(1, params.num_return_sequences)
        async with OpenAIClient(self._config, limiter=self._limiter) as client:
            try:
                async with asyncio.TaskGroup() as group:  # a fatal error cancels the rest
                    tasks = [group.create_task(self._one(client, p, params, k))
                             for p in prompts for k in range(n)]
            except* UserError as eg:
                raise eg.exceptions[0] from None
            return [t.result() for t in tasks]

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        """``len(prompts) * n`` generations, prompt-major, sent concurrently within the limits."""
        return run_sync(self._generate(prompts, params))
