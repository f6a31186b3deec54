"""Question rewrites (kosql.data.synth.phrasing): numbers written the Korean way only where they are
values, never inside a table or column name."""

from __future__ import annotations

import random

from kosql.data.synth.phrasing import phrasing


def _rewrites(question: str, n: int = 200) -> set[str]:
    rng = random.Random(0)
    return {phrasing(question, rng) for _ in range(n)}


def test_a_number_value_is_sometimes_written_with_separators_or_man() -> None:
    seen = _rewrites("가격이 50000 이상인 상품을 보여줘")
    assert any("50,000" in q or "5만" in q for q in seen)


def test_digits_inside_a_table_name_are_left_as_they_are() -> None:
    for q in _rewrites("table 1 11630008 6(table_1_11630008_6)의 제목을 보여줘"):
        assert "table 1 11630008 6(table_1_11630008_6)" in q, q
    for q in _rewrites("table_1_10718868_2 테이블 중 시리즈 번호가 12345 이상인 것은 몇 개예요?"):
        assert "table_1_10718868_2" in q, q


def test_a_year_is_not_a_number_to_rewrite() -> None:
    for q in _rewrites("2024년에 가입한 회원 목록"):
        assert "2024년" in q, q


def test_big_round_numbers_are_also_said_in_man_and_cheon() -> None:
    import random

    from kosql.data.synth.phrasing import _number

    said = {_number(n, random.Random(seed)) for n in (95000, 130000) for seed in range(30)}
    assert {"9만 5천", "13만", "95,000", "130,000"} <= said
    assert {_number(87431, random.Random(seed)) for seed in range(30)} == {"87,431"}  # not round: digits
