"""The row type every part of kosql passes around, and JSONL reading/writing.

A row follows the ko_text2sql columns (``db_id, context, question, answer``). Extra columns are
kept in ``extra`` (for the bundled dataset: ``db_path``, ``hardness``, ``features``, ``split``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kosql.errors import UserError

CORE_COLUMNS: tuple[str, ...] = ("db_id", "context", "question", "answer")


@dataclass
class Example:
    """One Text2SQL row: a schema (DDL), a Korean question and its gold SQL."""

    id: str
    db_id: str
    context: str
    question: str
    answer: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def db_path(self) -> str | None:
        """Path of the row's SQLite database, when it has one."""
        value = self.extra.get("db_path")
        return str(value) if value else None

    @property
    def hardness(self) -> str | None:
        value = self.extra.get("hardness")
        return str(value) if value else None

    @property
    def features(self) -> list[str]:
        value = self.extra.get("features") or []
        if isinstance(value, str):
            return [v for v in value.split(",") if v]
        return [str(v) for v in value]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "db_id": self.db_id, "context": self.context,
                               "question": self.question, "answer": self.answer}
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], index: int = 0) -> Example:
        """Build from a mapping with the core columns; missing id -> the row index."""
        extra = {k: v for k, v in data.items() if k not in CORE_COLUMNS and k != "id"}
        raw_id = data.get("id")
        return cls(
            id=str(raw_id) if raw_id not in (None, "") else str(index),
            db_id=_text(data.get("db_id")),
            context=_text(data.get("context")),
            question=_text(data.get("question")),
            answer=_text(data.get("answer")),
            extra=extra,
        )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from pandas/pyarrow
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_jsonl_line(line: str, path: str | Path, lineno: int) -> dict[str, Any] | None:
    """One JSONL line as an object (None for a blank line); a bad line is a UserError naming it."""
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: line {lineno} is not valid JSON ({exc.msg}).") from None
    if not isinstance(obj, dict):
        raise UserError(f"{path}: line {lineno} is not a JSON object.")
    return obj


def iter_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of a JSONL file; a bad line is a UserError naming the line."""
    p = Path(path)
    try:
        with p.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                obj = parse_jsonl_line(line, p, lineno)
                if obj is not None:
                    yield obj
    except FileNotFoundError:
        raise UserError(f"{p}: no such file.") from None
    except UnicodeDecodeError:
        raise UserError(f"{p}: is not UTF-8 text.") from None


def read_jsonl(path: str | Path) -> list[Example]:
    """Read rows from a JSONL file written by :func:`write_jsonl` (or any ko_text2sql JSONL)."""
    return [Example.from_dict(obj, i) for i, obj in enumerate(iter_jsonl(path))]


def write_jsonl(path: str | Path, rows: Iterable[Example | dict[str, Any]]) -> int:
    """Write rows atomically (temp file + rename); returns the number of rows written."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            obj = row.to_dict() if isinstance(row, Example) else row
            fh.write(json.dumps(obj, ensure_ascii=False, sort_keys=False) + "\n")
            n += 1
    os.replace(tmp, p)
    return n
