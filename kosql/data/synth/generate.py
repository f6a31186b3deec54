"""Per-domain generation: build the SQLite database, instantiate templates, execute, split.

Rows of a training domain are routed by their normalized SQL: every distinct SQL belongs to exactly
one of train / dev / in_domain, so an in-domain test row's SQL (and question) never appears in
train. Every row of a held-out domain is ``heldout_domain``. Across domains (``claimed``, shared by
every domain of a dataset), a row is rejected when another domain put the same SQL with a near-same
question (the split's leak check, :func:`kosql.data.split.question_similarity`) into another split:
domains with the same table and column names (``customers.city`` in shop and bank) would otherwise
put a copy of a train row into dev or test.
"""

from __future__ import annotations

import random
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kosql.data.split import DEFAULT_LEAK_THRESHOLD, question_similarity
from kosql.data.synth.context import Gen
from kosql.data.synth.domains import Domain, sqlite_ddl
from kosql.data.synth.templates import SINGLE_TEMPLATES, Template
from kosql.data.synth.templates_multi import MULTI_TEMPLATES
from kosql.data.synth.values import Rows
from kosql.sql.features import sql_features, sql_hardness

TEMPLATES: tuple[Template, ...] = SINGLE_TEMPLATES + MULTI_TEMPLATES
Claimed = dict[str, list[tuple[str, str]]]  # normalized SQL -> (split, question) of earlier domains
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
                    seed: int, focus: frozenset[str] = frozenset(),
                    claimed: Claimed | None = None) -> DomainResult:
    """Instantiate templates until the quota of every split is met (or attempts run out).

    ``claimed`` (normalized SQL -> [(split, question)]) holds the rows of the domains generated
    before; a row that would repeat one of them in another split is rejected, new rows are added.
    """
    rng = random.Random(f"kosql-synth-questions:{seed}:{domain.db_id}")
    router = _Router(quota, rng, conn, Gen(domain=domain, rows=rows, rng=rng),
                     {} if claimed is None else claimed)
    weights = [t.weight for t in TEMPLATES]
    max_attempts = 40 * quota.total() + 200
    while router.wanted() and router.out.attempts < max_attempts:
        router.out.attempts += 1
        router.accept(rng.choices(TEMPLATES, weights=weights, k=1)[0], None, frozenset())
    if focus and quota.focus:
        _add_focus_rows(router, rng, focus, quota.focus)
    return router.out


def _add_focus_rows(router: _Router, rng: random.Random, focus: frozenset[str], wanted: int) -> None:
    """Extra train rows from the templates tagged with a focus feature, whose SQL has one."""
    focus_templates = [t for t in TEMPLATES if t.tags & focus]
    fweights = [t.weight for t in focus_templates]
    added, tries = 0, 0
    while added < wanted and tries < 60 * wanted:
        tries += 1
        if router.accept(rng.choices(focus_templates, weights=fweights, k=1)[0], "train", focus):
            added += 1
    router.out.attempts += tries


class _Router:
    """Accepts or rejects template instances for one domain and routes each to a split: one SQL (and
    one question) belongs to one split only, held-out domains fill ``heldout_domain``, and at most
    ``EMPTY_SHARE_CAP`` of the rows may have an empty result."""

    def __init__(self, quota: Quota, rng: random.Random, conn: sqlite3.Connection, gen: Gen,
                 claimed: Claimed) -> None:
        self.rng, self.conn, self.gen, self.claimed = rng, conn, gen, claimed
        self.out = DomainResult()
        self.left = {"train": quota.train, "dev": quota.dev, "in_domain": quota.in_domain,
                     "heldout_domain": quota.heldout_domain}
        self.sql_split: dict[str, str] = {}
        self.question_split: dict[str, str] = {}
        self.seen: set[tuple[str, str]] = set()
        total = quota.total()
        self.empty_cap = int(EMPTY_SHARE_CAP * total)
        self.n_empty = 0
        self.p_test = quota.in_domain / total * 2 if total else 0.0
        self.p_dev = quota.dev / total * 2 if total else 0.0

    def wanted(self) -> bool:
        return any(v > 0 for v in self.left.values())

    def accept(self, tpl: Template, split_hint: str | None, need: frozenset[str]) -> bool:
        """Instantiate ``tpl`` once; keep the row when it is new, fits a split and executes."""
        self.gen.new_mode()
        made = tpl.fn(self.gen)
        if made is None:
            return False
        question, sql = made
        norm = normalize_sql(sql)
        if (norm, question) in self.seen:
            self.out.rejected_dup += 1
            return False
        split = self._split(norm, question, split_hint)
        if split is None:
            return False
        if self._leaks(norm, question, split):
            self.out.rejected_dup += 1
            return False
        features = sql_features(sql)
        if need and not need.intersection(features):
            return False
        empty = self._executes(sql)
        if empty is None:
            return False
        self.seen.add((norm, question))
        self.sql_split[norm] = split
        self.claimed.setdefault(norm, []).append((split, question))
        self.question_split[question] = split
        if split_hint is None:
            self.left[split] -= 1
        self.out.rows.append(Candidate(question, sql + ";", tpl.name, split, features, sql_hardness(sql), empty))
        return True

    def _split(self, norm: str, question: str, split_hint: str | None) -> str | None:
        """The split of a new row, or None when it cannot go where it would have to."""
        split = self.sql_split.get(norm) or self.question_split.get(question)
        if split is None:
            if split_hint is not None:
                split = split_hint
            elif self.left["heldout_domain"] > 0:
                split = "heldout_domain"
            elif self.left["in_domain"] > 0 and self.rng.random() < self.p_test:
                split = "in_domain"
            elif self.left["dev"] > 0 and self.rng.random() < self.p_dev:
                split = "dev"
            else:
                split = "train"
        if split_hint is not None and split != split_hint:
            return None
        if self.question_split.get(question, split) != split or self.sql_split.get(norm, split) != split:
            return None
        if self.left[split] <= 0 and split_hint is None:
            return None
        return split

    def _leaks(self, norm: str, question: str, split: str) -> bool:
        """Whether another split already has this SQL with a near-same question (another domain)."""
        return any(s != split and question_similarity(q, question) >= DEFAULT_LEAK_THRESHOLD
                   for s, q in self.claimed.get(norm, ()))

    def _executes(self, sql: str) -> bool | None:
        """Whether the SQL's result is empty; None when it fails or the empty-result cap is reached."""
        result = _run(self.conn, sql)
        if result is None:
            self.out.rejected_error += 1
            return None
        empty = _is_empty(result)
        if empty:
            if self.n_empty >= self.empty_cap:
                self.out.rejected_empty += 1
                return None
            self.n_empty += 1
        return empty


def template_counts(rows: list[Candidate]) -> Counter[str]:
    return Counter(r.template for r in rows)
