"""The varied dataset (``bundled:varied``) and its mix with the bundled one (``bundled:mix``).

:func:`generate_varied` writes rows over a few hundred random schemas
(:func:`kosql.data.synth.anyschema.random_schema`, a quarter of them renamed copies of the one
before): each schema gets its SQLite file, its questions come from the templates run on the
schema as :mod:`kosql.data.synth.infer` reads it back from the database (the same path as a user's
own database), every gold SQL ran there with a non-degenerate result, and each SQL has 1-3 Korean
phrasings. A schema's rows share one context style: the whole schema, only the tables the question
needs, or those plus distractor tables that are not in the database. Train and dev are whole
schemas apart; ``test.jsonl`` is the bundled test set (``bundled:small``'s, unchanged, with its
databases), so every spec is scored on the same fixed rows.

:func:`generate_mix` interleaves the bundled ``small`` train rows with the varied ones (a seeded
shuffle); dev is both dev sets; varied rows that would repeat a bundled dev or test row are dropped.
:func:`varied_dataset` caches either under the kosql cache folder, like ``bundled_dataset``.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import sqlite3
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kosql.data.rows import Example, read_jsonl, write_jsonl
from kosql.data.schema import parse_schema
from kosql.data.synth.anyschema import (
    GSchema,
    GTable,
    build_sqlite,
    fill_rows,
    random_schema,
    renamed_copy,
    table_hints,
)
from kosql.data.synth.anyschema import _make_table as make_table
from kosql.data.synth.archetypes import all_archetypes
from kosql.data.synth.ddl_flavours import render_ddl
from kosql.data.synth.engine import EngineStats, Query, generate_queries
from kosql.data.synth.infer import build_view
from kosql.progress import ProgressBar

VARIED_VERSION = 1
VARIANTS: tuple[str, ...] = ("varied", "mix")
MARKER = ".complete"


@dataclass
class VariedSummary:
    out_dir: Path
    counts: dict[str, int]
    schemas: int
    seconds: float
    stats: dict[str, int] = field(default_factory=dict)


def _run(conn: sqlite3.Connection) -> Any:
    def execute(sql: str) -> list[tuple[Any, ...]] | None:
        steps = [0]

        def guard() -> int:
            steps[0] += 1
            return 1 if steps[0] > 2000 else 0

        conn.set_progress_handler(guard, 1000)
        try:
            return conn.execute(sql).fetchmany(10001)
        except sqlite3.Error:
            return None
        finally:
            conn.set_progress_handler(None, 0)

    return execute


def _with_distractors(gs: GSchema, rng: random.Random) -> GSchema:
    """A copy of ``gs`` (for rendering only) with 1-2 tables of other archetypes, not in the database."""
    archs = [a for a in all_archetypes().values() if a.key not in {t.arch for t in gs.tables} and not a.parents]
    extra: list[GTable] = []
    used = {t.name.lower() for t in gs.tables}
    for i, arch in enumerate(rng.sample(archs, rng.choice((1, 1, 2)))):
        t = make_table(arch, 100 + i, gs.style, rng, gs.style == "korean")
        if gs.spreadsheet:
            t.columns = [replace(c, type="TEXT") for c in t.columns[1:]]
        if t.name.lower() not in used:
            used.add(t.name.lower())
            extra.append(t)
    return replace(gs, tables=gs.tables + extra)


def _context_maker(gs: GSchema, rng: random.Random) -> Any:
    mode = rng.choices(("full", "needed", "distract"), weights=(40, 35, 25))[0]
    if mode == "full" or len(gs.tables) == 1 and mode == "needed":
        full = render_ddl(gs)
        return lambda q: full
    shown = _with_distractors(gs, rng) if mode == "distract" else gs
    extra = shown.tables[len(gs.tables):]
    order = {t.key: i for i, t in enumerate(shown.tables)}
    slots = {t.key: rng.random() for t in extra}

    def context(q: Query) -> str:
        tables = [t for t in gs.tables if t.name in q.tables] or gs.tables
        picked = sorted(tables + extra, key=lambda t: slots.get(t.key, order[t.key] / len(order)))
        return render_ddl(shown, picked)

    return context


def schema_rows(gs: GSchema, split: str, dbs: Path, rng: random.Random, *, queries: int,
                seed: int, stats: EngineStats) -> list[Example]:
    """Build ``gs``'s database under ``dbs`` and return its rows (every gold SQL executed)."""
    rows = fill_rows(gs, seed)
    path = dbs / f"{gs.db_id}.sqlite"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        build_sqlite(gs, rows, conn)
        schema = parse_schema(render_ddl(gs, comments=False))
        db_rows = {t: conn.execute(f'SELECT * FROM "{t}"').fetchall() for t in schema.tables}
        view = build_view(schema, db_rows, hints=gs.hints, table_hints=table_hints(gs), dialect=gs.dialect)
        made = generate_queries(view, _run(conn), rng=rng, want=queries, phrasings=rng.choice((1, 2, 2, 3)),
                                stats=stats, annotate=split != "train")
    finally:
        conn.close()
    context = _context_maker(gs, rng)
    out: list[Example] = []
    for q in made:
        ctx = context(q)
        for question in q.questions:
            out.append(Example(id=f"{gs.db_id}-{split}-{len(out):03d}", db_id=gs.db_id, context=ctx,
                               question=question, answer=q.sql + ";",
                               extra={"db_path": f"dbs/{gs.db_id}.sqlite", "split": split,
                                      "template": q.template, "flavour": gs.flavour,
                                      **({"hardness": q.hardness, "features": q.features}
                                         if split != "train" else {})}))
    return out


def generate_varied(out_dir: str | Path, *, seed: int = 0, schemas: int = 320, dev_schemas: int = 30,
                    queries: int = 8, progress: bool = False) -> VariedSummary:
    """Write train/dev/test JSONL and dbs/ of the varied dataset into ``out_dir`` (see the module)."""
    from kosql.data.synth.build import bundled_dataset

    start = time.perf_counter()
    out = Path(out_dir)
    dbs = out / "dbs"
    dbs.mkdir(parents=True, exist_ok=True)
    (out / MARKER).unlink(missing_ok=True)
    rng = random.Random(f"kosql-varied:{seed}")
    stats = EngineStats()
    split_rows: dict[str, list[Example]] = {"train": [], "dev": []}
    task = ProgressBar("generating schemas", schemas, enabled=progress)
    task.start()
    prev: GSchema | None = None
    for i in range(schemas):
        split = "dev" if i >= schemas - dev_schemas else "train"
        db_id = f"varied{seed}_{i:04d}"
        if prev is not None and rng.random() < 0.25 and (split == "train" or prev.db_id.endswith(f"{i - 1:04d}")):
            gs = renamed_copy(prev, rng, db_id)
        else:
            gs = random_schema(rng, db_id)
        if split == "dev" and i == schemas - dev_schemas:
            gs = random_schema(rng, db_id)  # the first dev schema is never a copy of a train one
        split_rows[split] += schema_rows(gs, split, dbs, rng, queries=queries, seed=seed, stats=stats)
        prev = gs
        task.advance()
    task.stop()
    small = Path(bundled_dataset("small", seed=seed))
    test = read_jsonl(small / "test.jsonl")
    _copy_dbs(small / "dbs", dbs, test)
    dev = _drop_leaks(split_rows["train"], split_rows["dev"])
    counts = {"train": write_jsonl(out / "train.jsonl", split_rows["train"]),
              "dev": write_jsonl(out / "dev.jsonl", dev), "test": write_jsonl(out / "test.jsonl", test)}
    summary = VariedSummary(out, counts, schemas, time.perf_counter() - start, stats.__dict__.copy())
    _write_marker(out, "varied", seed, counts)
    return summary


def _copy_dbs(src: Path, dst: Path, rows: list[Example]) -> None:
    for name in sorted({Path(str(r.extra.get("db_path", ""))).name for r in rows} - {""}):
        shutil.copyfile(src / name, dst / name)


def _sql_key(sql: str) -> str:
    return re.sub(r"\s+", " ", sql.strip().rstrip(";")).lower()


def _leak_ids(train: list[Example], rows: list[Example]) -> tuple[set[str], set[str]]:
    """Ids of ``rows`` that repeat a train row (same SQL up to spacing and case, question similarity
    at or above the split's leak threshold) and of the train rows they repeat."""
    from kosql.data.split import DEFAULT_LEAK_THRESHOLD, question_similarity

    by_sql: dict[str, list[Example]] = {}
    for ex in train:
        by_sql.setdefault(_sql_key(ex.answer), []).append(ex)
    bad_rows: set[str] = set()
    bad_train: set[str] = set()
    for ex in rows:
        for cand in by_sql.get(_sql_key(ex.answer), ()):
            if question_similarity(cand.question, ex.question) >= DEFAULT_LEAK_THRESHOLD:
                bad_rows.add(ex.id)
                bad_train.add(cand.id)
    return bad_rows, bad_train


def _drop_leaks(train: list[Example], rows: list[Example]) -> list[Example]:
    """``rows`` without those that repeat a train row (same SQL, near-same question)."""
    bad = _leak_ids(train, rows)[0]
    return [r for r in rows if r.id not in bad]


def _write_marker(out: Path, kind: str, seed: int, counts: dict[str, int]) -> None:
    (out / MARKER).write_text(json.dumps({"kind": kind, "version": VARIED_VERSION, "seed": seed,
                                          "counts": counts}, sort_keys=True) + "\n", encoding="utf-8")


def generate_mix(out_dir: str | Path, varied_dir: str | Path, *, seed: int = 0) -> dict[str, int]:
    """``bundled:small`` train + varied train (interleaved by a seeded shuffle), both dev sets, the
    bundled test; varied rows repeating a bundled dev/test row are dropped."""
    from kosql.data.synth.build import bundled_dataset

    out = Path(out_dir)
    (out / "dbs").mkdir(parents=True, exist_ok=True)
    (out / MARKER).unlink(missing_ok=True)
    small, varied = Path(bundled_dataset("small", seed=seed)), Path(varied_dir)
    s_train, s_dev, test = (read_jsonl(small / f"{n}.jsonl") for n in ("train", "dev", "test"))
    v_train, v_dev = read_jsonl(varied / "train.jsonl"), read_jsonl(varied / "dev.jsonl")
    held = s_dev + test
    leaked = _leak_ids(v_train, held)[1]
    v_train = [r for r in v_train if r.id not in leaked]
    train = s_train + v_train
    random.Random(f"kosql-mix:{seed}").shuffle(train)
    dev = s_dev + _drop_leaks(s_train, v_dev)
    for folder, rows in ((small, s_train + s_dev + test), (varied, v_train + v_dev)):
        _copy_dbs(folder / "dbs", out / "dbs", rows)
    counts = {"train": write_jsonl(out / "train.jsonl", train), "dev": write_jsonl(out / "dev.jsonl", dev),
              "test": write_jsonl(out / "test.jsonl", test)}
    _write_marker(out, "mix", seed, counts)
    return counts


def varied_dataset(kind: str = "varied", seed: int = 0) -> Path:
    """The cached ``bundled:varied`` or ``bundled:mix`` folder, generated on first use."""
    from kosql.data.synth.build import _cache_root, generator_fingerprint

    if kind not in VARIANTS:
        raise ValueError(f"unknown variant {kind!r}")
    folder = _cache_root() / f"synth-{kind}-seed{seed}-v{VARIED_VERSION}-{generator_fingerprint()}"
    if (folder / MARKER).exists():
        return folder
    source = varied_dataset("varied", seed) if kind == "mix" else None
    tmp = folder.with_name(folder.name + f".tmp{random.SystemRandom().randrange(1 << 30)}")
    if source is None:
        generate_varied(tmp, seed=seed)
    else:
        generate_mix(tmp, source, seed=seed)
    if folder.exists():
        if (folder / MARKER).exists():
            shutil.rmtree(tmp, ignore_errors=True)
            return folder
        shutil.rmtree(folder)
    tmp.rename(folder)
    return folder
