"""Scorers for tests of the evaluation's worker processes (importable, so they reach a worker).

Tests put one in place of :func:`kosql.evaluate.api.score_row` (``monkeypatch.setattr``); the
evaluation hands the scorer it finds there to its workers by reference.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from kosql.data.rows import Example
from kosql.evaluate.api import score_row as _score_one  # the real scorer, bound before any patch


def crash_on_marker(example: Example, pred_sql: str, **kw: Any) -> dict[str, Any]:
    """Score as usual, but kill the worker process when the prediction is ``CRASH``."""
    if pred_sql == "CRASH":
        os._exit(3)
    return _score_one(example, pred_sql, **kw)


def report_worker(example: Example, pred_sql: str, **kw: Any) -> dict[str, Any]:
    """Score as usual and record the worker: its pid and whether torch is loaded in it."""
    row = _score_one(example, pred_sql, **kw)
    row["worker_pid"] = os.getpid()
    row["worker_has_torch"] = "torch" in sys.modules
    return row
