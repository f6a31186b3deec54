"""OpenAI-compatible ``/v1/models``, ``/v1/chat/completions`` and ``/v1/completions``.

Generation goes through the server's micro-batcher. ``stream: true`` answers with SSE ``data:``
chunks ending in ``data: [DONE]``; the backends return whole texts, so the chunks are sent once
the text is generated (word by word), not while it is generated. ``stop`` strings end the text
(and are not part of it, as with OpenAI); ``finish_reason`` is ``length`` when ``max_tokens``
ended it. A model call that gave no text (an upstream server out of retries) is answered 502 with
the reason, never as an empty completion.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from kosql.models.base import Generation, GenerationParams, backend_tokenizer, check_generated
from kosql.serve.errors import APIError, check_api_key
from kosql.serve.state import ServeState


class TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    include_usage: bool = False


class _Common(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    n: int = Field(default=1, ge=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    stop: str | list[str] | None = None
    seed: int | None = None

    def stops(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        items = [self.stop] if isinstance(self.stop, str) else self.stop
        if len(items) > 4:
            raise APIError(400, "Field 'stop' may hold at most 4 strings.", code="invalid_value", param="stop")
        return tuple(s for s in items if s)


class ChatRequest(_Common):
    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)


class CompletionRequest(_Common):
    prompt: str | list[str]


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """``text`` up to (not including) the earliest stop string, and whether one occurred."""
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def split_chunks(text: str) -> list[str]:
    """Word-sized pieces (each with its leading whitespace) whose concatenation is ``text``."""
    pieces = re.findall(r"\s*\S+", text)
    rest = text[len("".join(pieces)):]
    if rest:
        pieces.append(rest)
    return pieces


def chat_prompt(messages: Sequence[ChatMessage], mode: str, tokenizer: Any | None) -> str:
    """The prompt for ``messages``: their texts joined by blank lines ('plain'), or the tokenizer's
    chat template ('template', falling back to 'plain' when the backend has no template)."""
    if mode == "template" and tokenizer is not None and getattr(tokenizer, "chat_template", None):
        convo = [{"role": "system" if m.role == "developer" else m.role, "content": m.text()} for m in messages]
        return str(tokenizer.apply_chat_template(convo, tokenize=False, add_generation_prompt=True))
    return "\n\n".join(m.text() for m in messages)


def _check_model(state: ServeState, model: str) -> None:
    if model != state.config.model_id:
        raise APIError(404, f"The model '{model}' does not exist on this server; it serves "
                            f"'{state.config.model_id}'.", code="model_not_found", param="model")


def _params(state: ServeState, req: _Common, max_tokens: int | None) -> GenerationParams:
    cfg = state.config
    limit = max_tokens or cfg.default_max_tokens
    if limit > cfg.max_tokens_limit:
        raise APIError(400, f"Field 'max_tokens' is {limit}, above this server's limit of {cfg.max_tokens_limit}.",
                       code="invalid_value", param="max_tokens")
    if req.n > cfg.max_n:
        raise APIError(400, f"Field 'n' is {req.n}, above this server's limit of {cfg.max_n}.",
                       code="invalid_value", param="n")
    return GenerationParams(max_new_tokens=limit, temperature=req.temperature or 0.0, top_p=req.top_p or 1.0,
                            num_return_sequences=req.n, stop=req.stops(), batch_size=cfg.max_batch,
                            seed=req.seed or 0)


def _check_prompt(state: ServeState, prompt: str, param: str) -> None:
    if len(prompt) > state.config.max_prompt_chars:
        raise APIError(400, f"The prompt is {len(prompt)} characters long, above this server's limit of "
                            f"{state.config.max_prompt_chars}.", code="prompt_too_long", param=param)


def _finish(gen: Generation, params: GenerationParams) -> tuple[str, str]:
    text, stopped = cut_at_stop(gen.text, params.stop)
    if not stopped and gen.completion_tokens >= params.max_new_tokens:
        return text, "length"
    return text, "stop"


def _usage(gens: Sequence[Generation], prompts: int, n: int) -> dict[str, int]:
    prompt_tokens = sum(g.prompt_tokens for g in gens[::max(1, n)][:prompts])
    completion = sum(g.completion_tokens for g in gens)
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion}


def _sse(obj: Any) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"


async def _stream(chunks: list[dict[str, Any]]) -> AsyncIterator[str]:
    for chunk in chunks:
        yield _sse(chunk)
    yield "data: [DONE]\n\n"


def _chat_chunks(head: dict[str, Any], finished: list[tuple[str, str]], usage: dict[str, int] | None
                 ) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    base = {**head, "object": "chat.completion.chunk"}
    for i, (text, reason) in enumerate(finished):
        out.append({**base, "choices": [{"index": i, "delta": {"role": "assistant", "content": ""},
                                         "logprobs": None, "finish_reason": None}]})
        out += [{**base, "choices": [{"index": i, "delta": {"content": piece}, "logprobs": None,
                                      "finish_reason": None}]} for piece in split_chunks(text)]
        out.append({**base, "choices": [{"index": i, "delta": {}, "logprobs": None, "finish_reason": reason}]})
    if usage is not None:
        out.append({**base, "choices": [], "usage": usage})
    return out


def _completion_chunks(head: dict[str, Any], finished: list[tuple[str, str]], usage: dict[str, int] | None
                       ) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, (text, reason) in enumerate(finished):
        out += [{**head, "choices": [{"index": i, "text": piece, "logprobs": None, "finish_reason": None}]}
                for piece in split_chunks(text)]
        out.append({**head, "choices": [{"index": i, "text": "", "logprobs": None, "finish_reason": reason}]})
    if usage is not None:
        out.append({**head, "choices": [], "usage": usage})
    return out


def openai_router(state: ServeState) -> APIRouter:
    """The /v1 routes of one server."""

    def auth(request: Request) -> None:
        check_api_key(request, state.config.api_key)

    router = APIRouter(prefix="/v1", dependencies=[Depends(auth)])

    @router.get("/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": state.config.model_id, "object": "model",
                                            "created": int(state.started), "owned_by": "kosql"}]}

    @router.post("/chat/completions", response_model=None)
    async def chat(req: ChatRequest) -> JSONResponse | StreamingResponse:
        _check_model(state, req.model)
        params = _params(state, req, req.max_completion_tokens or req.max_tokens)
        prompt = chat_prompt(req.messages, state.config.chat_prompt, backend_tokenizer(state.backend))
        _check_prompt(state, prompt, "messages")
        gens = check_generated(await state.batcher.generate([prompt], params))
        finished = [_finish(g, params) for g in gens]
        usage = _usage(gens, 1, req.n)
        head = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()),
                "model": state.config.model_id, "system_fingerprint": None}
        if req.stream:
            include = usage if req.stream_options and req.stream_options.include_usage else None
            return StreamingResponse(_stream(_chat_chunks(head, finished, include)), media_type="text/event-stream")
        choices = [{"index": i, "message": {"role": "assistant", "content": text}, "logprobs": None,
                    "finish_reason": reason} for i, (text, reason) in enumerate(finished)]
        return JSONResponse({**head, "object": "chat.completion", "choices": choices, "usage": usage})

    @router.post("/completions", response_model=None)
    async def completions(req: CompletionRequest) -> JSONResponse | StreamingResponse:
        _check_model(state, req.model)
        params = _params(state, req, req.max_tokens)
        prompts = [req.prompt] if isinstance(req.prompt, str) else list(req.prompt)
        if not prompts:
            raise APIError(400, "Field 'prompt' must hold at least one prompt.", code="invalid_value", param="prompt")
        for p in prompts:
            _check_prompt(state, p, "prompt")
        gens = check_generated(await state.batcher.generate(prompts, params))
        finished = [_finish(g, params) for g in gens]
        usage = _usage(gens, len(prompts), req.n)
        head = {"id": f"cmpl-{uuid.uuid4().hex[:24]}", "object": "text_completion", "created": int(time.time()),
                "model": state.config.model_id}
        if req.stream:
            include = usage if req.stream_options and req.stream_options.include_usage else None
            return StreamingResponse(_stream(_completion_chunks(head, finished, include)),
                                     media_type="text/event-stream")
        choices = [{"index": i, "text": text, "logprobs": None, "finish_reason": reason}
                   for i, (text, reason) in enumerate(finished)]
        return JSONResponse({**head, "choices": choices, "usage": usage})

    return router
