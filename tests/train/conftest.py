"""Tiny Korean Text2SQL fixtures (one SQLite database) and the default model, for the train tests."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

DDL = "CREATE TABLE employees (id INTEGER PRIMARY KEY, name TEXT, dept TEXT, salary INTEGER);"
DEPTS = ("영업", "개발", "인사", "재무")


def make_rows(n: int) -> list[dict[str, Any]]:
    rows = []
    for k in range(n):
        dept, salary = DEPTS[k % 4], 3000 + 100 * (k % 17)
        kind = k % 3
        if kind == 0:
            q, a = f"{dept} 부서 직원의 이름을 모두 보여주세요.", f"SELECT name FROM employees WHERE dept = '{dept}';"
        elif kind == 1:
            q, a = f"급여가 {salary}보다 많은 직원은 몇 명인가요?", f"SELECT COUNT(*) FROM employees WHERE salary > {salary};"
        else:
            q, a = f"{dept} 부서의 평균 급여는 얼마인가요?", f"SELECT AVG(salary) FROM employees WHERE dept = '{dept}';"
        rows.append({"id": f"r{k}", "db_id": "shop", "context": DDL, "question": q, "answer": a,
                     "db_path": "shop.sqlite"})
    return rows


def write_dataset(folder: Path, n_train: int = 24, n_dev: int = 6, extra: list[dict[str, Any]] | None = None) -> Path:
    """``folder`` with train.jsonl, dev.jsonl and shop.sqlite (20 employees)."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "shop.sqlite"
    if not db.exists():
        con = sqlite3.connect(db)
        con.execute(DDL)
        con.executemany("INSERT INTO employees VALUES (?,?,?,?)",
                        [(i, f"직원{i}", DEPTS[i % 4], 3000 + 100 * i) for i in range(20)])
        con.commit()
        con.close()
    rows = make_rows(n_train) + (extra or [])
    for name, part in (("train", rows), ("dev", make_rows(n_dev))):
        with (folder / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for r in part:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return folder


@pytest.fixture()
def tiny_data(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "data")


@pytest.fixture(scope="session")
def base_model_dir() -> str:
    """The default model's converted folder (kosql.models.resolve; converted once and cached)."""
    pytest.importorskip("torch")
    from kosql.models.resolve import resolve_model

    return resolve_model("smollm2-135m")
