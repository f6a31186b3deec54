"""Per-domain generation: build the SQLite database, instantiate templates, execute, split.

Rows of a training domain are routed by their normalized SQL: every distinct SQL belongs to exactly
one of train / dev / in_domain, so an in-domain test row's SQL (and question) never appears in
train. Every row of a held-out domain is ``heldout_domain``.
"""

from __future__ import annotations

import random
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kosql.data.synth.context import Gen
from kosql.data.synth.domains import Domain, sqlite_ddl
from kosql.data.synth.templates import SINGLE_TEMPLATES, Template
from kosql.data.synth.templates_multi import MULTI_TEMPLATES
from kosql.data.synth.values import Rows
from kosql.sql.features import sql_features, sql_hardness

TEMPLATES: tuple[Template, ...] = SINGLE_TEMPLATES + MULTI_TEMPLATES
EMPTY_SHARE_CAP = 0.03  # at most this share of a domain's rows may have an empty gold result


@dataclass
class Quota:
    train: int = 0
    dev: int = 0
    in_domain: int = 0
    heldout_domain: int = 0
    focus: int = 0  # extra train rows from templates carrying the focus tags

    def total(self) -> int:
        return self.train + self.dev + self.in_domain + self.heldout_domain


@dataclass
class Candidate:
    question: str
    sql: str
    template: str
    split: str
    features: list[str]
    hardness: str
    empty: bool


@dataclass
class DomainResult:
    rows: list[Candidate] = field(default_factory=list)
    attempts: int = 0
    rejected_empty: int = 0
    rejected_dup: int = 0
    rejected_error: int = 0


def build_database(domain: Domain, rows: Rows, path: Path) -> sqlite3.Connection:
    """Write the domain's SQLite file deterministically; return an in-memory copy for querying."""
    conn = sqlite3.connect(":memory:")
    for stmt in sqlite_ddl(domain):
        conn.execute(stmt)
    for table in domain.tables:
        marks = ", ".join("?" for _ in table.columns)
        conn.executemany(f"INSERT INTO {table.name} VALUES ({marks})", rows[table.name])
    conn.commit()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    conn.execute("VACUUM INTO ?", (str(path),))
    return conn


def normalize_sql(sql: str) -> str:
    return re.sub(r"\s+", " ", sql.strip().rstrip(";")).lower()


def _run(conn: sqlite3.Connection, sql: str) -> list[tuple[Any, ...]] | None:
    steps = [0]

    def guard() -> int:
        steps[0] += 1
        return 1 if steps[0] > 2000 else 0  # ~2M VM instructions: stop runaway queries

    conn.set_progress_handler(guard, 1000)
    try:
        return conn.execute(sql).fetchmany(10001)
    except sqlite3.Error:
        return None
    finally:
        conn.set_progress_handler(None, 0)


def _is_empty(result: list[tuple[Any, ...]]) -> bool:
    return not result or all(v is None for row in result for v in row)


def generate_domain(domain: Domain, rows: Rows, conn: sqlite3.Connection, quota: Quota, *,
                    seed: int, focus: frozenset[str] = frozenset()) -> DomainResult:
    """Instantiate templates until the quota of every split is met (or attempts run out)."""
    rng = random.Random(f"kosql-synth-questions:{seed}:{domain.db_id}")
    g = Gen(domain=domain, rows=rows, rng=rng)
    out = DomainResult()
    left = {"train": quota.train, "dev": quota.dev, "in_domain": quota.in_domain,
            "heldout_domain": quota.heldout_domain}
    sql_split: dict[str, str] = {}
    question_split: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    empty_cap = int(EMPTY_SHARE_CAP * quota.total())
    n_empty = 0
    weights = [t.weight for t in TEMPLATES]
    total = quota.total()
    p_test = quota.in_domain / total * 2 if total else 0.0
    p_dev = quota.dev / total * 2 if total else 0.0
    max_attempts = 40 * total + 200

    def accept(tpl: Template, split_hint: str | None, need: frozenset[str]) -> bool:
        nonlocal n_empty
        g.new_mode()
        made = tpl.fn(g)
        if made is None:
            return False
        question, sql = made
        norm = normalize_sql(sql)
        if (norm, question) in seen:
            out.rejected_dup += 1
            return False
        split = sql_split.get(norm) or question_split.get(question)
        if split is None:
            if split_hint is not None:
                split = split_hint
            elif left["heldout_domain"] > 0:
                split = "heldout_domain"
            elif left["in_domain"] > 0 and rng.random() < p_test:
                split = "in_domain"
            elif left["dev"] > 0 and rng.random() < p_dev:
                split = "dev"
            else:
                split = "train"
        if split_hint is not None and split != split_hint:
            return False
        if question_split.get(question, split) != split or sql_split.get(norm, split) != split:
            return False
        if left[split] <= 0 and split_hint is None:
            return False
        features = sql_features(sql)
        if need and not need.intersection(features):
            return False
        result = _run(conn, sql)
        if result is None:
            out.rejected_error += 1
            return False
        empty = _is_empty(result)
        if empty:
            if n_empty >= empty_cap:
                out.rejected_empty += 1
                return False
            n_empty += 1
        seen.add((norm, question))
        sql_split[norm] = split
        question_split[question] = split
        if split_hint is None:
            left[split] -= 1
        out.rows.append(Candidate(question, sql + ";", tpl.name, split, features, sql_hardness(sql), empty))
        return True

    while any(v > 0 for v in left.values()) and out.attempts < max_attempts:
        out.attempts += 1
        accept(rng.choices(TEMPLATES, weights=weights, k=1)[0], None, frozenset())
    if focus and quota.focus:
        focus_templates = [t for t in TEMPLATES if t.tags & focus]
        fweights = [t.weight for t in focus_templates]
        added, tries = 0, 0
        while added < quota.focus and tries < 60 * quota.focus:
            tries += 1
            if accept(rng.choices(focus_templates, weights=fweights, k=1)[0], "train", focus):
                added += 1
        out.attempts += tries
    return out


def template_counts(rows: list[Candidate]) -> Counter[str]:
    return Counter(r.template for r in rows)
