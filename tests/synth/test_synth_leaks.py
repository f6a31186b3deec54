"""No dev or test row of the bundled dataset repeats a train row (the split's leak check, 0 allowed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kosql.data.rows import Example, read_jsonl
from kosql.data.split import find_leaks
from kosql.data.synth.build import check_no_leaks
from kosql.data.synth.catalog2 import DOMAINS
from kosql.data.synth.generate import Claimed, Quota, build_database, generate_domain
from kosql.data.synth.values import fill_domain


def _leaks(folder: Path) -> dict[str, int]:
    train = read_jsonl(folder / "train.jsonl")
    return {name: len(find_leaks(train, read_jsonl(folder / f"{name}.jsonl"))[0]) for name in ("dev", "test")}


def test_small_dataset_has_no_leaks(small_dataset: Path) -> None:
    assert _leaks(small_dataset) == {"dev": 0, "test": 0}


@pytest.mark.slow
def test_full_dataset_has_no_leaks(tmp_path: Path) -> None:
    from kosql.data.synth import generate_dataset

    generate_dataset(tmp_path / "full", seed=0, size="full")  # raises on a leak; counted again here
    assert _leaks(tmp_path / "full") == {"dev": 0, "test": 0}


def test_a_row_another_domain_has_in_another_split_is_rejected(tmp_path: Path) -> None:
    domain = next(d for d in DOMAINS if d.db_id == "shop")
    rows = fill_domain(domain, 0)
    quota = Quota(train=40, dev=4, in_domain=4)

    def run(claimed: Claimed) -> list[tuple[str, str, str]]:
        conn = build_database(domain, rows, tmp_path / f"shop{len(claimed)}.sqlite")
        try:
            result = generate_domain(domain, rows, conn, quota, seed=0, claimed=claimed)
        finally:
            conn.close()
        return [(c.sql, c.question, c.split) for c in result.rows]

    first = run({})
    assert {s for _, _, s in first} == {"train", "dev", "in_domain"}
    from kosql.data.synth.generate import normalize_sql

    # another domain already holds every train row of the first run as a dev row (same SQL, question)
    other: Claimed = {}
    for sql, question, split in first:
        if split == "train":
            other.setdefault(normalize_sql(sql.rstrip(";")), []).append(("dev", question))
    n_claims = len(other)
    second = run(other)
    train_first = {(sql, q) for sql, q, s in first if s == "train"}
    assert not {(sql, q) for sql, q, s in second if s == "train"} & train_first
    assert len(other) > n_claims  # the second domain's rows were added to the shared map


def _ex(i: int, question: str, sql: str) -> Example:
    return Example(id=str(i), db_id="x", context="", question=question, answer=sql)


def test_check_no_leaks_refuses_a_repeated_row() -> None:
    train = [_ex(0, "고객 수가 18명 이상인 도시를 보여줘", "SELECT city FROM customers GROUP BY city HAVING COUNT(*) >= 18")]
    test = [_ex(1, "고객 수가 18명 이상인 도시를 알려줘", "select city from customers group by city having count(*) >= 18;")]
    check_no_leaks(train, [], [_ex(2, "전혀 다른 질문", train[0].answer)])
    with pytest.raises(RuntimeError, match="test split has 1 rows that repeat train rows"):
        check_no_leaks(train, [], test)
