"""A shared async client for OpenAI-compatible servers (OpenAI, vLLM, llama.cpp, `kosql serve`).

One :class:`OpenAIClient` owns the rate limiter (requests/minute and tokens/minute buckets, see
:mod:`kosql.http.ratelimit`), the concurrency cap (an ``asyncio.Semaphore``) and the retry policy:

* retried: timeouts, connection errors (refused, reset, dropped mid-response), HTTP 408, 409, 429
  and 5xx, and answers that are not a completion although the status says success (a 2xx with an
  error body, a body that is not JSON, or JSON without choices: what an overloaded proxy or server
  sends); at most ``max_attempts`` attempts in all;
* the wait before a retry is the server's ``retry-after-ms`` / ``Retry-After`` (seconds or an HTTP
  date, capped at ``max_retry_after``) when given, else exponential backoff with full jitter:
  ``uniform(0, min(backoff_max, backoff_base * 2 ** (attempt - 1)))``;
* any other 4xx is returned at once as a failed :class:`CallResult`;
* an error body (OpenAI's ``{"error": {...}}`` or vLLM's ``{"object": "error", ...}``) is never a
  completion, whatever the status code; a 200 whose body is not JSON is a failure (``bad_json``).

Timeout: one deadline of ``timeout`` seconds per attempt, from connecting to the last byte.

Each attempt holds a concurrency slot only while it is in flight (not while it backs off), and
takes its rate-limit tokens right before it is sent, so bursts never exceed the bucket size.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from kosql.errors import UserError
from kosql.http.ratelimit import RateLimiter, count_request_tokens

RETRY_STATUS: frozenset[int] = frozenset({408, 409, 429})
#: a success status whose body is no completion: retried like a transient error
BAD_ANSWER_KINDS: frozenset[str] = frozenset({"error_body", "bad_json", "bad_response"})


@dataclass
class ClientConfig:
    """Connection, rate-limit and retry settings of an :class:`OpenAIClient`."""

    base_url: str = "https://api.openai.com/v1"
    api_key: str | None = None
    rpm: float = 300.0
    tpm: float | None = 100_000.0
    concurrency: int = 16
    max_attempts: int = 5
    timeout: float = 60.0
    backoff_base: float = 0.5
    backoff_max: float = 20.0
    max_retry_after: float = 60.0
    burst_seconds: float = 1.0


@dataclass
class CallResult:
    """The outcome of one logical request (after all its attempts).

    ``ok`` means a completion came back: ``text`` holds its content. Otherwise ``error_kind`` is
    one of ``timeout``, ``connection``, ``http_<status>``, ``error_body``, ``bad_json``,
    ``bad_response`` and ``error`` holds a one-line message (never stored as a verdict).
    """

    ok: bool
    text: str | None = None
    status: int | None = None
    error_kind: str | None = None
    error: str | None = None
    error_code: str | None = None
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    finish_reason: str | None = None
    history: list[str] = field(default_factory=list)  # error of each earlier failed attempt
    data: dict[str, Any] | None = field(default=None, repr=False)


def is_local_url(base_url: str) -> bool:
    """True when ``base_url`` points at this machine (localhost, 127.x, ::1)."""
    host = (httpx.URL(base_url).host or "").lower()
    return host in ("localhost", "::1", "[::1]", "0.0.0.0") or host.startswith("127.")


def resolve_api_key(base_url: str, env_var: str | None, *, explicit: bool = False) -> str | None:
    """The API key read from ``env_var``.

    Policy: the variable must be set when it was named explicitly (``explicit``) or when the
    server is not on this machine; for a local server (vLLM, llama.cpp, `kosql serve`, the fake
    server) with the default variable unset, no key is sent.
    """
    name = env_var or "OPENAI_API_KEY"
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if explicit or not is_local_url(base_url):
        raise UserError(f"The API key environment variable {name} is not set; export {name}=... "
                        f"(the server at {base_url} needs a key).")
    return None


def is_retryable_status(status: int) -> bool:
    """True for 408, 409, 429 and 5xx: the only statuses worth sending again."""
    return status in RETRY_STATUS or 500 <= status <= 599


def parse_retry_after(headers: httpx.Headers | dict[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    lower = {k.lower(): v for k, v in headers.items()}
    ms = lower.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = lower.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff after failed attempt number ``attempt`` (1-based)."""
    r = rng or random
    return r.uniform(0.0, min(cap, base * (2 ** (attempt - 1))))


def error_message(body: Any) -> tuple[str | None, str | None]:
    """(message, code) of an OpenAI or vLLM error body, or (None, None) when it is not one."""
    if not isinstance(body, dict):
        return None, None
    err = body.get("error")
    if isinstance(err, dict):
        code = err.get("code") or err.get("type")
        return str(err.get("message") or err), (str(code) if code is not None else None)
    if isinstance(err, str) and err:
        return err, None
    if body.get("object") == "error":
        code = body.get("code") or body.get("type")
        return str(body.get("message") or "error"), (str(code) if code is not None else None)
    return None, None


def _completion_text(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(text, finish_reason) of a chat or text completion body, (None, None) if it has none."""
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None, None
    choice = choices[0]
    message = choice.get("message")
    if isinstance(message, dict) and isinstance(message.get("content"), str):
        return message["content"], choice.get("finish_reason")
    if isinstance(choice.get("text"), str):
        return choice["text"], choice.get("finish_reason")
    return None, None


def interpret_response(status: int, content: bytes) -> CallResult:
    """Classify one HTTP response (pure: no retry decision beyond the status)."""
    try:
        body: Any = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = None
    message, code = error_message(body)
    if status >= 400:
        snippet = message or content[:200].decode("utf-8", "replace").strip() or "no body"
        return CallResult(ok=False, status=status, error_kind=f"http_{status}",
                          error=f"HTTP {status}: {snippet}", error_code=code)
    if body is None:
        return CallResult(ok=False, status=status, error_kind="bad_json",
                          error="the server answered with a body that is not JSON")
    if message is not None:
        return CallResult(ok=False, status=status, error_kind="error_body",
                          error=f"error body: {message}", error_code=code)
    text, finish = _completion_text(body)
    if text is None:
        return CallResult(ok=False, status=status, error_kind="bad_response",
                          error="the response has no choices[0].message.content or choices[0].text")
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    return CallResult(ok=True, text=text, status=status, finish_reason=finish,
                      prompt_tokens=int(usage.get("prompt_tokens") or 0),
                      completion_tokens=int(usage.get("completion_tokens") or 0), data=body)


class OpenAIClient:
    """Async OpenAI-compatible client; use as ``async with OpenAIClient(cfg) as client``."""

    def __init__(self, config: ClientConfig, *, transport: httpx.AsyncBaseTransport | None = None,
                 rng: random.Random | None = None, limiter: RateLimiter | None = None) -> None:
        if config.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.config = config
        # pass a limiter to share one budget between several clients or several event loops
        self.limiter = limiter or RateLimiter(config.rpm, config.tpm, burst_seconds=config.burst_seconds)
        self._transport = transport
        self._rng = rng or random.Random()
        self._sem: asyncio.Semaphore | None = None
        self._http: httpx.AsyncClient | None = None
        self.attempts_sent = 0

    async def __aenter__(self) -> OpenAIClient:
        headers = {"Content-Type": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        limits = httpx.Limits(max_connections=self.config.concurrency,
                              max_keepalive_connections=self.config.concurrency)
        self._http = httpx.AsyncClient(base_url=self.config.base_url.rstrip("/") + "/",
                                       headers=headers, timeout=self.config.timeout,
                                       limits=limits, transport=self._transport)
        self._sem = asyncio.Semaphore(self.config.concurrency)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("use OpenAIClient inside 'async with'")
        return self._http

    async def list_models(self) -> list[str]:
        """GET /models once (no retries); raises httpx errors and returns the model ids."""
        resp = await self.http.get("models", timeout=min(self.config.timeout, 15.0))
        resp.raise_for_status()
        data = resp.json().get("data") or []
        return [str(m.get("id")) for m in data if isinstance(m, dict) and m.get("id")]

    async def chat(self, messages: list[dict[str, str]], model: str, **params: Any) -> CallResult:
        """POST /chat/completions; ``params`` go into the body (temperature, response_format, ...)."""
        payload = {"model": model, "messages": messages, **params}
        tokens = count_request_tokens(messages, params.get("max_tokens"))
        return await self.post("chat/completions", payload, tokens)

    async def completion(self, prompt: str, model: str, **params: Any) -> CallResult:
        """POST /completions with a plain prompt."""
        payload = {"model": model, "prompt": prompt, **params}
        tokens = count_request_tokens(prompt, params.get("max_tokens"))
        return await self.post("completions", payload, tokens)

    async def post(self, path: str, payload: dict[str, Any], tokens: int) -> CallResult:
        """POST ``payload`` with rate limiting, the concurrency cap and the retry policy."""
        cfg = self.config
        start = time.perf_counter()
        result = CallResult(ok=False, error_kind="connection", error="not sent")
        attempt = 0
        history: list[str] = []
        while attempt < cfg.max_attempts:
            attempt += 1
            result, retry_after = await self._attempt(path, payload, tokens)
            result.attempts = attempt
            result.history = list(history)
            history.append(f"{result.error_kind}: {result.error}")
            if result.ok or not self._retryable(result) or attempt >= cfg.max_attempts:
                break
            if retry_after is not None:
                delay = min(retry_after, cfg.max_retry_after)
            else:
                delay = backoff_delay(attempt, cfg.backoff_base, cfg.backoff_max, self._rng)
            await asyncio.sleep(delay)
        result.seconds = time.perf_counter() - start
        return result

    @staticmethod
    def _retryable(result: CallResult) -> bool:
        if result.error_kind in ("timeout", "connection"):
            return True
        if result.error_kind in BAD_ANSWER_KINDS and result.status is not None and result.status < 400:
            return True
        return result.status is not None and result.status >= 400 and is_retryable_status(result.status)

    async def _attempt(self, path: str, payload: dict[str, Any], tokens: int
                       ) -> tuple[CallResult, float | None]:
        assert self._sem is not None, "use OpenAIClient inside 'async with'"
        async with self._sem:
            await self.limiter.acquire(tokens)
            self.attempts_sent += 1
            try:
                # one deadline for the whole attempt (httpx's own timeouts are per phase/read)
                async with asyncio.timeout(self.config.timeout):
                    resp = await self.http.post(path, json=payload)
                    content = await resp.aread()
            except (TimeoutError, httpx.TimeoutException):
                return CallResult(ok=False, error_kind="timeout",
                                  error=f"no response within {self.config.timeout:g} s"), None
            except httpx.TransportError as exc:
                return CallResult(ok=False, error_kind="connection",
                                  error=f"connection error: {exc.__class__.__name__}: {exc}"), None
            except httpx.RequestError as exc:  # e.g. an undecodable body: not worth a retry
                return CallResult(ok=False, error_kind="bad_response",
                                  error=f"{exc.__class__.__name__}: {exc}"), None
        result = interpret_response(resp.status_code, content)
        if result.ok and result.prompt_tokens:
            self.limiter.settle_tokens(tokens, result.prompt_tokens + result.completion_tokens)
        retry_after = parse_retry_after(resp.headers) if resp.status_code >= 400 else None
        return result, retry_after
