"""Pick the tables a question needs when the whole schema is too big for the prompt (pure).

Each table is scored by how much of the question's character n-grams (2- and 3-grams, which match
Korean words without a tokenizer: "가입한 고객" shares "고객" with the comment '고객') its name,
column names and comments cover. The best tables are kept in score order while the DDL stays under
the token budget; then foreign-key neighbours of the kept tables (a join table, the table a key
points to) are added while the budget allows. The result keeps the schema's table order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from kosql.data.schema import Schema, Table

_SPLIT = re.compile(r"[\s_\-.,()'\"?!:;]+")


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate: ~4 ASCII characters per token, one token per other character."""
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    return ascii_chars // 4 + (len(text) - ascii_chars)


def ngrams(text: str, sizes: tuple[int, ...] = (2, 3)) -> set[str]:
    """Character n-grams of each word of ``text`` (lower case); a one-letter word is its own gram."""
    out: set[str] = set()
    for word in _SPLIT.split(text.lower()):
        if not word:
            continue
        if len(word) < min(sizes):
            out.add(word)
        for n in sizes:
            out.update(word[i:i + n] for i in range(len(word) - n + 1))
    return out


def _term_score(term: str, question: set[str]) -> float:
    grams = ngrams(term)
    if not grams:
        return 0.0
    return len(grams & question) / len(grams)


def table_score(table: Table, question: str | set[str]) -> float:
    """How well ``table`` matches the question: table-level terms weigh 2, the best three columns 1."""
    q = ngrams(question) if isinstance(question, str) else question
    table_terms = [table.name, table.name.replace("_", " ")] + ([table.comment] if table.comment else [])
    best_table = max(_term_score(t, q) for t in table_terms)
    cols = sorted((max(_term_score(c.name, q), _term_score(c.comment, q) if c.comment else 0.0)
                   for c in table.columns), reverse=True)
    return 2.0 * best_table + sum(cols[:3])


@dataclass
class Selection:
    tables: list[str]  # kept, in schema order
    scores: dict[str, float]
    tokens: int
    all_tables: bool  # the whole schema fit


def _neighbours(schema: Schema, name: str) -> list[str]:
    table = schema.tables[name]
    out = [fk.ref_table for fk in table.foreign_keys]
    out += [t.name for t in schema.tables.values() if any(fk.ref_table == name for fk in t.foreign_keys)]
    return [n for n in dict.fromkeys(out) if n in schema.tables and n != name]


def select_tables(schema: Schema, question: str, render: Callable[[list[str]], str], *,
                  budget: int, count_tokens: Callable[[str], int] = estimate_tokens,
                  min_share: float = 0.35) -> Selection:
    """Tables for ``question`` whose DDL (``render(names)``) stays within ``budget`` tokens.

    Tables scoring below ``min_share`` of the best score are kept only as FK neighbours.
    """
    names = list(schema.tables)
    whole = count_tokens(render(names))
    q = ngrams(question)
    scores = {n: table_score(schema.tables[n], q) for n in names}
    if whole <= budget:
        return Selection(names, scores, whole, True)
    ranked = sorted(names, key=lambda n: (-scores[n], names.index(n)))
    top = scores[ranked[0]] if ranked else 0.0
    size = {n: count_tokens(render([n])) for n in names}
    kept: list[str] = []
    used = 0
    for n in ranked:
        if kept and scores[n] < min_share * top:
            break
        if used + size[n] <= budget or not kept:
            kept.append(n)
            used += size[n]
    for n in list(kept):
        for nb in sorted(_neighbours(schema, n), key=lambda x: -scores[x]):
            if nb not in kept and used + size[nb] <= budget and scores[nb] > 0:
                kept.append(nb)
                used += size[nb]
    ordered = [n for n in names if n in kept]
    return Selection(ordered, scores, count_tokens(render(ordered)), False)
