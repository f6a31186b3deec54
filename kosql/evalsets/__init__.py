"""Measurement sets shipped with kosql (never trained on).

``handwritten_rows()``: the hand-written Korean dev set (``kosql/evalsets/handwritten``: 138 questions
written by the kosql developers over six databases that kosql's generator does not know), its SQLite
databases built once into the kosql cache.
"""

from __future__ import annotations

from pathlib import Path

from kosql.data.rows import Example


def handwritten_file() -> Path:
    """The hand-written set's questions.jsonl with its databases built (cached by content)."""
    from kosql.cache import cache_root
    from kosql.evalsets.handwritten.build import build, fingerprint

    return build(cache_root() / "handwritten" / fingerprint())


def handwritten_rows() -> list[Example]:
    """The hand-written dev set's rows, each marked ``split = handwritten``."""
    from kosql.data.load import load_examples

    rows = load_examples(handwritten_file())
    for row in rows:
        row.extra["split"] = "handwritten"
    return rows
