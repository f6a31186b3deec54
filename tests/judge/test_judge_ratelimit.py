"""Token buckets with a fake clock, Retry-After parsing, backoff bounds, response classification."""

from __future__ import annotations

import email.utils
import random
import time

import pytest

from kosql.errors import UserError
from kosql.http.client import (
    backoff_delay,
    interpret_response,
    is_retryable_status,
    parse_retry_after,
    resolve_api_key,
)
from kosql.http.ratelimit import RateLimiter, TokenBucket, bucket_capacity, estimate_tokens


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_judge_bucket_capacity_and_refill() -> None:
    clock = Clock()
    b = TokenBucket(600, bucket_capacity(600), clock)  # 10/s, capacity 10
    assert b.capacity == 10
    for _ in range(10):
        assert b.wait_time(1) == 0
        b.take(1)
    assert b.wait_time(1) == pytest.approx(0.1)
    clock.t += 0.25
    assert b.wait_time(1) == 0 and b.level == pytest.approx(2.5)
    clock.t += 100
    b._refill()
    assert b.level == 10  # never above capacity


def test_judge_oversized_request_waits_for_full_bucket_then_goes_into_debt() -> None:
    clock = Clock()
    b = TokenBucket(600, 10, clock)
    b.take(5)
    assert b.wait_time(50) == pytest.approx(0.5)  # waits for a full bucket only
    clock.t += 0.5
    assert b.wait_time(50) == 0
    b.take(50)
    assert b.level == pytest.approx(-40)
    assert b.wait_time(1) == pytest.approx(4.1)


def test_judge_limiter_both_buckets() -> None:
    clock = Clock()
    lim = RateLimiter(rpm=6000, tpm=600, clock=clock)  # 100 req/s but only 10 tokens/s
    assert lim.wait_time(10) == 0
    lim.take(10)
    assert lim.wait_time(5) == pytest.approx(0.5)  # the token bucket is the bottleneck
    lim.settle_tokens(estimated=10, actual=4)  # the server says only 4 were used
    assert lim.wait_time(5) == 0


def test_judge_retryable_statuses() -> None:
    assert all(is_retryable_status(s) for s in (408, 409, 429, 500, 502, 503, 504, 599))
    assert not any(is_retryable_status(s) for s in (400, 401, 403, 404, 413, 422))


def test_judge_parse_retry_after_forms() -> None:
    assert parse_retry_after({"Retry-After": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "0.5"}) == 0.5
    assert parse_retry_after({"retry-after-ms": "250", "Retry-After": "9"}) == 0.25
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after({"Retry-After": date}, now=now) == pytest.approx(30, abs=1.01)
    assert parse_retry_after({"Retry-After": email.utils.formatdate(now - 60, usegmt=True)}, now=now) == 0
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}) is None


def test_judge_backoff_full_jitter_bounds() -> None:
    rng = random.Random(1)
    for attempt in range(1, 8):
        cap = min(4.0, 0.5 * 2 ** (attempt - 1))
        delays = [backoff_delay(attempt, 0.5, 4.0, rng) for _ in range(200)]
        assert all(0 <= d <= cap for d in delays)
        assert max(delays) > 0.7 * cap  # really spread over the range


def test_judge_error_bodies_are_never_completions() -> None:
    openai_err = b'{"error": {"message": "overloaded", "type": "server_error", "code": null}}'
    vllm_err = b'{"object": "error", "message": "bad", "type": "BadRequestError", "code": 400}'
    for body in (openai_err, vllm_err):
        r = interpret_response(200, body)
        assert not r.ok and r.error_kind == "error_body" and r.text is None
    r = interpret_response(404, b'{"error": {"message": "no such model", "code": "model_not_found"}}')
    assert not r.ok and r.error_kind == "http_404" and r.error_code == "model_not_found"
    assert interpret_response(200, b'{"choices": [{"message": {"content": "x"').error_kind == "bad_json"
    assert interpret_response(200, b'{"choices": []}').error_kind == "bad_response"
    ok = interpret_response(200, b'{"choices": [{"message": {"content": "yes"}}], '
                                 b'"usage": {"prompt_tokens": 5, "completion_tokens": 1}}')
    assert ok.ok and ok.text == "yes" and ok.prompt_tokens == 5
    assert interpret_response(200, b'{"choices": [{"text": "SELECT 1"}]}').text == "SELECT 1"


def test_judge_api_key_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert resolve_api_key("http://127.0.0.1:8000/v1", None) is None
    assert resolve_api_key("http://localhost:8000/v1", None) is None
    with pytest.raises(UserError, match="OPENAI_API_KEY is not set"):
        resolve_api_key("https://api.openai.com/v1", None)
    with pytest.raises(UserError, match="MY_KEY is not set"):
        resolve_api_key("http://127.0.0.1:8000/v1", "MY_KEY", explicit=True)
    monkeypatch.setenv("MY_KEY", "sk-test")
    assert resolve_api_key("https://example.com/v1", "MY_KEY", explicit=True) == "sk-test"


def test_judge_token_estimate_is_chars_over_two() -> None:
    assert estimate_tokens("가나다라") == 2
    assert estimate_tokens("abc") == 2
