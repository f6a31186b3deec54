"""OpenAI-shaped error bodies for every endpoint, the request-body limit and the API-key check.

Every error is ``{"error": {"message", "type", "param", "code"}}`` with a 4xx/5xx status, the
shape OpenAI's clients parse; ``message`` is one plain sentence the page shows as it is.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kosql.models.base import ModelCallFailed
from kosql.serve.batching import QueueFull, TooManyPrompts

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
          413: "invalid_request_error", 429: "rate_limit_error", 502: "upstream_error", 503: "server_overloaded"}


class APIError(Exception):
    """An error answered with ``status`` and an OpenAI-shaped body."""

    def __init__(self, status: int, message: str, *, code: str | None = None, param: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.headers = headers or {}


def error_body(status: int, message: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": _TYPES.get(status, "server_error" if status >= 500
                                                             else "invalid_request_error"),
                      "param": param, "code": code}}


def error_response(status: int, message: str, code: str | None = None, param: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, message, code, param), status_code=status, headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts)


def validation_message(errors: list[Any]) -> tuple[str, str | None, str | None]:
    """(message, param, code) for pydantic errors: the first problem as one sentence."""
    if not errors:
        return "The request is not valid.", None, None
    first = errors[0]
    if first.get("type") == "json_invalid":
        return "We could not parse the JSON body of your request.", None, "invalid_json"
    name = _field(first.get("loc", ()))
    msg = str(first.get("msg", "is not valid")).rstrip(".")
    if first.get("type") == "missing":
        return f"The request is missing the required field '{name}'.", name or None, "missing_field"
    if not name:
        return f"The request body is not valid: {msg}.", None, "invalid_type"
    return f"Field '{name}' is not valid: {msg}.", name, "invalid_value"


def install_error_handlers(app: FastAPI) -> None:
    """Map validation errors, HTTP errors, APIError, QueueFull (503), a request larger than the queue
    (400), failed model calls (502) and crashes to OpenAI-shaped bodies."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        message, param, code = validation_message(list(exc.errors()))
        return error_response(400, message, code, param)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        text = exc.detail if isinstance(exc.detail, str) else "The request failed."
        if exc.status_code == 404:
            text = "There is no such endpoint on this server."
        elif exc.status_code == 405:
            text = "This endpoint does not accept that HTTP method."
        return error_response(exc.status_code, text, None, None, dict(exc.headers or {}))

    @app.exception_handler(APIError)
    async def _api(_request: Request, exc: APIError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.code, exc.param, exc.headers)

    @app.exception_handler(QueueFull)
    async def _full(_request: Request, exc: QueueFull) -> JSONResponse:
        return error_response(503, "The server is busy; please retry shortly.", "queue_full", None,
                              {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(TooManyPrompts)
    async def _too_many(_request: Request, exc: TooManyPrompts) -> JSONResponse:
        return error_response(400, str(exc), "too_many_prompts", "prompt")

    @app.exception_handler(ModelCallFailed)
    async def _model_failed(_request: Request, exc: ModelCallFailed) -> JSONResponse:
        return error_response(502, str(exc), "model_call_failed", None)

    @app.exception_handler(Exception)
    async def _crash(_request: Request, exc: Exception) -> JSONResponse:
        return error_response(500, f"The server failed on this request ({type(exc).__name__}: {exc}).",
                              "internal_error")


class BodyLimitMiddleware:
    """Answer 413 for request bodies over ``max_bytes`` (by Content-Length, or counted while read)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:  # read the (bounded) body first, then replay it to the app
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message), send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._reject(send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(chunks, None, receive), send)

    async def _reject(self, send: Send) -> None:
        body = json.dumps(error_body(413, f"The request body is larger than {self.max_bytes} bytes.",
                                     "body_too_large")).encode("utf-8")
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def _replay(chunks: list[bytes], final: Message | None, receive: Receive | None = None) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            if final is not None:
                return final
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        if receive is not None:
            return await receive()  # e.g. http.disconnect
        return {"type": "http.disconnect"}

    return replay


def check_api_key(request: Request, key: str | None) -> None:
    """Raise a 401 APIError unless the request carries ``Authorization: Bearer <key>`` (when set)."""
    if not key:
        return
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), key.encode()):
        raise APIError(401, "Incorrect API key provided." if header else
                       "This server needs an API key: send the header 'Authorization: Bearer <key>'.",
                       code="invalid_api_key")
