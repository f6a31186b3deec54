"""Verdict parsing: JSON, fenced JSON, embedded JSON, bare yes/no, Korean answers, unparsed."""

from __future__ import annotations

import pytest

from kosql.evaluate.judge_parse import parse_verdict


@pytest.mark.parametrize(
    ("text", "label", "how"),
    [
        ('{"resolve_yn": "yes"}', "yes", "json"),
        ('{"resolve_yn": "No"}', "no", "json"),
        ('{"RESOLVE_YN": "YES"}', "yes", "json"),
        ('{"verdict": true}', "yes", "json"),
        ('{"resolve_yn": "예"}', "yes", "json"),
        ('{"resolve_yn": "아니오"}', "no", "json"),
        ('"no"', "no", "json"),
        ('```json\n{"resolve_yn": "yes"}\n```', "yes", "fence"),
        ('```\n{"resolve_yn": "no"}\n```', "no", "fence"),
        ('Here you go: {"resolve_yn": "no"} -- done', "no", "embedded"),
        ("yes", "yes", "bare"),
        ("No.", "no", "bare"),
        ("Yes, both queries return the same rows.", "yes", "bare"),
        ("예", "yes", "bare"),
        ("네, 같은 결과입니다.", "yes", "bare"),
        ("아니요.", "no", "bare"),
        ("아니오, 다른 열을 반환합니다", "no", "bare"),
        ("아닙니다", "no", "bare"),
    ],
)
def test_judge_parse_accepted_forms(text: str, label: str, how: str) -> None:
    v = parse_verdict(text)
    assert (v.label, v.how) == (label, how)
    assert v.raw == text


@pytest.mark.parametrize(
    "text",
    ["", "   ", "maybe", "I think yes", "Hmm, it depends on the data.", '{"resolve_yn": ""}',
     '{"resolve_yn": "perhaps"}', '{"object": "error", "message": "boom"}',
     '{"error": {"message": "model overloaded"}}', "예를 들어 이 쿼리는", "```json\n{broken\n```", None],
)
def test_judge_parse_unparsed_keeps_raw(text: str | None) -> None:
    v = parse_verdict(text)
    assert v.label == "unparsed"
    assert v.raw == (text or "")
