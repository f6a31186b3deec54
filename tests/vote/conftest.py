"""Fixtures of the vote tests: a small orders database and a backend scripted per decoding mode."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kosql.models.base import Generation, GenerationParams

DDL = ("CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, name TEXT, city TEXT);\n"
       "CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER, ordered_at TEXT, amount INTEGER, "
       "FOREIGN KEY (customer_id) REFERENCES customers(customer_id));")
ORDERS = [(1, 1, "2023-05-01 10:00:00", 100), (2, 2, "2023-11-20 09:30:00", 250), (3, 1, "2024-01-03 12:00:00", 80),
          (4, 3, "2024-02-14 18:45:00", 300), (5, 2, "2024-07-09 08:15:00", 120)]
FOLLOWUP_MARK = "(참고:"  # how kosql.prompts.FOLLOWUP_NOTE starts


def make_db(path: Path) -> Path:
    with sqlite3.connect(path) as con:
        con.executescript(DDL)
        con.executemany("INSERT INTO customers VALUES (?, ?, ?)", [(1, "김민수", "서울"), (2, "이영희", "부산"),
                                                                   (3, "박지훈", "서울")])
        con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", ORDERS)
    return path


@pytest.fixture
def orders_db(tmp_path: Path) -> Path:
    return make_db(tmp_path / "shop.sqlite")


@pytest.fixture
def orders_data(orders_db: Path) -> Path:
    """A two-row dataset on the orders database (gold: orders of 2024)."""
    path = orders_db.parent / "test.jsonl"
    rows = [{"id": f"q{i}", "db_id": "shop", "context": DDL, "question": "2024년에 주문된 건수는?",
             "answer": "SELECT count(*) FROM orders WHERE ordered_at LIKE '2024%'", "db_path": str(orders_db)}
            for i in range(2)]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@dataclass
class ScriptedBackend:
    """Greedy prompts get ``greedy`` (``followup`` for a retry prompt); sampled ones get ``samples`` in
    turn by seed, ``num_return_sequences`` of them per prompt."""

    greedy: str
    samples: list[str] = field(default_factory=list)
    followup: str | None = None
    name: str = "scripted"
    seen: list[str] = field(default_factory=list)
    sample_calls: int = 0

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        out: list[Generation] = []
        for prompt in prompts:
            self.seen.append(prompt)
            if params.greedy:
                text = self.followup if self.followup is not None and FOLLOWUP_MARK in prompt else self.greedy
                out.append(Generation(text, completion_tokens=len(text.split())))
                continue
            self.sample_calls += 1
            for j in range(params.num_return_sequences):
                text = self.samples[(params.seed - 1 + j) % len(self.samples)]
                out.append(Generation(text, completion_tokens=len(text.split())))
        return out

    def retries(self) -> list[str]:
        return [p for p in self.seen if FOLLOWUP_MARK in p]


@pytest.fixture
def scripted() -> type[ScriptedBackend]:
    """The scripted backend class (tests build one per case)."""
    return ScriptedBackend
