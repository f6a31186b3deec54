"""Table selection on one big schema: the bundled domains merged into one database.

Every table of the bundled dataset's domains (``bundled:small+comments``, Korean column comments)
goes into one schema; a table name that two domains share gets its domain as a prefix
(``delivery_orders``) and the gold SQL of that domain is rewritten to match. For each test row,
:func:`kosql.ask.select.select_tables` picks tables for the question under a token budget; the row
counts as recalled when every table its gold SQL reads was kept. No model: this measures whether
the prompt can hold the answer, not EX.

Run: ``.venv/bin/python bench/table_selection.py [--budgets 400,800,1500]``; writes
``bench/results/table_selection.json`` and ``.md``.

With ``--model M`` it measures EX instead: for ``--n`` bundled test rows (``bundled:small``, half
held-out, half in-domain; the quickstart's rows at 120) the model writes SQL from ``kosql ask``'s
prompt twice, (a) over the row's own database (every table) and (b) over one SQLite database of the
merged schema, where ``kosql ask``'s table selection keeps what fits ``--budget`` DDL tokens. Both
prompts carry the Korean column comments. (b)'s SQL is mapped back to the row's own table names
(:mod:`kosql.ask.rename`) and both arms are scored on the row's database; the paired McNemar test
compares them. Writes ``bench/results/table_selection_ex.json`` and ``.md``:
``.venv/bin/python bench/table_selection.py --model qwen2.5-coder-0.5b [--backend auto] [--n 120] [--budget 1500]``
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from kosql.ask.schema import render_ddl
from kosql.ask.select import estimate_tokens, select_tables
from kosql.data.schema import Schema, Table, parse_schema
from kosql.data.synth import bundled_dataset

RESULTS = Path(__file__).resolve().parent / "results"
_NAMES = re.compile(r"\([A-Za-z_][A-Za-z0-9_ ,.]*\)")


def merged_schema(rows: list[dict[str, Any]]) -> tuple[Schema, dict[tuple[str, str], str]]:
    """One schema of every domain's tables, and (db_id, table) -> merged name."""
    per_domain: dict[str, dict[str, Table]] = {}
    for row in rows:
        tables = per_domain.setdefault(row["db_id"], {})
        for name, table in parse_schema(row["context"]).tables.items():
            tables.setdefault(name, copy.deepcopy(table))  # parse_schema's result is cached: rename a copy
    owners = Counter(name for tables in per_domain.values() for name in tables)
    rename: dict[tuple[str, str], str] = {}
    merged: dict[str, Table] = {}
    for db_id, tables in sorted(per_domain.items()):
        for name, table in tables.items():
            new = f"{db_id}_{name}" if owners[name] > 1 else name
            rename[(db_id, name)] = new
            merged[new] = table
    for db_id, tables in per_domain.items():
        for name in tables:
            table = merged[rename[(db_id, name)]]
            table.name = rename[(db_id, name)]
            for fk in table.foreign_keys:
                fk.ref_table = rename.get((db_id, fk.ref_table), fk.ref_table)
    return Schema(merged), rename


def gold_tables(sql: str, db_id: str, rename: dict[tuple[str, str], str]) -> set[str]:
    tree = sqlglot.parse_one(sql, read="sqlite")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return {rename.get((db_id, t.name), t.name) for t in tree.find_all(exp.Table) if t.name and t.name not in ctes}


def load_merged() -> tuple[Schema, dict[tuple[str, str], str], list[dict[str, Any]], int]:
    """(merged schema, rename, bundled:small+comments test rows, number of domains)."""
    root = bundled_dataset("small", comments=True)
    every = [json.loads(line) for split in ("train", "dev", "test")
             for line in (root / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
    test = [json.loads(line) for line in (root / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    schema, rename = merged_schema(every)
    return schema, rename, test, len({r["db_id"] for r in every})


def measure(budgets: list[int]) -> dict[str, Any]:
    schema, rename, test, domains = load_merged()

    def render(names: list[str]) -> str:
        return render_ddl(schema, names)

    whole = estimate_tokens(render(list(schema.tables)))
    out: dict[str, Any] = {"domains": domains, "tables": len(schema.tables),
                           "whole_schema_tokens": whole, "test_rows": len(test), "budgets": {}}
    for budget, stripped in [(b, s) for s in (False, True) for b in budgets]:
        start = time.perf_counter()
        recalled, kept, tokens = 0, 0, 0
        for row in test:
            question = _NAMES.sub("", row["question"]) if stripped else row["question"]
            sel = select_tables(schema, question, render, budget=budget)
            need = gold_tables(row["answer"], row["db_id"], rename)
            recalled += need <= set(sel.tables)
            kept += len(sel.tables)
            tokens += sel.tokens
        n = len(test)
        out["budgets"][f"{budget}{' (Korean only)' if stripped else ''}"] = {"recall": recalled / n, "recalled": recalled, "mean_tables": kept / n,
                                       "mean_tokens": tokens / n, "ms_per_row": 1000 * (time.perf_counter() - start) / n}
    return out


def write(result: dict[str, Any]) -> str:
    lines = [f"# Table selection on the {result['domains']} bundled domains merged into one schema", "",
             f"{result['tables']} tables, {result['whole_schema_tokens']:,} estimated tokens of DDL for the whole "
             f"schema; {result['test_rows']} test rows (bundled:small+comments). Many bundled questions name "
             "tables and columns in parentheses (`메시지(messages)`); the '(Korean only)' rows remove those "
             "names first, so only the Korean words and comments can match.", "",
             "| budget (tokens) | recall (all gold tables kept) | tables kept | DDL tokens | ms / row |",
             "|---:|---:|---:|---:|---:|"]
    for budget, r in result["budgets"].items():
        lines.append(f"| {budget} | {100 * r['recall']:.1f} % ({r['recalled']}/{result['test_rows']}) | "
                     f"{r['mean_tables']:.1f} | {r['mean_tokens']:.0f} | {r['ms_per_row']:.1f} |")
    lines += ["", "Rebuild: `.venv/bin/python bench/table_selection.py`"]
    return "\n".join(lines) + "\n"


# --- model mode: EX with table selection vs with each row's own schema ------------------------


_CREATE_OR_REF = re.compile(r'\b(CREATE TABLE|REFERENCES)(\s+)("?)([A-Za-z_][A-Za-z0-9_]*)\3', re.IGNORECASE)


def _merged_db(rename: dict[tuple[str, str], str], folder: Path) -> str:
    """An empty SQLite database of every bundled domain's tables under their merged names, made from
    each domain database's own CREATE TABLE statements (so both arms see the same DDL flavour)."""
    dbs = bundled_dataset("small") / "dbs"
    path = folder / "merged.sqlite"
    con = sqlite3.connect(path)
    try:
        for db_id in sorted({db for db, _ in rename}):
            src = sqlite3.connect(f"file:{dbs / f'{db_id}.sqlite'}?mode=ro", uri=True)
            try:
                ddl = [r[0] for r in src.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL")]
            finally:
                src.close()
            names = {own: merged for (db, own), merged in rename.items() if db == db_id}

            def renamed(m: re.Match[str], names: dict[str, str] = names) -> str:
                return m[1] + m[2] + m[3] + names.get(m[4], m[4]) + m[3]

            for sql in ddl:
                con.execute(_CREATE_OR_REF.sub(renamed, sql))
        con.commit()
    finally:
        con.close()
    return str(path)


def _generate(backend: Any, prompts: list[str], params: Any, label: str) -> tuple[list[Any], float]:
    start, out = time.perf_counter(), []
    for i in range(0, len(prompts), 8):
        out += backend.generate(prompts[i:i + 8], params)
        print(f"  {label}: {len(out)}/{len(prompts)} rows, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return out, time.perf_counter() - start


def _arm(rows: list[Any], gens: list[Any], sqls: dict[str, str],
         seconds: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from kosql.evaluate.api import evaluate_predictions

    failed = {r.id: g.error for r, g in zip(rows, gens, strict=True) if g.error}
    report = evaluate_predictions(rows, sqls, failed=failed or None, progress=False)
    m = report.metrics
    return {"ex": m["overall"]["exec"], "by_split": {k: v["exec"] for k, v in m["by_split"].items()},
            "categories": m["categories"], "failed_generations": len(failed),
            "mean_prompt_tokens": sum(g.prompt_tokens for g in gens) / max(1, len(gens)),
            "max_prompt_tokens": max((g.prompt_tokens for g in gens), default=0),
            "seconds_per_row": seconds / max(1, len(rows))}, report.rows


def _prompts(schema: Schema, rename: dict[tuple[str, str], str], rows: list[Any], backend: Any, fmt: str,
             budget: int) -> tuple[list[str], list[str], list[list[str]], Any]:
    """kosql ask's prompts: (a) on the row's own database, every table; (b) on the merged database
    under ``budget``; the tables (b) kept; kosql ask's generation settings."""
    from kosql.ask.service import Asker
    from kosql.pipeline.steps import load_split

    comments = {r.id: r.context for r in load_split("bundled:small+comments")}  # Korean COMMENTs
    with tempfile.TemporaryDirectory() as tmp:
        merged = Asker(_merged_db(rename, Path(tmp)), backend=backend, prompt_budget=budget,
                       comments_ddl=render_ddl(schema), prompt_format=fmt)
        own: dict[str, Asker] = {}
        prompts_a, prompts_b, kept = [], [], []
        for row in rows:
            if row.db_id not in own:
                own[row.db_id] = Asker(row.db_path, backend=backend, prompt_budget=10**9,
                                       comments_ddl=comments[row.id], prompt_format=fmt)
            prompts_a.append(own[row.db_id].prompt(row.question)[0])
            text, tables = merged.prompt(row.question)
            prompts_b.append(text)
            kept.append(tables)
        for asker in [merged, *own.values()]:
            asker.close()
    return prompts_a, prompts_b, kept, merged.params


def _recall(rows: list[Any], kept: list[list[str]], rename: dict[tuple[str, str], str],
            scored_b: list[dict[str, Any]]) -> tuple[list[bool], dict[str, Any]]:
    """Whether (b) kept every gold table, per row, and recall / EX of (b) by recall."""
    recalled = [gold_tables(r.answer, r.db_id, rename) <= set(t) for r, t in zip(rows, kept, strict=True)]
    ex_b = {row["id"]: row.get("ex") for row in scored_b}
    out: dict[str, Any] = {"recall": sum(recalled) / len(rows), "recalled": sum(recalled),
                           "mean_tables": sum(map(len, kept)) / len(rows), "recall_by_split": {}}
    for split in sorted({str(r.extra.get("split")) for r in rows}):
        flags = [rec for r, rec in zip(rows, recalled, strict=True) if str(r.extra.get("split")) == split]
        out["recall_by_split"][split] = sum(flags) / len(flags)
    for flag, key in ((True, "ex_recalled"), (False, "ex_not_recalled")):
        vals = [bool(ex_b[r.id]) for r, rec in zip(rows, recalled, strict=True)
                if rec == flag and ex_b.get(r.id) is not None]
        out[key] = {"n": len(vals), "acc": sum(vals) / len(vals) if vals else None}
    return recalled, out


def measure_ex(model: str, backend_kind: str, n: int, budget: int) -> dict[str, Any]:
    """Generate SQL for ``n`` bundled test rows with (a) the row's own schema and (b) the tables
    ``kosql ask`` keeps from the merged schema under ``budget``; both scored on the row's database."""
    from kosql.ask.rename import merged_to_own, rename_tables
    from kosql.evaluate.paired import paired_test
    from kosql.models.registry import load_backend, resolve_kind
    from kosql.pipeline.steps import load_split, pick_test_rows
    from kosql.sql.extract import extract_sql  # what Asker.extract_sql (kosql ask) uses

    schema, rename, _, domains = load_merged()
    rows = pick_test_rows(load_split("bundled:small"), n // 2, 0)  # the quickstart's rows at n=120
    kind = resolve_kind(backend_kind, model)
    backend = load_backend(kind, model)
    from kosql.models.prompting import default_prompt_format

    fmt = default_prompt_format(model, None, backend)  # kosql ask's prompt format for the model
    prompts_a, prompts_b, kept, params = _prompts(schema, rename, rows, backend, fmt, budget)
    gens_a, sec_a = _generate(backend, prompts_a, params, "own schema")
    gens_b, sec_b = _generate(backend, prompts_b, params, "selected tables")
    sql_a = {r.id: extract_sql(g.text) for r, g in zip(rows, gens_a, strict=True)}
    raw_b = {r.id: extract_sql(g.text) for r, g in zip(rows, gens_b, strict=True)}
    sql_b = {r.id: rename_tables(raw_b[r.id], merged_to_own(rename, r.db_id)) for r in rows}
    arm_a, scored_a = _arm(rows, gens_a, sql_a, sec_a)
    arm_b, scored_b = _arm(rows, gens_b, sql_b, sec_b)
    recalled, recall = _recall(rows, kept, rename, scored_b)
    arm_b.update(recall)
    ex_a = {row["id"]: row.get("ex") for row in scored_a}
    ex_b = {row["id"]: row.get("ex") for row in scored_b}
    per_row = [{"id": r.id, "split": r.extra.get("split"), "db_id": r.db_id, "tables_kept": t,
                "recalled": rec, "ex_own": ex_a.get(r.id), "ex_selected": ex_b.get(r.id),
                "sql_own": sql_a[r.id], "sql_selected": raw_b[r.id], "sql_selected_own_names": sql_b[r.id]}
               for r, t, rec in zip(rows, kept, recalled, strict=True)]
    return {"model": model, "backend": kind, "prompt_format": fmt, "budget": budget, "n": len(rows),
            "domains": domains, "tables": len(schema.tables), "own_schema": arm_a, "selected": arm_b,
            "paired": paired_test(scored_a, scored_b, metric="ex").to_dict(), "rows": per_row}


def _pct(acc: dict[str, Any]) -> str:
    if acc.get("acc") is None:
        return "—"
    lo, hi = acc["ci95"]
    return f"{100 * acc['acc']:.1f} % [{100 * lo:.1f}, {100 * hi:.1f}] ({acc['correct']}/{acc['n']})"


def _share(x: dict[str, Any]) -> str:
    return "—" if x["acc"] is None else f"{100 * x['acc']:.1f} % of {x['n']} rows"


def write_ex(result: dict[str, Any]) -> str:
    from kosql.evaluate.paired import format_p

    a, b, p = result["own_schema"], result["selected"], result["paired"]
    splits = sorted(a["by_split"])
    lines = [f"# EX with table selection vs with each row's own schema ({result['model']}, {result['backend']})", "",
             f"{result['n']} bundled test rows (`pick_test_rows(load_split('bundled:small'), {result['n'] // 2}, 0)`), "
             f"prompt format `{result['prompt_format']}`, greedy, kosql ask's prompts (Korean column comments) on "
             f"(a) the row's own database with every table, (b) one database of all {result['domains']} domains "
             f"({result['tables']} tables) cut by table selection to {result['budget']} DDL tokens. (b)'s SQL is "
             "mapped back to the row's table names; a table of another domain stays unknown, so the row fails.", "",
             "| arm | EX [95 % CI] | " + " | ".join(f"EX {s}" for s in splits) +
             " | prompt tokens (mean / max) | tables kept | recall | s / row |",
             "|---|---:|" + "---:|" * len(splits) + "---:|---:|---:|---:|"]
    for name, arm, tables, recall in (("(a) own schema", a, "all", "—"),
                                      ("(b) selected tables", b, f"{b['mean_tables']:.1f}",
                                       f"{100 * b['recall']:.1f} % ({b['recalled']}/{result['n']})")):
        lines.append(f"| {name} | {_pct(arm['ex'])} | " + " | ".join(_pct(arm["by_split"][s]) for s in splits) +
                     f" | {arm['mean_prompt_tokens']:.0f} / {arm['max_prompt_tokens']} | {tables} | {recall} | "
                     f"{arm['seconds_per_row']:.2f} |")
    rec, miss = b["ex_recalled"], b["ex_not_recalled"]
    lines += ["", "Recall by split: " + ", ".join(f"{s} {100 * v:.1f} %" for s, v in b["recall_by_split"].items()) +
              f". EX of (b) where every gold table was kept: {_share(rec)}; where one was missing: {_share(miss)}.", "",
              f"Paired (exact McNemar, EX, {p['n']} rows): both right {p['both']}, only (a) {p['a_only']}, "
              f"only (b) {p['b_only']}, neither {p['neither']}; p = {format_p(p['p_value'])}.", "",
              f"Rebuild: `.venv/bin/python bench/table_selection.py --model {result['model']} --n {result['n']} "
              f"--budget {result['budget']}`"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="300,600,1000,1500", help="recall mode: DDL token budgets")
    parser.add_argument("--model", default=None, help="EX mode: generate SQL with this model (e.g. qwen2.5-coder-0.5b)")
    parser.add_argument("--backend", default="auto", help="EX mode: backend kind (kosql ask's --backend)")
    parser.add_argument("--n", type=int, default=120, help="EX mode: test rows (half held-out, half in-domain)")
    parser.add_argument("--budget", type=int, default=1500, help="EX mode: DDL token budget (kosql ask's default)")
    args = parser.parse_args(argv)
    if args.model:
        result = measure_ex(args.model, args.backend, args.n, args.budget)
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "table_selection_ex.json").write_text(json.dumps(result, indent=2, ensure_ascii=False),
                                                         encoding="utf-8")
        text = write_ex(result)
        (RESULTS / "table_selection_ex.md").write_text(text, encoding="utf-8")
        print(text)
        return 0
    result = measure([int(b) for b in args.budgets.split(",")])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "table_selection.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    text = write(result)
    (RESULTS / "table_selection.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
