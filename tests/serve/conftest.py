"""Live `kosql serve` apps on free ports for the serve tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from kosql.models.base import Backend
from kosql.serve.app import create_app
from kosql.serve.config import ServeConfig
from kosql.serve.live import serve_in_thread
from kosql.serve.state import ServeState

LiveServer = Callable[..., AbstractContextManager[tuple[str, ServeState]]]


@contextmanager
def live_server(backend: Backend, *, state: ServeState | None = None, **config: Any) -> Iterator[tuple[str, ServeState]]:
    """(base URL, state) of a server over ``backend`` (or a prepared ``state``) running in a thread."""
    if state is None:
        state = ServeState(config=ServeConfig(**{"model_id": "kosql-test", **config}), backend=backend)
    with serve_in_thread(create_app(state)) as url:
        yield url, state


@pytest.fixture
def live() -> LiveServer:
    return live_server
