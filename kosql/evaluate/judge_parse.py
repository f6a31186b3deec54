"""Turn a judge model's reply into a verdict: ``yes``, ``no`` or ``unparsed`` (raw text kept).

Accepted, in this order:
1. the whole reply is JSON: an object with ``resolve_yn`` (any case; else a lone key such as
   ``verdict``/``answer``/``result``/``resolve``), a bare JSON string, or a boolean;
2. JSON inside a Markdown code fence (```json ... ```);
3. the first ``{...}`` object found inside other text;
4. a bare answer whose first word is yes/no (y/n, true/false, correct/incorrect) or Korean
   예/네/맞습니다 (yes) and 아니오/아니요/아니/아닙니다/틀립니다 (no).
Anything else (empty, "maybe", both or neither) is ``unparsed``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

Label = Literal["yes", "no", "unparsed"]

_YES = frozenset({"yes", "y", "true", "correct", "resolved", "예", "네", "맞습니다", "맞음", "가능"})
_NO = frozenset({"no", "n", "false", "incorrect", "unresolved", "아니오", "아니요", "아니", "아닙니다",
                 "틀립니다", "틀림", "불가능"})
_KEYS = ("resolve_yn", "verdict", "answer", "result", "resolve", "resolved", "judgment", "label")
_FENCE_RE = re.compile(r"```[a-zA-Z]*\s*(.*?)```", re.DOTALL)
_OBJECT_RE = re.compile(r"\{[^{}]*\}", re.DOTALL)
_WORD_RE = re.compile(r"[A-Za-z]+|[가-힣]+")


@dataclass(frozen=True)
class Verdict:
    """A parsed judge reply: ``label`` and how it was found (``json``, ``fence``, ``embedded``,
    ``bare``, ``none``); ``raw`` is the reply as received."""

    label: Label
    how: str
    raw: str


def word_label(value: str) -> Label:
    """'yes'/'no' from a short answer's first word, 'unparsed' otherwise."""
    text = value.strip().lower()
    if not text:
        return "unparsed"
    if text in _YES:
        return "yes"
    if text in _NO:
        return "no"
    match = _WORD_RE.search(text)
    if match is None:
        return "unparsed"
    first = match.group(0)
    if first in _YES:
        return "yes"
    if first in _NO:
        return "no"
    # Korean answers may carry a polite ending: "네요", "예입니다"
    for suffix in ("요", "입니다"):
        if first.endswith(suffix) and first[: -len(suffix)] in _YES:
            return "yes"
        if first.endswith(suffix) and first[: -len(suffix)] in _NO:
            return "no"
    return "unparsed"


def _value_label(value: Any) -> Label:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return word_label(value)
    return "unparsed"


def label_from_json(obj: Any) -> Label:
    """The verdict in a decoded JSON value (see the module docstring)."""
    if isinstance(obj, dict):
        lowered = {str(k).strip().lower(): v for k, v in obj.items()}
        for key in _KEYS:
            if key in lowered:
                return _value_label(lowered[key])
        if len(lowered) == 1:
            return _value_label(next(iter(lowered.values())))
        return "unparsed"
    return _value_label(obj)


def _try_json(text: str) -> tuple[bool, Any]:
    try:
        return True, json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return False, None


def parse_verdict(text: str | None) -> Verdict:
    """Parse one judge reply (pure)."""
    raw = text or ""
    stripped = raw.strip()
    if not stripped:
        return Verdict("unparsed", "none", raw)
    ok, obj = _try_json(stripped)
    if ok:
        label = label_from_json(obj)
        return Verdict(label, "json" if label != "unparsed" else "none", raw)
    for block in _FENCE_RE.findall(stripped):
        ok, obj = _try_json(block.strip())
        if ok:
            label = label_from_json(obj)
            if label != "unparsed":
                return Verdict(label, "fence", raw)
    for candidate in _OBJECT_RE.findall(stripped):
        ok, obj = _try_json(candidate)
        if ok:
            label = label_from_json(obj)
            if label != "unparsed":
                return Verdict(label, "embedded", raw)
    label = word_label(stripped.strip("`'\"*. \n"))
    return Verdict(label, "bare" if label != "unparsed" else "none", raw)
