"""Async HTTP client for OpenAI-compatible servers: rate limits, concurrency cap, retries."""

from kosql.http.client import CallResult, ClientConfig, OpenAIClient
from kosql.http.ratelimit import RateLimiter, TokenBucket, count_tokens

__all__ = ["CallResult", "ClientConfig", "OpenAIClient", "RateLimiter", "TokenBucket", "count_tokens"]
