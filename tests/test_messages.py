"""kosql.messages: every sentence about a query in English and Korean, in one place."""

from __future__ import annotations

import copy
import re
import string

import pytest

from kosql.messages import EN, KO, Message, Seq, korean, msg


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_sentence_has_both_languages_with_the_same_parameters() -> None:
    assert set(EN) == set(KO)
    for key in EN:
        assert _fields(EN[key]) == _fields(KO[key]), key
        assert re.search(r"[가-힣]", KO[key]) or key in ("limit_added",), key  # said in Korean


def test_a_message_is_its_english_text_and_knows_its_korean() -> None:
    note = msg("limit_added", n=100)
    assert note == "LIMIT 100 added" and isinstance(note, str) and note.ko() == "LIMIT 100 추가"
    rows = msg("table_rows", table="orders", rows=123456)
    nested = msg("too_expensive", reasons=Seq((msg("over_rows", rows=2e7, budget=1e7), msg("scans_large",
                                                                                        tables=Seq((rows,)))), "; "))
    assert nested == ("The query is too expensive: estimated 20,000,000 rows is over the budget of 10,000,000; "
                      "it fully scans orders (123,456 rows).")
    assert nested.ko() == ("쿼리 비용이 너무 커요: 예상 행 수 20,000,000이 예산 10,000,000을 넘어요; "
                           "orders (123,456행) 전체를 훑어요.")
    assert korean(nested) == nested.ko() and korean("no such column: x") == "no such column: x"
    assert korean(None) is None
    copied = copy.deepcopy({"error": nested})["error"]  # dataclasses.asdict copies fields this way
    assert isinstance(copied, Message) and copied == nested and copied.ko() == nested.ko()


def test_an_unknown_key_is_an_error() -> None:
    with pytest.raises(KeyError):
        msg("no_such_sentence")


def test_the_guard_and_the_cost_check_speak_through_messages() -> None:
    from kosql.ask.cost import judge_cost
    from kosql.ask.dbtypes import PlanInfo
    from kosql.sql.guard import Policy, check_sql

    allowed = check_sql("SELECT name FROM employees", Policy(max_rows=50), dialect="sqlite")
    assert allowed.notes == ["LIMIT 50 added"] and [korean(n) for n in allowed.notes] == ["LIMIT 50 추가"]
    refused = check_sql("DELETE FROM employees", Policy(), dialect="sqlite")
    assert refused.reason == "Only SELECT queries may run, not DELETE."
    assert korean(refused.reason) == "SELECT 쿼리만 실행할 수 있어요 (DELETE 안 됨)."
    report = judge_cost(PlanInfo(kind="sqlite", full_scans=["employees"], table_rows={"employees": 160}), Policy())
    assert report.note == "Full scans: employees; at most 160 row combinations scanned."
    assert korean(report.note) == "전체 스캔: employees; 훑는 행 조합은 많아야 160개."
