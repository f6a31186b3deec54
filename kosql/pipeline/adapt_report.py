"""The report of `kosql adapt`: base vs adapted on each evaluation set, with the exact McNemar test of
the rows both were scored on (:mod:`kosql.evaluate.paired`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from kosql.evaluate.paired import PAIRED_HEADER, paired_line, paired_test
from kosql.pipeline.adapt_eval import SETS
from kosql.pipeline.compare import compare, print_comparison, write_comparison


def per_set_table(per_set: dict[str, dict[str, list[dict[str, Any]]]], base: str, adapted: str) -> str:
    """Markdown: EX of both models on each set and the paired test (rows scored for both)."""
    from kosql.pipeline.compare import cell

    lines = ["| set | rows | base EX | adapted EX |", "|---|---|---|---|"]
    for name, label in SETS:
        models = per_set.get(name) or {}
        if "base" not in models or "adapted" not in models:
            continue
        b, a = cell(models["base"], "ex"), cell(models["adapted"], "ex")
        lines.append(f"| {label} | {len(models['base'])} | {b.text()} | {a.text()} |")
    paired = [PAIRED_HEADER]
    for name, label in SETS:
        models = per_set.get(name) or {}
        if "base" in models and "adapted" in models:
            res = paired_test(models["base"], models["adapted"], "ex")
            if res.n:
                paired.append(paired_line(f"{base} [{label}]", f"{adapted} [{label}]", res))
    return "\n".join(lines + ([""] + paired if len(paired) > 1 else []))


def write_report(plan: Any, per_set: dict[str, dict[str, list[dict[str, Any]]]], summary: dict[str, Any],
                 seconds: float) -> dict[str, Path]:
    """report.md / report.html over all evaluated rows, the per-set table in its notes; results into ``summary``."""
    model = plan.options.model
    base, adapted = f"{model} (base)", f"{model} + LoRA ({plan.max_steps} steps)"
    per_model: dict[str, list[dict[str, Any]]] = {base: [], adapted: []}
    for models in per_set.values():
        per_model[base] += models.get("base", [])
        per_model[adapted] += models.get("adapted", [])
    comp = compare(per_model)
    notes = (f"kosql adapt · {plan.db_id} · {time.strftime('%Y-%m-%d')} · {seconds / 60:.1f} min end to end\n\n"
             "Each evaluation set on its own (EX, 95 % Wilson CI; paired: exact McNemar test on the same rows):\n\n"
             + per_set_table(per_set, base, adapted))
    files = write_comparison(comp, plan.out, title=f"kosql adapt: {plan.db_id}, base vs adapted", notes=notes)
    print_comparison(comp, title="kosql adapt (EX / TS-EX / EM, 95 % CI)")
    summary["results"] = {
        name: {who: {"k": c.k, "n": c.n, "acc": c.acc}
               for who, rows in models.items() for c in [_ex(rows)]}
        for name, models in per_set.items()}
    summary["paired"] = {name: paired_test(models["base"], models["adapted"], "ex").to_dict()
                         for name, models in per_set.items() if "base" in models and "adapted" in models}
    return files


def _ex(rows: list[dict[str, Any]]) -> Any:
    from kosql.pipeline.compare import cell

    return cell(rows, "ex")
