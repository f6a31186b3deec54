"""Pure helpers of the transformers backend (no model loaded)."""

from __future__ import annotations

import pytest

from kosql.models.base import GenerationParams
from kosql.models.hf import common_prefix_len, cpu_count, default_threads
from kosql.prompts import STOP_STRINGS


def test_common_prefix_keeps_one_own_token_per_row() -> None:
    assert common_prefix_len([[1, 2, 3, 4], [1, 2, 3, 5]]) == 3
    assert common_prefix_len([[1, 2], [1, 2, 3]]) == 1  # the shorter row keeps its last token
    assert common_prefix_len([[7, 8, 9]]) == 2
    assert common_prefix_len([[1], [2]]) == 0
    assert common_prefix_len([]) == 0


def test_default_threads_cores_or_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KOSQL_THREADS", raising=False)
    assert default_threads() == cpu_count()
    monkeypatch.setenv("KOSQL_THREADS", "1")
    assert default_threads() == 1
    monkeypatch.setenv("KOSQL_THREADS", "zero")
    assert default_threads() == cpu_count()


def test_generation_params_defaults() -> None:
    p = GenerationParams()
    assert (p.max_new_tokens, p.temperature, p.top_p, p.num_return_sequences, p.batch_size, p.seed) == (
        128, 0.0, 1.0, 1, 8, 0)
    assert p.stop == STOP_STRINGS and p.greedy
    assert not GenerationParams(temperature=0.7).greedy
