"""The cost check: read the planner's estimate and compare it with the policy's budget (pure).

- PostgreSQL: ``EXPLAIN (FORMAT JSON)`` gives the plan's ``Total Cost`` and ``Plan Rows``; a
  ``Seq Scan`` of a table with more than ``large_table_rows`` rows is flagged, and a
  ``ModifyTable`` node (a hidden write) is refused.
- SQLite: ``EXPLAIN QUERY PLAN`` has no cost number; a ``SCAN t`` line is a full scan of ``t``.
  The estimated rows are the product of the sizes of the fully scanned tables (nested full scans
  multiply), and a full scan of a table above ``large_table_rows`` rows is flagged.

Over budget (cost or rows above the policy's, or a flagged scan with ``refuse_large_scans``) ->
:attr:`CostReport.over_budget`, with the plan's numbers in the note.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from kosql.ask.dbtypes import PlanInfo
from kosql.messages import Message, Seq, msg
from kosql.sql.guard import Policy

_SCAN_RE = re.compile(r"^SCAN (?:TABLE )?(\"[^\"]+\"|\S+)")


@dataclass
class CostReport:
    """The cost check's verdict: ``note`` is always filled; ``reason`` when over budget (both
    :class:`kosql.messages.Message`, said in English or Korean)."""

    over_budget: bool
    note: str
    reason: str = ""
    writes: bool = False


def sqlite_full_scans(details: list[str]) -> list[str]:
    """Tables read by a full scan in ``EXPLAIN QUERY PLAN`` detail lines (``SCAN t``; not
    ``SCAN CONSTANT ROW`` or a subquery/CTE scan)."""
    out = []
    for line in details:
        m = _SCAN_RE.match(line.strip())
        if not m:
            continue
        name = m.group(1).strip('"')
        if name in ("CONSTANT", "SUBQUERY") or line.strip().startswith(("SCAN CONSTANT", "SCAN SUBQUERY")):
            continue
        out.append(name)
    return out


def postgres_plan_info(plan_json: Any, table_rows: dict[str, int]) -> PlanInfo:
    """A :class:`PlanInfo` from PostgreSQL's ``EXPLAIN (FORMAT JSON)`` output."""
    doc = plan_json[0] if isinstance(plan_json, list) else plan_json
    root = doc.get("Plan", {}) if isinstance(doc, dict) else {}
    scans: list[str] = []
    writes = False
    stack = [root]
    while stack:
        node = stack.pop()
        kind = node.get("Node Type", "")
        if kind == "ModifyTable" or node.get("Operation") in ("Insert", "Update", "Delete", "Merge"):
            writes = True
        if kind == "Seq Scan" and node.get("Relation Name"):
            scans.append(str(node["Relation Name"]))
        stack.extend(node.get("Plans", []) or [])
    return PlanInfo(kind="postgres", total_cost=float(root.get("Total Cost", 0.0)),
                    plan_rows=float(root.get("Plan Rows", 0.0)), full_scans=scans,
                    table_rows={t: table_rows.get(t, -1) for t in scans}, writes=writes, raw=plan_json)


def _large(info: PlanInfo, policy: Policy) -> list[Message]:
    return [msg("table_rows", table=t, rows=info.table_rows.get(t, -1)) for t in dict.fromkeys(info.full_scans)
            if info.table_rows.get(t, -1) > policy.large_table_rows]


def judge_cost(info: PlanInfo, policy: Policy) -> CostReport:
    """Compare ``info`` with ``policy``'s budget."""
    if info.error:
        return CostReport(False, msg("plan_failed", error=info.error))
    if info.writes:
        return CostReport(True, msg("plan_writes"), msg("writes"), writes=True)
    large = _large(info, policy)
    if info.kind == "postgres":
        cost, rows = info.total_cost or 0.0, info.plan_rows or 0.0
        note = msg("cost_estimate", cost=cost, budget=policy.max_cost, rows=rows)
    else:
        sizes = [max(1, info.table_rows.get(t, 1)) for t in info.full_scans]
        rows = float(math.prod(sizes)) if sizes else 0.0
        cost = None
        note = (msg("full_scans", tables=Seq(tuple(info.full_scans)), rows=rows) if info.full_scans
                else msg("no_full_scans", rows=rows))
    if large:
        note = msg("large_scans", note=note, tables=Seq(tuple(large)))
    reasons = []
    if cost is not None and cost > policy.max_cost:
        reasons.append(msg("over_cost", cost=cost, budget=policy.max_cost))
    if rows > policy.max_plan_rows:
        reasons.append(msg("over_rows", rows=rows, budget=policy.max_plan_rows))
    if large and policy.refuse_large_scans:
        reasons.append(msg("scans_large", tables=Seq(tuple(large))))
    if reasons:
        return CostReport(True, note, msg("too_expensive", reasons=Seq(tuple(reasons), "; ")))
    return CostReport(False, note)
