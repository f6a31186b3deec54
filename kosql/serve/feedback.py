"""Users' corrections as training rows: one JSONL line per "이 SQL이 맞아요 / 고쳤어요" click.

Each line is a ko_text2sql row (``id, db_id, context, question, answer``), plus ``db_path`` for a
SQLite database (so `kosql train` can check the SQL by execution) and where it came from
(``feedback``: ``correct`` or ``corrected``, ``model_sql``, ``created_at``). The file is only ever
appended to, under a lock, and is a valid ``data.train=`` file for `kosql train`.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

FeedbackKind = Literal["correct", "corrected"]


def feedback_row(*, db_id: str, context: str, question: str, sql: str, kind: FeedbackKind,
                 model_sql: str | None = None, db_path: str | None = None) -> dict[str, Any]:
    """The JSONL record of one piece of feedback (pure)."""
    row: dict[str, Any] = {"id": f"feedback-{uuid.uuid4().hex[:12]}", "db_id": db_id, "context": context,
                           "question": question.strip(), "answer": sql.strip()}
    if db_path:
        row["db_path"] = db_path
    row["feedback"] = kind
    if model_sql is not None:
        row["model_sql"] = model_sql
    row["created_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return row


@dataclass
class FeedbackStore:
    """Appends feedback rows to ``path`` (created with its folder on the first row)."""

    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def append(self, row: dict[str, Any]) -> None:
        line = json.dumps(row, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())

    def count(self) -> int:
        if not self.path.exists():
            return 0
        with self._lock, self.path.open(encoding="utf-8") as fh:
            return sum(1 for line in fh if line.strip())
