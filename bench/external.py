"""Score a model on Korean evaluation sets that nobody trains on, with one command.

Sets (each generated with kosql's own generation code and scored by execution, EX):

* ``handwritten`` (always): the hand-written dev set of ``kosql/evalsets/handwritten/`` (138 questions on
  six databases that are not bundled domains); its databases are built once into kosql's cache.
* ``kowikisql-dev`` with ``--kowikisql FILE``: the rows of a KoWikiSQL ``ko_text2sql_format.jsonl``
  whose ``split`` is ``dev`` (``--kowikisql-split``), ``db_path`` relative to that file, e.g.
  ``--kowikisql ../shared/data/kowikisql/ko_text2sql_format.jsonl``.
* ``bundled-test`` with ``--bundled-test N``: N rows of the bundled dataset's test split (half
  held-out domains, half in-domain; the quickstart's rows at 120).

The model is loaded once (``--backend auto``: llama.cpp for the embedded Qwen2.5-Coder models), with
``--adapter DIR`` (a LoRA adapter folder) on top; the prompt format is the one ``kosql generate`` picks (the adapter's trained
format, else the model's own). Generation is greedy and resumable: rerunning the same command continues
an interrupted run.

Run: ``.venv/bin/python bench/external.py [--model M] [--adapter DIR] [--kowikisql FILE]
[--bundled-test N] [--limit N] [--compare OTHER_OUT] [--out DIR]``. Writes into ``--out`` (default
``bench/results/external-<model>[-<run>]/``) ``summary.json`` and ``summary.md`` (EX with a 95 %
CI per set, seconds per row, and with ``--compare`` the exact McNemar test against another run of this
script on the same rows), and per set ``<set>/predictions.jsonl`` and ``<set>/eval/`` (per-row scores;
git ignores these folders under bench/results).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kosql.data.rows import Example  # noqa: E402
from kosql.errors import UserError  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def handwritten_rows() -> list[Example]:
    """The hand-written dev set, its databases built into kosql's cache (once per version)."""
    from kosql.evalsets import handwritten_rows as rows

    return rows()


def kowikisql_rows(path: str, split: str) -> list[Example]:
    """The rows of a KoWikiSQL ko_text2sql-format file whose ``split`` is ``split``."""
    from kosql.data.load import load_examples

    if not Path(path).is_file():
        raise UserError(f"--kowikisql: {path} is not a file (a ko_text2sql_format.jsonl).")
    rows = [r for r in load_examples(path) if str(r.extra.get("split")) == split]
    if not rows:
        raise UserError(f"--kowikisql: {path} has no rows with split '{split}'.")
    missing = next((r for r in rows if not r.db_path or not Path(r.db_path).is_file()), None)
    if missing is not None:
        raise UserError(f"--kowikisql: row {missing.id!r} has db_path {missing.db_path!r}, which does not exist.")
    return rows


def bundled_rows(n: int) -> list[Example]:
    """``n`` bundled test rows, half from the held-out domains and half in-domain."""
    from kosql.pipeline.steps import load_split, pick_test_rows

    return pick_test_rows(load_split("bundled:small"), max(1, n // 2), 0)


def collect_sets(args: argparse.Namespace) -> list[tuple[str, str, list[Example]]]:
    """``(name, description, rows)`` of every set asked for, each cut to ``--limit`` rows."""
    sets = [("handwritten", "hand-written dev set (kosql/evalsets/handwritten)", handwritten_rows())]
    if args.kowikisql:
        sets.append((f"kowikisql-{args.kowikisql_split}", f"KoWikiSQL, split {args.kowikisql_split}",
                     kowikisql_rows(args.kowikisql, args.kowikisql_split)))
    if args.bundled_test:
        sets.append(("bundled-test", "bundled:small test rows (held-out + in-domain)", bundled_rows(args.bundled_test)))
    return [(name, desc, rows[:args.limit] if args.limit else rows) for name, desc, rows in sets]


def ex_by_db(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Execution accuracy per database (None for a set of more than 20 databases)."""
    from kosql.evaluate.categories import UNSCORED
    from kosql.evaluate.stats import accuracy

    groups: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        if row.get("category") not in UNSCORED:
            groups[str(row.get("db_id"))].append(row.get("category") == "correct")
    if len(groups) > 20:
        return None
    return {db: accuracy(sum(v), len(v)) for db, v in sorted(groups.items())}


def run_set(name: str, rows: list[Example], backend: Any, fmt: str, params: Any, out: Path,
            source: dict[str, Any], workers: int) -> dict[str, Any]:
    """Generate (resumably) and score one set; its files go to ``out/name/``."""
    from kosql.evaluate.api import evaluate_predictions, write_eval_outputs
    from kosql.models.runner import generate_predictions, is_failed, read_existing

    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    done = {i for i, row in read_existing(folder / "predictions.jsonl").items() if not is_failed(row)}
    start = time.perf_counter()
    preds = generate_predictions(rows, backend, folder / "predictions.jsonl", prompt_format=fmt,
                                 batch_size=params.batch_size, params=params, source={**source, "set": name})
    wall = time.perf_counter() - start
    failed = {p["id"]: str(p.get("error")) for p in preds if is_failed(p)}
    report = evaluate_predictions(rows, {p["id"]: p.get("pred") or "" for p in preds}, failed=failed or None,
                                  workers=workers, progress=False)
    write_eval_outputs(report, folder / "eval")
    m = report.metrics
    seconds = [float(p.get("seconds") or 0.0) for p in preds if not is_failed(p)]
    return {"rows": len(rows), "ex": m["overall"]["exec"], "categories": {k: v for k, v in m["categories"].items() if v},
            "by_hardness": {k: v["exec"] for k, v in m.get("by_hardness", {}).items()},
            "by_db": ex_by_db(report.rows), "failed_generations": len(failed),
            "seconds_per_row": sum(seconds) / len(seconds) if seconds else None,
            "generation_seconds": round(sum(seconds), 1),
            "generated_this_run": sum(1 for r in rows if r.id not in done), "wall_seconds_this_run": round(wall, 1),
            "mean_prompt_tokens": sum(int(p.get("prompt_tokens") or 0) for p in preds) / max(1, len(preds)),
            "per_row": str((folder / "eval" / "per_row.jsonl").relative_to(out))}


def compare(result: dict[str, Any], other: Path) -> None:
    """Add ``paired`` (exact McNemar on execution accuracy) to each set that ``other`` also scored."""
    from kosql.data.rows import iter_jsonl
    from kosql.evaluate.paired import paired_test

    if not (other / "summary.json").is_file():
        raise UserError(f"--compare: {other} has no summary.json (a results folder of bench/external.py).")
    theirs = json.loads((other / "summary.json").read_text(encoding="utf-8"))
    result["compare_with"] = {"out": str(other), "model": theirs.get("model"), "adapter": theirs.get("adapter")}
    for name, mine in result["sets"].items():
        path = other / name / "eval" / "per_row.jsonl"
        if not path.is_file():
            mine["paired"] = None
            continue
        ours = list(iter_jsonl(result["_out"] / name / "eval" / "per_row.jsonl"))
        mine["paired"] = paired_test(ours, list(iter_jsonl(path)), metric="exec").to_dict()


def _pct(acc: dict[str, Any] | None) -> str:
    if not acc or acc.get("acc") is None:
        return "—"
    lo, hi = acc["ci95"]
    return f"{100 * acc['acc']:.1f} % [{100 * lo:.1f}, {100 * hi:.1f}] ({acc['correct']}/{acc['n']})"


def markdown(result: dict[str, Any]) -> str:
    """The summary as Markdown: one table of sets, EX per database, the paired tests."""
    from kosql.evaluate.paired import format_p

    adapter = f" + adapter `{result['adapter']}`" if result["adapter"] else ""
    lines = [f"# External sets: `{result['model']}`{adapter}", "",
             f"Backend `{result['backend']}`, prompt format `{result['prompt_format']}`, greedy, "
             f"max {result['max_new_tokens']} new tokens, model load {result['load_seconds']} s; {result['machine']}"
             + (f"; first {result['limit']} rows of each set" if result["limit"] else "") + ".", "",
             "| set | rows | EX [95 % CI] | s / row | prompt tokens | failed |", "|---|---:|---:|---:|---:|---:|"]
    for name, s in result["sets"].items():
        spr = "—" if s["seconds_per_row"] is None else f"{s['seconds_per_row']:.2f}"
        lines.append(f"| {name}: {s['description']} | {s['rows']} | {_pct(s['ex'])} | {spr} | "
                     f"{s['mean_prompt_tokens']:.0f} | {s['failed_generations']} |")
    lines += ["", "Rows by outcome: " + "; ".join(
        f"{name}: " + ", ".join(f"{cat} {n}" for cat, n in sorted(s["categories"].items(), key=lambda kv: -kv[1]))
        for name, s in result["sets"].items()) + "."]
    for name, s in result["sets"].items():
        if s.get("by_db") and len(s["by_db"]) <= 10:
            lines += ["", f"EX by database ({name}): " + ", ".join(
                f"{db} {_pct(acc)}" for db, acc in s["by_db"].items()) + "."]
    if result.get("compare_with"):
        other = result["compare_with"]
        lines += ["", f"Paired with `{other['out']}` (model `{other['model']}`"
                  + (f", adapter `{other['adapter']}`" if other.get("adapter") else "") + "), exact McNemar on EX:", "",
                  "| set | common rows | both | only this run | only the other | neither | p |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for name, s in result["sets"].items():
            p = s.get("paired")
            lines.append(f"| {name} | — | | | | | not in the other run |" if not p else
                         f"| {name} | {p['n']} | {p['both']} | {p['a_only']} | {p['b_only']} | {p['neither']} | "
                         f"{format_p(p['p_value'])} |")
    lines += ["", f"Rebuild: `{result['command']}`"]
    return "\n".join(lines) + "\n"


def default_out(model: str, adapter: str | None) -> Path:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(model.rstrip("/")).name or model)
    if adapter:  # named by its run: runs/<run>/train/adapter -> <run>
        parts = list(Path(adapter.rstrip("/")).parts)
        while len(parts) > 1 and parts[-1] in ("adapter", "train"):
            parts.pop()
        name += "-" + re.sub(r"[^A-Za-z0-9._-]+", "_", parts[-1])
    return RESULTS / f"external-{name}"


def measure(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """Load the model once, run every set, return the summary."""
    from kosql.models.base import GenerationParams
    from kosql.models.embedded import untrained_prompt_format
    from kosql.models.registry import load_backend, resolve_kind
    from kosql.runinfo import trained_prompt_format

    sets = collect_sets(args)  # before loading the model: a bad --kowikisql fails fast
    kind = resolve_kind(args.backend, args.model, args.adapter)
    fmt = trained_prompt_format(args.adapter or args.model) or untrained_prompt_format(args.model)
    start = time.perf_counter()
    backend = load_backend(kind, args.model, adapter=args.adapter)
    load_seconds = time.perf_counter() - start
    params = GenerationParams(max_new_tokens=args.max_new_tokens, batch_size=args.batch_size)
    source = {"backend": kind, "adapter": os.path.abspath(args.adapter) if args.adapter else None}
    result: dict[str, Any] = {"model": args.model, "adapter": args.adapter, "backend": kind, "prompt_format": fmt,
                              "max_new_tokens": args.max_new_tokens, "limit": args.limit,
                              "load_seconds": round(load_seconds, 1), "threads": os.environ.get("KOSQL_THREADS"),
                              "machine": _machine(), "sets": {}, "_out": out}
    for name, desc, rows in sets:
        print(f"[{name}] {len(rows)} rows ...", file=sys.stderr, flush=True)
        result["sets"][name] = {"description": desc, **run_set(name, rows, backend, fmt, params, out, source,
                                                               args.workers)}
        print(f"[{name}] EX {_pct(result['sets'][name]['ex'])}", file=sys.stderr, flush=True)
    return result


def _machine() -> str:
    import platform

    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"KOSQL_THREADS={os.environ.get('KOSQL_THREADS', 'all')}, load average {os.getloadavg()[0]:.1f} at the start")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from kosql.models.registry import BACKEND_CHOICES
    from kosql.models.resolve import DEFAULT_MODEL

    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"model (default {DEFAULT_MODEL})")
    p.add_argument("--backend", choices=BACKEND_CHOICES, default="auto", help="backend kind (default auto)")
    p.add_argument("--adapter", default=None, help="LoRA adapter folder applied on top of --model (e.g. runs/<run>/train/adapter)")
    p.add_argument("--kowikisql", default=None, metavar="FILE", help="KoWikiSQL ko_text2sql_format.jsonl to score")
    p.add_argument("--kowikisql-split", default="dev", help="KoWikiSQL rows whose 'split' is this (default dev)")
    p.add_argument("--bundled-test", type=int, default=0, metavar="N", help="also N bundled test rows")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N rows of each set")
    p.add_argument("--compare", type=Path, default=None, metavar="DIR",
                   help="another --out folder of this script: paired McNemar test per set")
    p.add_argument("--out", type=Path, default=None, help="results folder (default bench/results/external-<model>)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--workers", type=int, default=2, help="scoring worker processes")
    args = p.parse_args(argv)
    if (args.limit is not None and args.limit < 1) or args.bundled_test < 0 or args.batch_size < 1:
        p.error("--limit and --batch-size must be positive, --bundled-test not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out or default_out(args.model, args.adapter)
    try:
        result = measure(args, out)
        if args.compare is not None:
            compare(result, args.compare)
    except UserError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    result["command"] = "python bench/external.py " + " ".join(sys.argv[1:] if argv is None else argv)
    result.pop("_out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    text = markdown(result)
    (out / "summary.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
