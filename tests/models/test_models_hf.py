"""Pure helpers of the transformers backend (no model loaded)."""

from __future__ import annotations

import pytest

from kosql.models.base import GenerationParams
from kosql.models.cpu import cpu_count, default_threads
from kosql.models.prefix import MIN_SHARED_PREFIX, common_prefix_len, prefix_runs


def test_common_prefix_keeps_one_own_token_per_row() -> None:
    assert common_prefix_len([[1, 2, 3, 4], [1, 2, 3, 5]]) == 3
    assert common_prefix_len([[1, 2], [1, 2, 3]]) == 1  # the shorter row keeps its last token
    assert common_prefix_len([[7, 8, 9]]) == 2
    assert common_prefix_len([[1], [2]]) == 0
    assert common_prefix_len([]) == 0


def test_prefix_runs_one_prefix_per_schema_in_a_mixed_batch() -> None:
    head = list(range(100, 110))  # an instruction shared by every prompt (too short to be worth a run)
    a, b = head + list(range(200, 260)), head + list(range(300, 340))  # two schemas
    rows = [a + [1, 2], a + [3], a + [4, 5, 6], b + [7], b + [8, 9]]
    assert prefix_runs(rows) == [(0, 3, len(a)), (3, 5, len(b))]
    assert prefix_runs(rows[:3]) == [(0, 3, len(a))]  # one schema: one run, as before


def test_prefix_runs_none_when_nothing_worth_sharing() -> None:
    assert prefix_runs([[1, 2, 3]]) is None
    assert prefix_runs([list(range(k, k + 40)) for k in (0, 100, 200)]) is None  # no common tokens
    short = list(range(MIN_SHARED_PREFIX - 1))
    assert prefix_runs([short + [1], short + [2]]) is None  # shared, but shorter than MIN_SHARED_PREFIX


def test_prefix_runs_keeps_single_rows_apart() -> None:
    a = list(range(500, 560))
    rows = [a + [1], a + [2], list(range(900, 990))]  # the last row shares nothing: a run of its own
    runs = prefix_runs(rows)
    assert runs == [(0, 2, len(a)), (2, 3, 89)]
    assert sum(e - s for s, e, _ in runs) == len(rows)


def test_default_threads_cores_or_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KOSQL_THREADS", raising=False)
    assert default_threads() == cpu_count()
    monkeypatch.setenv("KOSQL_THREADS", "1")
    assert default_threads() == 1
    monkeypatch.setenv("KOSQL_THREADS", "zero")
    assert default_threads() == cpu_count()


def test_generation_is_greedy_at_temperature_zero_only() -> None:
    assert GenerationParams(temperature=0.0).greedy
    assert not GenerationParams(temperature=0.7).greedy


def test_own_greedy_loop_only_when_the_generation_config_processes_no_logits() -> None:
    from types import SimpleNamespace

    from kosql.models.hf import HFBackend

    backend = object.__new__(HFBackend)  # no model loaded: only its generation config is read
    plain = {"repetition_penalty": None, "no_repeat_ngram_size": 0, "min_length": 0, "suppress_tokens": None}
    backend.model = SimpleNamespace(generation_config=SimpleNamespace(**plain))
    assert backend._plain_logits()
    for key, value in (("repetition_penalty", 1.2), ("no_repeat_ngram_size", 3), ("min_length", 5),
                       ("suppress_tokens", [7]), ("forced_eos_token_id", 2)):
        backend.model = SimpleNamespace(generation_config=SimpleNamespace(**{**plain, key: value}))
        assert not backend._plain_logits(), key
