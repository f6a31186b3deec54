"""Shared fixture: one small bundled dataset generated per test session."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kosql.data.synth import generate_dataset

    out = tmp_path_factory.mktemp("synth") / "small"
    generate_dataset(out, seed=0, size="small")
    return out
