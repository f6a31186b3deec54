"""Error analysis: where a model fails most (categories, features, hardness), with examples.

Works on the ``per_row.jsonl`` that ``kosql eval`` writes; a run folder (quickstart, sweep point,
``kosql eval --out``) is searched for its per-row files. The weakest feature tags are what
``kosql data synth --focus ...`` can generate more training data for.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kosql.data.rows import iter_jsonl
from kosql.errors import UserError
from kosql.pipeline.compare import Cell


@dataclass
class FeatureStat:
    """Accuracy of the rows carrying one feature tag (or one hardness level)."""

    name: str
    cell: Cell
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return self.cell.n - self.cell.k


@dataclass
class Analysis:
    source: Path
    n_rows: int
    categories: Counter[str]
    features: list[FeatureStat]
    hardness: list[FeatureStat]
    category_examples: dict[str, list[dict[str, Any]]]
    wording: list[FeatureStat] = field(default_factory=list)

    def weakest_features(self, n: int = 3, min_rows: int = 5) -> list[str]:
        """Feature tags with the lowest accuracy (at least ``min_rows`` rows, some failures)."""
        cands = [f for f in self.features if f.cell.n >= min_rows and f.failures > 0]
        cands.sort(key=lambda f: (f.cell.acc if f.cell.acc is not None else 1.0, -f.failures))
        return [f.name for f in cands[:n]]


def find_per_row_files(path: Path) -> list[Path]:
    """The per_row.jsonl files under ``path`` (or ``path`` itself when it is one)."""
    if path.is_file():
        return [path]
    if not path.exists():
        raise UserError(f"{path}: no such run folder or file.")
    files = sorted(path.rglob("per_row.jsonl"))
    if not files:
        raise UserError(f"{path}: has no per_row.jsonl (run `kosql eval --out DIR` first).")
    return files


def load_rows(path: Path) -> list[dict[str, Any]]:
    """The per-row results of one ``per_row.jsonl``."""
    return list(iter_jsonl(path))


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_LATIN_NAME = re.compile(r"(?<![A-Za-z0-9_])[a-z][a-z0-9]*(?:_[a-z0-9]+)*(?![A-Za-z0-9_])")
WORDING_LATIN = "names tables/columns in Latin letters"
WORDING_KOREAN = "Korean words only"


def question_wording(question: str) -> str:
    """Whether a question spells schema names in Latin letters ("지역구(district)", "passengers 테이블")
    or only in Korean, quoted values aside: the second needs the model to read Korean."""
    return WORDING_LATIN if _LATIN_NAME.search(_QUOTED.sub(" ", question)) else WORDING_KOREAN


def _example(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "question", "gold", "pred", "category", "error", "detail")
    return {k: row[k] for k in keys if k in row and row[k] not in (None, "")}


def analyze_rows(rows: list[dict[str, Any]], source: Path, *, n_examples: int = 3,
                 metric: str = "ex") -> Analysis:
    """Categories, per-feature and per-hardness accuracy, with failing examples."""
    categories: Counter[str] = Counter(str(r.get("category") or "unknown") for r in rows)
    by_feature: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_hardness: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_wording: dict[str, list[dict[str, Any]]] = defaultdict(list)
    cat_examples: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        feats = r.get("features") or []
        if isinstance(feats, str):
            feats = [f for f in feats.split(",") if f]
        for f in feats:
            by_feature[str(f)].append(r)
        if r.get("hardness"):
            by_hardness[str(r["hardness"])].append(r)
        if r.get("question"):
            by_wording[question_wording(str(r["question"]))].append(r)
        cat = str(r.get("category") or "unknown")
        if cat != "correct" and len(cat_examples[cat]) < n_examples:
            cat_examples[cat].append(_example(r))

    def stats(groups: dict[str, list[dict[str, Any]]]) -> list[FeatureStat]:
        out = []
        for name, grp in groups.items():
            scored = [g for g in grp if g.get(metric) is not None]
            c = Cell(k=sum(1 for g in scored if g.get(metric)), n=len(scored))
            fails = [_example(g) for g in scored if not g.get(metric)][:n_examples]
            out.append(FeatureStat(name=name, cell=c, examples=fails))
        out.sort(key=lambda s: (s.cell.acc if s.cell.acc is not None else 1.0, -s.failures))
        return out

    return Analysis(source=source, n_rows=len(rows), categories=categories,
                    features=stats(by_feature), hardness=stats(by_hardness),
                    category_examples=dict(cat_examples), wording=stats(by_wording))


def analysis_markdown(a: Analysis) -> str:
    lines = [f"# Error analysis: {a.source}", "", f"{a.n_rows} rows.", "", "## Categories", "",
             "| category | rows | share |", "|---|---:|---:|"]
    for cat, n in a.categories.most_common():
        lines.append(f"| {cat} | {n} | {100 * n / max(1, a.n_rows):.1f} % |")
    sections = [("Features (weakest first)", a.features), ("Hardness", a.hardness)]
    if a.wording:
        sections.append(("Question wording (schema names in Latin letters or Korean only)", a.wording))
    for title, stats in sections:
        lines += ["", f"## {title}", "", "| name | accuracy (95 % CI) | failures |", "|---|---|---:|"]
        for s in stats:
            lines.append(f"| {s.name} | {s.cell.text()} | {s.failures} |")
    lines += ["", "## Examples of failures", ""]
    for cat, exs in a.category_examples.items():
        lines.append(f"### {cat}")
        for ex in exs:
            lines.append("```json\n" + json.dumps(ex, ensure_ascii=False, indent=1) + "\n```")
    weak = a.weakest_features()
    if weak:
        lines += ["", "## Suggested targeted data", "",
                  f"`kosql data synth --focus {','.join(weak)} --out DIR`"]
    return "\n".join(lines) + "\n"
