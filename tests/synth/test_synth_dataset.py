"""The generated small dataset: executable gold SQL, splits, coverage, question/SQL consistency."""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

from kosql.data.rows import read_jsonl
from kosql.data.synth.catalog2 import DOMAINS, HELDOUT_DOMAINS
from kosql.sql.features import FEATURES, HARDNESS_LEVELS


def _rows(folder: Path, name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / name).read_text(encoding="utf-8").splitlines()]


def test_files_and_sizes(small_dataset: Path) -> None:
    for name in ("train.jsonl", "dev.jsonl", "test.jsonl", "stats.md"):
        assert (small_dataset / name).is_file(), name
    for d in DOMAINS:
        assert (small_dataset / "dbs" / f"{d.db_id}.sqlite").is_file()
    train, dev, test = (_rows(small_dataset, f) for f in ("train.jsonl", "dev.jsonl", "test.jsonl"))
    splits = Counter(r["split"] for r in test)
    assert len(train) >= 1900 and len(dev) >= 90
    assert splits["heldout_domain"] >= 180 and splits["in_domain"] >= 120
    assert {r["split"] for r in train} == {"train"} and {r["split"] for r in dev} == {"dev"}
    keys = {"id", "db_id", "context", "question", "answer", "db_path", "hardness", "features", "split"}
    for r in train[:50] + test[:50]:
        assert set(r) == keys
        assert r["db_path"] == f"dbs/{r['db_id']}.sqlite"
        assert r["hardness"] in HARDNESS_LEVELS and isinstance(r["features"], list)
    ids = [r["id"] for r in train + dev + test]
    assert len(ids) == len(set(ids))
    # the shared row type reads the files
    assert len(read_jsonl(small_dataset / "test.jsonl")) == len(test)


def test_every_gold_executes_and_empty_share(small_dataset: Path) -> None:
    conns: dict[str, sqlite3.Connection] = {}
    empty = total = 0
    for name in ("train.jsonl", "dev.jsonl", "test.jsonl"):
        for r in _rows(small_dataset, name):
            path = small_dataset / r["db_path"]
            conn = conns.setdefault(r["db_id"], sqlite3.connect(f"file:{path}?mode=ro", uri=True))
            result = conn.execute(r["answer"]).fetchall()  # raises if the gold SQL is invalid
            total += 1
            empty += not result or all(v is None for row in result for v in row)
    for conn in conns.values():
        conn.close()
    assert total > 2000
    assert empty / total <= 0.10


def test_heldout_domains_only_in_test(small_dataset: Path) -> None:
    assert len(HELDOUT_DOMAINS) >= 2 and len(DOMAINS) >= 12
    train_dev = _rows(small_dataset, "train.jsonl") + _rows(small_dataset, "dev.jsonl")
    assert not {r["db_id"] for r in train_dev} & set(HELDOUT_DOMAINS)
    held = [r for r in _rows(small_dataset, "test.jsonl") if r["split"] == "heldout_domain"]
    assert {r["db_id"] for r in held} == set(HELDOUT_DOMAINS)


def test_in_domain_test_is_new(small_dataset: Path) -> None:
    def norm(sql: str) -> str:
        return re.sub(r"\s+", " ", sql.strip().rstrip(";")).lower()

    train = _rows(small_dataset, "train.jsonl")
    questions = {r["question"] for r in train}
    sqls = {norm(r["answer"]) for r in train}
    in_domain = [r for r in _rows(small_dataset, "test.jsonl") if r["split"] == "in_domain"]
    assert in_domain
    for r in in_domain:
        assert r["question"] not in questions and norm(r["answer"]) not in sqls
        assert r["db_id"] not in HELDOUT_DOMAINS
    # no duplicates (normalized SQL + question) inside train
    assert len({(r["question"], norm(r["answer"])) for r in train}) == len(train)


def test_feature_and_hardness_coverage(small_dataset: Path) -> None:
    train = _rows(small_dataset, "train.jsonl")
    feats = Counter(f for r in train for f in r["features"])
    missing = [f for f in FEATURES if feats[f] == 0]
    assert not missing, missing
    assert set(Counter(r["hardness"] for r in train)) == set(HARDNESS_LEVELS)


def test_question_values_match_sql_literals(small_dataset: Path) -> None:
    """Every string value in the gold SQL is written in the question exactly (LIKE without %)."""
    rows = _rows(small_dataset, "train.jsonl") + _rows(small_dataset, "test.jsonl")
    for r in rows:
        sql = r["answer"]
        for lit in re.findall(r"'((?:[^']|'')*)'", sql):
            if lit.startswith("%Y"):
                continue
            text = lit.strip("%")
            if re.search(rf"strftime\([^)]*\) = '{lit}'", sql):  # year / month -> '2023년 5월'
                y, _, m = text.partition("-")
                assert f"{y}년" in r["question"] and (not m or f"{int(m)}월" in r["question"]), r
                continue
            assert f"'{text}'" in r["question"], (lit, r["question"], sql)


def test_column_mentions_in_context(small_dataset: Path) -> None:
    """Columns named in English in the question exist in the row's DDL; the DDL is ko_text2sql style."""
    for r in _rows(small_dataset, "test.jsonl"):
        ctx = r["context"]
        assert "CREATE TABLE" in ctx and "PRIMARY KEY AUTO_INCREMENT" in ctx
        for name in re.findall(r"\(([a-z_0-9]+)\)", r["question"]):
            assert re.search(rf"\b{name}\b", ctx), (name, r["question"])


def test_stats_md_describes_dataset(small_dataset: Path) -> None:
    text = (small_dataset / "stats.md").read_text(encoding="utf-8")
    for needle in ("Rows per split", "heldout_domain", "Features", "Hardness", "empty result", "hotel"):
        assert needle in text
