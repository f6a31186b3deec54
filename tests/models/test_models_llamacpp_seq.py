"""The bookkeeping of batched llama.cpp decoding (no model): where a sequence stops, how large the
context is, which cached slot a prompt reuses."""

from __future__ import annotations

from kosql.models.llamacpp_seq import (
    KV_CELLS_BUDGET,
    MARGIN,
    ContextPlan,
    SequenceText,
    best_slot,
    cheapest_split,
    common_prefix,
    plan_context,
    token_budget,
)


def _feed(seq: SequenceText, pieces: list[bytes]) -> int:
    """Push pieces as tokens 0, 1, ...; returns how many were pushed before the sequence ended."""
    for i, piece in enumerate(pieces):
        if seq.push(i, piece, False):
            return i + 1
    return len(pieces)


def test_a_stop_string_cuts_the_text_and_counts_the_token_that_made_it() -> None:
    seq = SequenceText.of([";", "\n\n"], max_tokens=50)
    assert _feed(seq, [b"SELECT", b" 1", b";\n", b"never"]) == 3
    assert seq.decoded() == "SELECT 1" and seq.finish == "stop" and len(seq.tokens) == 3


def test_the_first_stop_string_in_list_order_wins_as_in_create_completion() -> None:
    seq = SequenceText.of(["\n\n", ";"], max_tokens=50)
    _feed(seq, [b"SELECT 1", b"; x\n\n"])
    assert seq.decoded() == "SELECT 1; x"


def test_end_of_generation_ends_without_counting_the_token() -> None:
    seq = SequenceText.of([";"], max_tokens=50)
    seq.push(1, b"SELECT 1", False)
    assert seq.push(2, b"", True)
    assert seq.decoded() == "SELECT 1" and seq.tokens == [1] and seq.finish == "stop"


def test_max_tokens_ends_with_length() -> None:
    seq = SequenceText.of([";"], max_tokens=2)
    assert _feed(seq, [b"a", b"b", b"c"]) == 2
    assert seq.decoded() == "ab" and seq.finish == "length"


def test_no_stop_or_limit_inside_a_multibyte_character() -> None:
    """'가' is 3 bytes; create_completion looks for stops (and the limit) again once it is whole."""
    ga = "가".encode()
    seq = SequenceText.of([";"], max_tokens=2)
    assert not seq.push(0, b"ab", False)
    assert not seq.push(1, ga[:1], False)  # the limit is reached, but the character is cut
    assert not seq.push(2, ga[1:2], False)
    assert seq.push(3, ga[2:], False)
    assert seq.decoded() == "ab가" and len(seq.tokens) == 4 and seq.finish == "length"


def test_cut_ends_where_it_is() -> None:
    seq = SequenceText.of([";"], max_tokens=9)
    seq.push(0, b"SELECT", False)
    assert seq.cut() and seq.decoded() == "SELECT" and seq.finish == "length"


def test_budget_is_max_new_tokens_within_the_trained_context() -> None:
    assert token_budget(100, 128, 4096) == 128
    assert token_budget(4000, 128, 4096) == 4096 - 4000 - MARGIN
    assert token_budget(5000, 128, 4096) < 1


def test_context_is_sized_to_need_and_kept_when_large_enough() -> None:
    plan = plan_context(700, parallel=16, n_ctx_train=32768, current=None)
    assert plan == ContextPlan(slots=16, per_sequence=768)
    assert plan_context(500, 16, 32768, plan) is plan  # smaller need: no new context
    bigger = plan_context(5000, 16, 32768, plan)
    assert bigger.per_sequence == 5120 and bigger.slots == KV_CELLS_BUDGET // 5120
    assert plan_context(40000, 16, 32768, None).per_sequence == 32768  # never past the trained context
    assert plan_context(10, 16, 32768, None).per_sequence == 256


def test_best_slot_is_the_longest_shared_prefix() -> None:
    cached = [[1, 2, 3], [1, 2, 9, 9], [], [1, 2, 3, 4, 5]]
    assert best_slot([1, 2, 3, 4, 7], cached, [0, 1, 2]) == (0, 3)
    assert best_slot([1, 2, 3, 4, 7], cached, [0, 1, 2, 3]) == (3, 4)
    assert best_slot([8], cached, [1, 2]) == (1, 0)
    assert common_prefix([1, 2], [1, 2, 3]) == 2


def test_sequences_decode_in_the_groups_of_least_measured_time() -> None:
    """On a CPU where 2-7 tokens in one call cost more per token than single-token calls (measured
    on the default model: 19 ms for 1, 69 for 2, 96 for 4, 131 for 8, 162 for 16), few sequences
    decode one by one and many together."""
    costs = {1: 0.019, 2: 0.069, 4: 0.096, 8: 0.131, 16: 0.162}
    assert cheapest_split(4, costs) == [1, 1, 1, 1]
    assert cheapest_split(16, costs) == [16]
    assert cheapest_split(18, costs) == [16, 1, 1]
    assert cheapest_split(3, {1: 0.02, 3: 0.03}) == [3]  # where batching pays, it batches
    assert cheapest_split(5, {}) == [5]
