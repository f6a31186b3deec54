"""A fault-injecting OpenAI-compatible server on 127.0.0.1, for tests, benchmarks and trying
`kosql judge` by hand without an API key.

A supported testing helper: its endpoints, answers, fault kinds and the classes below
(``FakeOpenAIServer``, ``ServerConfig``, ``FAULT_KINDS``) are kept stable for users who test their
own code against kosql's OpenAI paths (``kosql judge``, ``kosql generate --backend openai``). It
uses the standard library only and is never imported by kosql's other modules. From the shell::

    python -m kosql.testing.fake_openai_server --port 8089 --faults 0.1 --latency 0.05

From Python (a free port, served in a daemon thread)::

    from kosql.testing.fake_openai_server import FakeOpenAIServer, ServerConfig

    with FakeOpenAIServer(ServerConfig(faults=0.1, seed=1)) as server:
        ...  # point an OpenAI client at server.base_url ("http://127.0.0.1:<port>/v1")
        print(server.log.snapshot())  # every request and its outcome

Endpoints: ``GET /v1/models``, ``POST /v1/chat/completions``, ``POST /v1/completions``,
``GET /_stats`` (request log as JSON), ``POST /_reset`` (clear the log).

Answers: for a judge prompt (it has ``gt_sql:`` and ``gen_sql:`` lines) the content is
``{"resolve_yn": "yes"}`` when both SQL strings are equal after whitespace normalization
(case-insensitive, trailing ``;`` ignored), else ``{"resolve_yn": "no"}``. Other prompts get
``SELECT 1;``. For a training-row judge prompt (``Question:`` and ``SQL:`` lines, as
``kosql data clean --judge-model`` sends) the answer is ``{"resolve_yn": "no", "reason": ...}``
when the SQL carries the marker ``/*verdict:no*/``, else ``{"resolve_yn": "yes"}``. An unknown
model is a 404 ``model_not_found`` like OpenAI's.

Faults, per attempt: with probability ``faults`` one of ``FAULT_KINDS`` is drawn (seeded RNG);
a prompt can also carry a schedule such as ``/*fault:429,503*/`` (attempt 1 gets 429, attempt 2
gets 503, later attempts succeed); a step ending in ``*`` repeats for every later attempt, e.g.
``/*fault:400**/`` answers 400 every time. The schedule is ignored when judging equality.
Fault kinds: ``429`` (with Retry-After), any other status code such as ``500``, ``503``,
``400`` (an OpenAI error body with that status), ``slow`` (answer after
``slow_seconds``), ``drop`` (close the socket without answering), ``badjson`` (200 with a
malformed body), ``text`` (a verdict that is not JSON and cannot be parsed), ``errbody``
(200 with vLLM's ``{"object": "error"}`` body).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULT_KINDS: tuple[str, ...] = ("429", "500", "503", "slow", "drop", "badjson", "text", "errbody")
_SCHEDULE_RE = re.compile(r"/\*fault:([a-z0-9*,]+)\*/")


@dataclass
class ServerConfig:
    """Behaviour of the fake server."""

    models: tuple[str, ...] = ("fake-judge", "gpt-4o-mini", "gpt-4-turbo-preview")
    faults: float = 0.0
    fault_kinds: tuple[str, ...] = FAULT_KINDS
    latency: float = 0.0
    slow_seconds: float = 3.0
    retry_after: str = "1"
    api_key: str | None = None
    seed: int = 0
    models_endpoint: bool = True  # False: GET /v1/models is a 404, like some minimal servers


@dataclass
class RequestLog:
    """What the server saw: one entry per request, attempts per prompt key."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, key: str, path: str, outcome: str) -> int:
        with self.lock:
            n = self.attempts.get(key, 0) + 1
            self.attempts[key] = n
            self.entries.append({"t": time.monotonic(), "key": key, "path": path,
                                 "attempt": n, "outcome": outcome})
            return n

    def set_outcome(self, index: int, outcome: str) -> None:
        with self.lock:
            self.entries[index]["outcome"] = outcome

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"entries": [dict(e) for e in self.entries], "attempts": dict(self.attempts)}

    def reset(self) -> None:
        with self.lock:
            self.entries.clear()
            self.attempts.clear()


def normalize_sql(sql: str) -> str:
    """Whitespace-normalized, lower-cased SQL without a trailing semicolon."""
    return " ".join(sql.strip().rstrip(";").split()).lower()


def judge_answer(prompt: str) -> str | None:
    """'yes'/'no' for a judge prompt, None when the prompt is not one."""
    gt = re.search(r"^\s*gt_sql:(.*)$", prompt, re.MULTILINE)
    gen = re.search(r"^\s*gen_sql:(.*)$", prompt, re.MULTILINE)
    if gt is None or gen is None:
        return None
    clean = _SCHEDULE_RE.sub("", gen.group(1))
    return "yes" if normalize_sql(clean) == normalize_sql(gt.group(1)) else "no"


def row_judge_answer(prompt: str) -> dict[str, str] | None:
    """The verdict for a training-row judge prompt, None when the prompt is not one."""
    question = re.search(r"^\s*Question:(.*)$", prompt, re.MULTILINE)
    sql = re.search(r"^\s*SQL:(.*)$", prompt, re.MULTILINE)
    if question is None or sql is None:
        return None
    if "/*verdict:no*/" in sql.group(1):
        return {"resolve_yn": "no", "reason": "The SQL does not answer the question (marked)."}
    return {"resolve_yn": "yes"}


def prompt_key(prompt: str) -> str:
    """A short stable key for a prompt (the server counts attempts per key)."""
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:16]


def scheduled_fault(prompt: str, attempt: int) -> str | None:
    """The fault a ``/*fault:...*/`` schedule in the prompt sets for this attempt, if any."""
    match = _SCHEDULE_RE.search(prompt)
    if match is None:
        return None
    steps = [s for s in match.group(1).split(",") if s]
    for i, step in enumerate(steps, start=1):
        if step.endswith("*"):
            return step[:-1]
        if i == attempt:
            return step
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeOpenAIServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    # -- helpers -------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), headers)

    def _error(self, status: int, message: str, code: str | None, headers: dict[str, str] | None = None
               ) -> None:
        self._json(status, {"error": {"message": message, "type": "invalid_request_error",
                                      "param": None, "code": code}}, headers)

    def _authorized(self) -> bool:
        key = self.server.config.api_key
        if key and self.headers.get("Authorization") != f"Bearer {key}":
            self._error(401, "Incorrect API key provided.", "invalid_api_key")
            return False
        return True

    # -- endpoints -----------------------------------------------------------------------
    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/_stats":
            self._json(200, self.server.log.snapshot())
            return
        if not self._authorized():
            return
        if self.path.rstrip("/") in ("/v1/models", "/models") and self.server.config.models_endpoint:
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "kosql-fake"}
                    for m in self.server.config.models]
            self._json(200, {"object": "list", "data": data})
            return
        self._error(404, f"Unknown path {self.path}", "not_found")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.rstrip("/")
        if path == "/_reset":
            self.server.log.reset()
            self._json(200, {"ok": True})
            return
        if not self._authorized():
            return
        if path not in ("/v1/chat/completions", "/v1/completions", "/chat/completions", "/completions"):
            self._error(404, f"Unknown path {self.path}", "not_found")
            return
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            self._error(400, "We could not parse the JSON body of your request.", None)
            return
        chat = path.endswith("chat/completions")
        if chat:
            prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages") or [])
        else:
            prompt = str(body.get("prompt", ""))
        self._complete(body, prompt, chat, path)

    def _complete(self, body: dict[str, Any], prompt: str, chat: bool, path: str) -> None:
        srv = self.server
        cfg = srv.config
        key = prompt_key(prompt)
        attempt = srv.log.record(key, path, "pending")
        index = len(srv.log.entries) - 1
        fault = scheduled_fault(prompt, attempt)
        if fault is None and cfg.faults > 0:
            with srv.rng_lock:
                if srv.rng.random() < cfg.faults:
                    fault = srv.rng.choice(cfg.fault_kinds)
        if cfg.latency > 0:
            time.sleep(cfg.latency)
        model = str(body.get("model", ""))
        if model not in cfg.models:
            srv.log.set_outcome(index, "404")
            self._error(404, f"The model `{model}` does not exist or you do not have access to it.",
                        "model_not_found")
            return
        srv.log.set_outcome(index, fault or "ok")
        if fault == "429":
            self._error(429, "Rate limit reached for requests.", "rate_limit_exceeded",
                        {"Retry-After": cfg.retry_after})
            return
        if fault is not None and fault.isdigit():
            self._error(int(fault), f"Injected HTTP {fault}.", None)
            return
        if fault == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault == "badjson":
            self._send(200, b'{"id": "chatcmpl-x", "choices": [{"message": {"content": "{\\"resolve')
            return
        if fault == "errbody":
            self._json(200, {"object": "error", "message": "Injected vLLM-style error.",
                             "type": "BadRequestError", "param": None, "code": 400})
            return
        if fault == "slow":
            time.sleep(cfg.slow_seconds)
        verdict = judge_answer(prompt)
        if fault == "text":
            content = "Hmm, it depends on the data."
        elif verdict is not None:
            content = json.dumps({"resolve_yn": verdict})
        elif (row_verdict := row_judge_answer(prompt)) is not None:
            content = json.dumps(row_verdict, ensure_ascii=False)
        else:
            content = "SELECT 1;"
        usage = {"prompt_tokens": max(1, len(prompt) // 2), "completion_tokens": max(1, len(content) // 2)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        choice: dict[str, Any] = {"index": 0, "finish_reason": "stop"}
        if chat:
            choice["message"] = {"role": "assistant", "content": content}
        else:
            choice["text"] = content
        self._json(200, {"id": f"cmpl-{key}-{attempt}", "object": "chat.completion" if chat else
                         "text_completion", "created": int(time.time()), "model": body.get("model"),
                         "choices": [choice], "usage": usage})


class FakeOpenAIServer(ThreadingHTTPServer):
    """The server object; ``start()`` serves in a daemon thread, ``stop()`` shuts it down."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # the default listen backlog (5) drops SYNs when many clients connect at once

    def __init__(self, config: ServerConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.config = config or ServerConfig()
        self.log = RequestLog()
        self.rng = random.Random(self.config.seed)
        self.rng_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAIServer:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="fake-openai-server")
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve until Ctrl-C; prints the base URL on the first line of stdout."""
    ap = argparse.ArgumentParser(description="Fault-injecting OpenAI-compatible test server.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8089, help="0 picks a free port")
    ap.add_argument("--faults", type=float, default=0.0, help="share of attempts given a fault (0-1)")
    ap.add_argument("--fault-kinds", default=",".join(FAULT_KINDS))
    ap.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    ap.add_argument("--slow-seconds", type=float, default=3.0, help="delay of a 'slow' fault")
    ap.add_argument("--retry-after", default="1", help="Retry-After header of a 429")
    ap.add_argument("--models", default=",".join(ServerConfig.models))
    ap.add_argument("--api-key", default=None, help="require this Bearer key")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    cfg = ServerConfig(models=tuple(m for m in args.models.split(",") if m), faults=args.faults,
                       fault_kinds=tuple(k for k in args.fault_kinds.split(",") if k),
                       latency=args.latency, slow_seconds=args.slow_seconds,
                       retry_after=args.retry_after, api_key=args.api_key, seed=args.seed)
    try:
        server = FakeOpenAIServer(cfg, args.host, args.port)
    except OSError as exc:
        raise SystemExit(f"Error: cannot listen on {args.host}:{args.port} ({exc.strerror}); try --port 0.") from None
    print(f"http://{args.host}:{server.port}/v1", flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
