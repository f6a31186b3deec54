"""Run the app with uvicorn: in the foreground (`kosql serve`) or in a thread (tests, benchmarks)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kosql.errors import UserError


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _config(app: Any, host: str, port: int, log_level: str) -> Any:
    import uvicorn

    # backlog: many clients connecting at once must queue, not be refused
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False,
                          backlog=512, timeout_keep_alive=30, lifespan="on")


def serve_forever(app: Any, host: str, port: int, *, log_level: str = "info") -> None:
    """Serve until Ctrl-C (uvicorn handles the signal and shuts down cleanly)."""
    import uvicorn

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise UserError(f"Cannot listen on {host}:{port} ({exc.strerror}); choose another --port.") from None
    uvicorn.Server(_config(app, host, port, log_level)).run()


@contextmanager
def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning",
                    timeout: float = 30.0) -> Iterator[str]:
    """Serve ``app`` in a daemon thread; yields the base URL (``http://host:port``)."""
    import uvicorn

    port = port or free_port(host)
    server = uvicorn.Server(_config(app, host, port, log_level))
    thread = threading.Thread(target=server.run, daemon=True, name="kosql-serve")
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start on {host}:{port}")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)
