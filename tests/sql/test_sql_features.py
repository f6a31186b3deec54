"""Golden tests for SQL feature tags and Spider hardness."""

from __future__ import annotations

from pathlib import Path

import pytest

from kosql.sql.features import FEATURES, sql_features, sql_hardness

GOLDEN = Path(__file__).with_name("features_golden.txt")


def _cases() -> list[tuple[str, str, list[str]]]:
    out = []
    for line in GOLDEN.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        sql, hardness, feats = (part.strip() for part in line.split(";;"))
        out.append((sql, hardness, [f for f in feats.split(",") if f]))
    return out


@pytest.mark.parametrize(("sql", "hardness", "features"), _cases())
def test_golden(sql: str, hardness: str, features: list[str]) -> None:
    assert sql_features(sql) == features
    assert sql_hardness(sql) == hardness


def test_unparsable_sql() -> None:
    assert sql_features("SELECT FROM WHERE (") == []
    assert sql_hardness("") == "extra"


def test_the_golden_file_covers_every_feature_tag() -> None:
    assert {f for _sql, _hardness, feats in _cases() for f in feats} == set(FEATURES)
