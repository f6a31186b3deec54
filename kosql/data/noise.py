"""Make a "raw" copy of a clean dataset, with the kinds of noise real Text2SQL data has.

The seed compared training on ko_text2sql's raw rows with its cleaned subset. The bundled dataset
is clean by construction, so to reproduce that experiment kosql adds noise at a given rate:

- ``duplicate``: an exact copy of another row;
- ``near_duplicate``: the same row with its SQL re-cased / re-spaced;
- ``broken_sql``: the SQL cut off mid-statement (does not parse);
- ``unknown_column``: a column in the SQL renamed to one the DDL does not have;
- ``empty_question``: the question removed;
- ``wrong_answer``: the SQL of another question on the same schema (parses and runs, but answers
  something else: the noise that only a judge or a human catches, never ``kosql data clean``).

Deterministic for a given seed. Rows keep their ids; added rows get ``<id>-noise<n>`` ids and
``extra['noise']`` names the kind (also on modified rows).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import replace

from kosql.data.rows import Example

NOISE_KINDS: tuple[str, ...] = ("duplicate", "near_duplicate", "broken_sql", "unknown_column",
                                "empty_question", "wrong_answer")


def _renamed_column(sql: str, rng: random.Random) -> str | None:
    idents = [m for m in re.finditer(r"\b([a-z_][a-z0-9_]*)\b", sql) if "_" in m.group(1)]
    if not idents:
        return None
    m = rng.choice(idents)
    return sql[: m.start()] + m.group(1) + "_x" + sql[m.end():]


def add_noise(rows: Sequence[Example], rate: float = 0.25, seed: int = 0,
              kinds: Sequence[str] = NOISE_KINDS) -> list[Example]:
    """Return ``rows`` with about ``rate * len(rows)`` noisy rows added or substituted."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError("rate must be between 0 and 1")
    unknown = [k for k in kinds if k not in NOISE_KINDS]
    if unknown:
        raise ValueError(f"unknown noise kind(s) {unknown}; choose from {', '.join(NOISE_KINDS)}")
    rng = random.Random(seed)
    out = [replace(r, extra=dict(r.extra)) for r in rows]
    by_db: dict[str, list[int]] = {}
    for i, r in enumerate(out):
        by_db.setdefault(r.db_id, []).append(i)
    n_noise = int(round(rate * len(out)))
    targets = rng.sample(range(len(out)), min(n_noise, len(out))) if out else []
    added: list[Example] = []
    for n, i in enumerate(targets):
        kind = kinds[n % len(kinds)]
        row = out[i]
        if kind == "duplicate":
            added.append(replace(row, id=f"{row.id}-noise{n}", extra={**row.extra, "noise": kind}))
        elif kind == "near_duplicate":
            sql = re.sub(r"\s+", "  ", row.answer.upper() if "'" not in row.answer else row.answer)
            added.append(replace(row, id=f"{row.id}-noise{n}", answer=sql, extra={**row.extra, "noise": kind}))
        elif kind == "broken_sql":
            cut = max(6, len(row.answer) // 2)
            out[i] = replace(row, answer=row.answer[:cut].rstrip() + " WHERE (", extra={**row.extra, "noise": kind})
        elif kind == "unknown_column":
            renamed = _renamed_column(row.answer, rng)
            if renamed:
                out[i] = replace(row, answer=renamed, extra={**row.extra, "noise": kind})
        elif kind == "empty_question":
            out[i] = replace(row, question="", extra={**row.extra, "noise": kind})
        elif kind == "wrong_answer":
            others = [j for j in by_db.get(row.db_id, []) if out[j].answer != row.answer]
            if others:
                other = out[rng.choice(others)]
                out[i] = replace(row, answer=other.answer, extra={**row.extra, "noise": kind})
    return out + added
