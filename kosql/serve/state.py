"""What every endpoint of one server shares: settings, backend, batcher, the Asker, the feedback file."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kosql.models.base import Backend
from kosql.serve.batching import MicroBatcher
from kosql.serve.config import ServeConfig

if TYPE_CHECKING:
    from kosql.ask.service import Asker
    from kosql.serve.feedback import FeedbackStore


@dataclass
class ServeState:
    """One server's shared objects (built by :func:`kosql.serve.app.build_state` or by tests)."""

    config: ServeConfig
    backend: Backend
    asker: Asker | None = None
    feedback: FeedbackStore | None = None
    db_label: str = ""  # shown on the page and in /healthz (a path or a URL without password)
    db_id: str = ""  # the feedback rows' db_id
    db_path: str | None = None  # the SQLite file, written into feedback rows
    prompt_format: str = "seed"  # the prompts /api builds (kosql.models.prompting.default_prompt_format)
    batcher: MicroBatcher = field(init=False)
    started: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        self.batcher = MicroBatcher(self.backend, max_batch=self.config.max_batch,
                                    window_s=self.config.batch_window_ms / 1000.0,
                                    max_queue=self.config.max_queue)

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "model": self.config.model_id, "backend": getattr(self.backend, "name", ""),
                "db": self.db_label or None, "ask": self.asker is not None,
                "queue": {"pending": self.batcher.pending, "max": self.config.max_queue},
                "batching": {"max_batch": self.config.max_batch, "window_ms": self.config.batch_window_ms,
                             **self.batcher.stats.to_dict()},
                "limits": {"max_question_chars": self.config.max_question_chars,
                           "max_body_bytes": self.config.max_body_bytes},
                "auth": bool(self.config.api_key), "uptime_s": round(time.time() - self.started, 1)}
