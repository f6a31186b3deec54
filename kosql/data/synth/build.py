"""Write the bundled dataset: JSONL splits, SQLite files and stats.md; the cached bundled copy."""

from __future__ import annotations

import functools
import hashlib
import json
import random
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kosql.data.rows import Example, write_jsonl
from kosql.data.synth.catalog2 import DOMAINS, HELDOUT_DOMAINS
from kosql.data.synth.domains import Domain, display_ddl
from kosql.data.synth.generate import TEMPLATES, Candidate, Claimed, Quota, build_database, generate_domain
from kosql.data.synth.values import fill_domain
from kosql.errors import UserError
from kosql.progress import ProgressBar
from kosql.sql.features import FEATURES, HARDNESS_LEVELS

GENERATOR_VERSION = 2
MARKER = ".complete"

# size -> (train rows per training domain, dev per training domain, in-domain test per training
#          domain, rows per held-out domain)
SIZES: dict[str, tuple[int, int, int, int]] = {
    "small": (160, 8, 12, 100),
    "full": (1650, 20, 26, 300),
}
FOCUS_TAGS: tuple[str, ...] = FEATURES


@dataclass
class SynthSummary:
    """What :func:`generate_dataset` wrote."""

    out_dir: Path
    seed: int
    size: str
    per_domain: int
    focus: tuple[str, ...]
    counts: dict[str, int]  # split -> rows (train, dev, in_domain, heldout_domain)
    domains: list[str]
    heldout_domains: list[str]
    empty_share: float
    seconds: float
    files: list[Path] = field(default_factory=list)


def parse_focus(focus: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Validate focus tags ('having,join'); an unknown tag is a UserError listing the valid ones."""
    if not focus:
        return ()
    items = focus.split(",") if isinstance(focus, str) else list(focus)
    tags = tuple(dict.fromkeys(t.strip() for t in items if t.strip()))
    bad = [t for t in tags if t not in FOCUS_TAGS]
    if bad:
        raise UserError(f"--focus: unknown feature tag {bad[0]!r}; valid tags are {', '.join(FOCUS_TAGS)}.")
    return tags


def _row(domain: Domain, ddl: str, cand: Candidate, idx: int) -> Example:
    return Example(
        id=f"{domain.db_id}-{cand.split}-{idx:05d}", db_id=domain.db_id, context=ddl,
        question=cand.question, answer=cand.sql,
        extra={"db_path": f"dbs/{domain.db_id}.sqlite", "hardness": cand.hardness,
               "features": cand.features, "split": cand.split},
    )


def generate_dataset(out_dir: str | Path, *, seed: int = 0, per_domain: int | None = None,
                     size: str = "full", focus: str | list[str] | tuple[str, ...] | None = None,
                     progress: bool = False, comments: bool = False) -> SynthSummary:
    """Generate the dataset into ``out_dir`` (train/dev/test JSONL, dbs/, stats.md).

    ``comments``: every column and table of the ``context`` DDL carries its Korean name as a MySQL
    ``COMMENT`` (questions, SQL and databases are the same as without).
    """
    if size not in SIZES:
        raise UserError(f"--size must be one of {', '.join(SIZES)}, not {size!r}.")
    if per_domain is not None and per_domain < 1:
        raise UserError("--per-domain must be a positive number of rows.")
    tags = parse_focus(focus)
    n_train, n_dev, n_test, n_held = SIZES[size]
    if per_domain is not None:
        scale = per_domain / n_train
        n_train = per_domain
        n_dev, n_test, n_held = (max(1, round(x * scale)) for x in (n_dev, n_test, n_held))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).unlink(missing_ok=True)
    start = time.perf_counter()
    by_split: dict[str, list[Example]] = {"train": [], "dev": [], "in_domain": [], "heldout_domain": []}
    stats_rows: list[tuple[Domain, Candidate]] = []
    db_rows: dict[str, dict[str, int]] = {}
    claimed: Claimed = {}  # normalized SQL -> [(split, question)], across domains
    task = ProgressBar("generating domains", len(DOMAINS), enabled=progress)
    task.start()
    for domain in DOMAINS:
        held = domain.db_id in HELDOUT_DOMAINS
        quota = (Quota(heldout_domain=n_held) if held else
                 Quota(train=n_train, dev=n_dev, in_domain=n_test,
                       focus=max(20, n_train // 2) if tags else 0))
        rows = fill_domain(domain, seed)
        db_rows[domain.db_id] = {t: len(r) for t, r in rows.items()}
        conn = build_database(domain, rows, out / "dbs" / f"{domain.db_id}.sqlite")
        try:
            result = generate_domain(domain, rows, conn, quota, seed=seed, focus=frozenset(tags),
                                     claimed=claimed)
        finally:
            conn.close()
        ddl = display_ddl(domain, comments=comments)
        for i, cand in enumerate(result.rows):
            by_split[cand.split].append(_row(domain, ddl, cand, i))
            stats_rows.append((domain, cand))
        task.advance(description=f"generated {domain.db_id}")
    task.stop()
    for name, rows_ in by_split.items():  # one RNG per split: --focus never reorders dev/test
        random.Random(f"kosql-synth-shuffle:{seed}:{name}").shuffle(rows_)
    test = by_split["heldout_domain"] + by_split["in_domain"]
    random.Random(f"kosql-synth-shuffle:{seed}:test").shuffle(test)
    check_no_leaks(by_split["train"], by_split["dev"], test)
    files = [out / "train.jsonl", out / "dev.jsonl", out / "test.jsonl"]
    write_jsonl(files[0], by_split["train"])
    write_jsonl(files[1], by_split["dev"])
    write_jsonl(files[2], test)
    counts = {k: len(v) for k, v in by_split.items()}
    n_empty = sum(c.empty for _, c in stats_rows)
    summary = SynthSummary(
        out_dir=out, seed=seed, size=size, per_domain=n_train, focus=tags, counts=counts,
        domains=[d.db_id for d in DOMAINS], heldout_domains=list(HELDOUT_DOMAINS),
        empty_share=n_empty / max(1, len(stats_rows)), seconds=time.perf_counter() - start,
        files=files + [out / "dbs" / f"{d.db_id}.sqlite" for d in DOMAINS] + [out / "stats.md"],
    )
    (out / "stats.md").write_text(render_stats(summary, stats_rows, db_rows), encoding="utf-8")
    (out / MARKER).write_text(json.dumps({"version": GENERATOR_VERSION, "seed": seed, "size": size,
                                          "comments": comments, "counts": counts}, sort_keys=True) + "\n", encoding="utf-8")
    return summary


def _pct(n: int, total: int) -> str:
    return f"{100.0 * n / total:.1f} %" if total else "-"


def render_stats(summary: SynthSummary, rows: list[tuple[Domain, Candidate]],
                 db_rows: dict[str, dict[str, int]]) -> str:
    """The human-readable description of the generated dataset (stats.md)."""
    splits = ("train", "dev", "in_domain", "heldout_domain")
    lines = ["# kosql bundled Korean Text2SQL dataset", "",
             f"Generator v{GENERATOR_VERSION}, seed {summary.seed}, size `{summary.size}`, "
             f"{summary.per_domain} train rows per training domain"
             + (f", focus on {', '.join(summary.focus)}" if summary.focus else "") + ".", "",
             "Files: `train.jsonl`, `dev.jsonl`, `test.jsonl` (split = `in_domain` or `heldout_domain`), "
             "`dbs/<db_id>.sqlite`. Every gold SQL was executed on its database; rows with an empty "
             f"result make up {summary.empty_share * 100:.1f} % (cap {3} %). Duplicates (normalized SQL + "
             "question) are removed and every distinct SQL belongs to one split only, so in-domain test "
             "questions and SQL never appear in train.", "",
             "## Rows per split", "", "| split | rows |", "|---|---:|"]
    lines += [f"| {s} | {summary.counts.get(s, 0)} |" for s in splits]
    lines += ["", "## Domains", "", "| db_id | domain | role | tables (rows) | questions |", "|---|---|---|---|---:|"]
    per_domain = Counter(d.db_id for d, _ in rows)
    for d in DOMAINS:
        role = "held out (test only)" if d.db_id in summary.heldout_domains else "train / dev / in-domain test"
        tables = ", ".join(f"{t.name} ({db_rows[d.db_id][t.name]})" for t in d.tables)
        lines.append(f"| {d.db_id} | {d.ko} | {role} | {tables} | {per_domain[d.db_id]} |")
    lines += ["", "## Features (share of rows per split)", "",
              "| feature | " + " | ".join(splits) + " |", "|---|" + "---:|" * len(splits)]
    totals = Counter(c.split for _, c in rows)
    feats = {s: Counter(f for _, c in rows if c.split == s for f in c.features) for s in splits}
    for f in FEATURES:
        lines.append(f"| {f} | " + " | ".join(_pct(feats[s][f], totals[s]) for s in splits) + " |")
    lines += ["", "## Hardness (Spider)", "", "| hardness | " + " | ".join(splits) + " |",
              "|---|" + "---:|" * len(splits)]
    hard = {s: Counter(c.hardness for _, c in rows if c.split == s) for s in splits}
    for h in HARDNESS_LEVELS:
        lines.append(f"| {h} | " + " | ".join(_pct(hard[s][h], totals[s]) for s in splits) + " |")
    lines += ["", "## Templates", "", "| template | rows | can produce |", "|---|---:|---|"]
    tcount = Counter(c.template for _, c in rows)
    for t in TEMPLATES:
        lines.append(f"| {t.name} | {tcount[t.name]} | {', '.join(sorted(t.tags))} |")
    lines += ["", "## Examples", ""]
    shown: set[str] = set()
    for d, c in rows:
        if c.template not in shown and c.split == "train":
            shown.add(c.template)
            lines.append(f"- `{d.db_id}` {c.question}  \n  `{c.sql}`")
    return "\n".join(lines) + "\n"


def check_no_leaks(train: list[Example], dev: list[Example], test: list[Example]) -> None:
    """Refuse a dataset where a dev or test row repeats a train row (the split's leak check,
    :func:`kosql.data.split.find_leaks`: same normalized SQL and a near-same question; 0 allowed)."""
    from kosql.data.split import find_leaks

    for name, rows in (("dev", dev), ("test", test)):
        leaks, _ = find_leaks(train, rows)
        if leaks:
            first = leaks[0]
            raise RuntimeError(f"the generated {name} split has {len(leaks)} rows that repeat train rows "
                               f"(first: {first.test_id} = {first.train_id}); the generator must not do that")


def _cache_root() -> Path:
    from kosql.cache import cache_root

    return cache_root() / "datasets"


@functools.lru_cache(maxsize=1)
def generator_fingerprint() -> str:
    """A short hash of the generator's source files: a changed generator never reuses a cached dataset."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode("utf-8") + b"\0" + path.read_bytes())
    return h.hexdigest()[:8]


def bundled_dataset(size: str = "small", seed: int = 0, comments: bool = False) -> Path:
    """The bundled dataset folder in the user cache, generated on first use (a few seconds for small).

    ``comments`` (spec ``bundled:<size>+comments``): the same rows with Korean column/table COMMENTs
    in the DDL (:func:`generate_dataset`).

    The folder name holds the generator version and :func:`generator_fingerprint`, so an upgraded
    kosql regenerates the data instead of reusing an older build.
    """
    if size not in SIZES:
        raise UserError(f"bundled dataset size must be one of {', '.join(SIZES)}, not {size!r}.")
    folder = _cache_root() / (f"synth-{size}-seed{seed}-v{GENERATOR_VERSION}-{generator_fingerprint()}"
                              + ("-comments" if comments else ""))
    if (folder / MARKER).exists():
        return folder
    tmp = folder.with_name(folder.name + f".tmp{random.SystemRandom().randrange(1 << 30)}")
    generate_dataset(tmp, seed=seed, size=size, comments=comments)
    if folder.exists():
        if (folder / MARKER).exists():  # another process finished first
            shutil.rmtree(tmp, ignore_errors=True)
            return folder
        shutil.rmtree(folder)
    tmp.rename(folder)
    return folder


def summary_dict(summary: SynthSummary) -> dict[str, Any]:
    return {"out_dir": str(summary.out_dir), "seed": summary.seed, "size": summary.size,
            "counts": summary.counts, "empty_share": summary.empty_share, "seconds": summary.seconds}
