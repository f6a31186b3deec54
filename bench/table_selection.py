"""Table selection on one big schema: the bundled domains merged into one database.

Every table of the bundled dataset's domains (``bundled:small+comments``, Korean column comments)
goes into one schema; a table name that two domains share gets its domain as a prefix
(``delivery_orders``) and the gold SQL of that domain is rewritten to match. For each test row,
:func:`kosql.ask.select.select_tables` picks tables for the question under a token budget; the row
counts as recalled when every table its gold SQL reads was kept. No model: this measures whether
the prompt can hold the answer, not EX.

Run: ``.venv/bin/python bench/table_selection.py [--budgets 400,800,1500]``; writes
``bench/results/table_selection.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import re
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
            tables.setdefault(name, table)
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


def measure(budgets: list[int]) -> dict[str, Any]:
    root = bundled_dataset("small", comments=True)
    every = [json.loads(line) for split in ("train", "dev", "test")
             for line in (root / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
    test = [json.loads(line) for line in (root / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    schema, rename = merged_schema(every)

    def render(names: list[str]) -> str:
        return render_ddl(schema, names)

    whole = estimate_tokens(render(list(schema.tables)))
    out: dict[str, Any] = {"domains": len({r["db_id"] for r in every}), "tables": len(schema.tables),
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="300,600,1000,1500")
    args = parser.parse_args(argv)
    result = measure([int(b) for b in args.budgets.split(",")])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "table_selection.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    text = write(result)
    (RESULTS / "table_selection.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
