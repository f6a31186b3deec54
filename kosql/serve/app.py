"""The FastAPI application of `kosql serve`: /v1 (OpenAI-compatible), /api (the page's), /healthz, /.

:func:`create_app` wires a :class:`ServeState` into routes; :func:`build_state` makes the state
from command-line choices (backend, model, database). Nothing here imports torch: the hf backend
does, when it is loaded.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from kosql import __version__
from kosql.ask.dbspec import BUNDLED_DB_PREFIX, resolve_db
from kosql.models.base import Backend
from kosql.serve.ask_api import ask_router
from kosql.serve.config import ServeConfig
from kosql.serve.errors import BodyLimitMiddleware, install_error_handlers
from kosql.serve.feedback import FeedbackStore
from kosql.serve.openai_api import openai_router
from kosql.serve.state import ServeState

PAGE_DIR = Path(__file__).resolve().parent / "page"
# The page runs only its own script: no inline code, nothing from other origins.
_PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
             "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def create_app(state: ServeState) -> FastAPI:
    """The ASGI app serving ``state``."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await state.batcher.start()
        try:
            yield
        finally:
            await state.batcher.stop()

    app = FastAPI(title="kosql serve", version=__version__, lifespan=lifespan, docs_url="/docs",
                  redoc_url=None)
    app.state.kosql = state
    install_error_handlers(app)
    app.include_router(openai_router(state))
    app.include_router(ask_router(state))

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return state.health()

    @app.get("/", response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        html = (PAGE_DIR / "index.html").read_text(encoding="utf-8")
        return HTMLResponse(html, headers={"Content-Security-Policy": _PAGE_CSP, "Cache-Control": "no-cache"})

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    app.mount("/static", StaticFiles(directory=PAGE_DIR), name="static")
    app.add_middleware(BodyLimitMiddleware, max_bytes=state.config.max_body_bytes)
    return app


def db_identity(db: str) -> tuple[str, str, str | None]:
    """(label without password, db_id, SQLite path or None) of a resolved database."""
    if "://" not in db:
        return db, Path(db).stem, db
    label = re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", db)
    tail = db.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    sqlite = db.split(":///", 1)[1].split("?", 1)[0] if db.startswith("sqlite:///") else None
    return label, (Path(tail).stem if sqlite else tail) or "db", sqlite


def build_state(config: ServeConfig, backend: Backend, *, db: str | None = None, policy: str | None = None,
                allow_expensive: bool = False, prompt_format: str = "seed",
                comments_ddl: str | None = None) -> ServeState:
    """The server state: the Asker over ``db`` (when given, built as `kosql ask` builds it) and the
    feedback file."""
    if db is None:
        return ServeState(config=config, backend=backend, prompt_format=prompt_format)
    from kosql.ask import Asker
    from kosql.sql.guard import load_policy

    resolved = resolve_db(db)
    asker = Asker(resolved, backend=backend, policy=load_policy(policy), allow_expensive=allow_expensive,
                  prompt_format=prompt_format, comments_ddl=comments_ddl)
    label, db_id, sqlite = db_identity(resolved)
    if db.startswith(BUNDLED_DB_PREFIX):
        label = db
    return ServeState(config=config, backend=backend, asker=asker, feedback=FeedbackStore(config.feedback_path),
                      db_label=label, db_id=db_id, db_path=sqlite, prompt_format=prompt_format)
