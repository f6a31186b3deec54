"""Execution-guided voting: EX with and without the vote, and selective accuracy over the vote's share.

    .venv/bin/python bench/voting.py --pred VOTED.jsonl --eval VOTED_EVAL/ [--greedy-eval GREEDY_EVAL/]
                                     [--out docs/results/voting]
    .venv/bin/python bench/voting.py --pred VOTED.jsonl --data bundled:small [--greedy-pred GREEDY.jsonl]

``VOTED.jsonl`` is a ``kosql generate --vote k`` predictions file, ``VOTED_EVAL`` the ``kosql eval``
folder (or its ``per_row.jsonl``) of it; ``GREEDY_EVAL`` (optional) that of the greedy SQL alone, e.g.
``kosql eval`` of a plain ``kosql generate`` run on the same rows. Rows are matched by id. With
``--data`` instead, the rows of the dataset that the predictions file holds (a ``--limit`` run) are
scored here by execution (``kosql.evaluate.api.evaluate_predictions``, EX): the voted SQL and the
greedy SQL the same file records (``vote.greedy``), and the time both runs took when ``--greedy-pred``
(a plain ``kosql generate`` on the same rows) is given.

Selective accuracy: for each threshold t among the shares that occur, the answers kept are the rows
whose winning group holds at least a share t of the candidates (``kosql ask --min-confidence t``);
the table and the plot give the share of rows kept (coverage) and the EX of those rows. A confidence
that means something keeps the right answers: EX rises as t rises. Writes ``selective_accuracy.json``,
``selective_accuracy.md`` and ``selective_accuracy.png`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _rows(path: Path) -> list[dict[str, Any]]:
    if path.is_dir():
        path = path / "per_row.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def selective_accuracy(shares: dict[str, float], correct: dict[str, bool]) -> list[dict[str, Any]]:
    """One point per threshold (each share that occurs, ascending): threshold, rows kept, coverage, EX
    of the kept rows (None when none is kept)."""
    ids = [i for i in shares if i in correct]
    points = []
    for t in sorted({shares[i] for i in ids}):
        kept = [i for i in ids if shares[i] >= t - 1e-9]
        right = sum(1 for i in kept if correct[i])
        points.append({"threshold": round(t, 4), "kept": len(kept), "coverage": round(len(kept) / len(ids), 4),
                       "correct": right, "ex": round(right / len(kept), 4) if kept else None})
    return points


def summarize(preds: list[dict[str, Any]], voted: list[dict[str, Any]],
              greedy: list[dict[str, Any]] | None) -> dict[str, Any]:
    """EX of the voted predictions (and of greedy alone when given), how the vote went, the points."""
    votes = {str(p["id"]): p["vote"] for p in preds if isinstance(p.get("vote"), dict)}
    correct = {str(r["id"]): bool(r.get("ex")) for r in voted}
    shares = {i: float(v.get("share") or 0.0) for i, v in votes.items()}
    ids = [i for i in votes if i in correct]
    out: dict[str, Any] = {
        "rows": len(ids), "k": next(iter(votes.values())).get("k") if votes else None,
        "ex_voted": round(sum(correct[i] for i in ids) / len(ids), 4) if ids else None,
        "greedy_agreed": sum(1 for i in ids if votes[i].get("greedy_agreed")),
        "changed": sum(1 for p in preds if str(p["id"]) in votes and p["pred"] != votes[str(p["id"])].get("greedy")),
        "no_candidate_ran": sum(1 for i in ids if votes[i].get("winner") is None),
        "repaired": {how: sum(1 for i in ids for c in votes[i]["candidates"]
                              if (c.get("repair") or {}).get("how") == how) for how in ("transpiled", "retried")},
        "points": selective_accuracy(shares, correct),
    }
    if greedy is not None:
        base = {str(r["id"]): bool(r.get("ex")) for r in greedy}
        both = [i for i in ids if i in base]
        out["ex_greedy"] = round(sum(base[i] for i in both) / len(both), 4) if both else None
        out["paired"] = {"rows": len(both), "voted_only": sum(1 for i in both if correct[i] and not base[i]),
                         "greedy_only": sum(1 for i in both if base[i] and not correct[i])}
    return out


def _sql(pred: dict[str, Any], key: str) -> str:
    vote = pred.get("vote") or {}
    if key == "greedy":
        return str(vote.get("greedy", pred["pred"]))
    if key == "repaired":  # the greedy candidate after its repair, when that ran
        first = (vote.get("candidates") or [{}])[0]
        return str(first.get("sql") if first.get("sql") and first.get("error") is None else vote.get("greedy", ""))
    return str(pred["pred"])


def score_rows(data: str, preds: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Per-row EX of the dataset rows the predictions hold, for the SQL at ``key``: 'pred' (the vote's
    winner), 'greedy' (the greedy SQL it records) or 'repaired' (that greedy SQL after its repair)."""
    from kosql.data.resolve import load_dataset
    from kosql.evaluate.api import evaluate_predictions

    sql = {str(p["id"]): _sql(p, key) for p in preds}
    rows = [e for e in load_dataset(data, "test") if e.id in sql]
    report = evaluate_predictions(rows, sql, testsuite="never", progress=False, workers=1)
    return list(report.rows)


def run_cost(voted: list[dict[str, Any]], greedy: list[dict[str, Any]]) -> dict[str, Any]:
    """Seconds and completion tokens of the voted and the plain greedy run over the same rows."""
    ids = {str(p["id"]) for p in voted} & {str(p["id"]) for p in greedy}

    def total(rows: list[dict[str, Any]], field: str) -> float:
        return sum(float(p.get(field) or 0) for p in rows if str(p["id"]) in ids)

    out: dict[str, Any] = {"rows": len(ids), "greedy_seconds": round(total(greedy, "seconds"), 1),
           "voted_seconds": round(total(voted, "seconds"), 1),
           "greedy_tokens": int(total(greedy, "completion_tokens")), "voted_tokens": int(total(voted, "completion_tokens"))}
    out["time_ratio"] = round(out["voted_seconds"] / out["greedy_seconds"], 2) if out["greedy_seconds"] else None
    return out


def _plot(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [p for p in summary["points"] if p["ex"] is not None]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot([p["coverage"] * 100 for p in points], [p["ex"] * 100 for p in points], marker="o")
    for p in points:
        ax.annotate(f"≥{p['threshold']:.0%}", (p["coverage"] * 100, p["ex"] * 100), textcoords="offset points",
                    xytext=(4, 6), fontsize=8)
    if summary.get("ex_greedy") is not None:
        ax.axhline(summary["ex_greedy"] * 100, color="grey", linestyle="--", linewidth=1,
                   label=f"greedy alone, all rows ({summary['ex_greedy']:.1%})")
        ax.legend(loc="lower left", fontsize=8)
    ax.set_xlabel("answers kept (% of rows whose vote share reaches the threshold)")
    ax.set_ylabel("EX of the answers kept (%)")
    ax.set_title(f"Selective accuracy of --vote {summary['k']} ({summary['rows']} rows)")
    ax.set_xlim(0, 105)
    ax.set_ylim(0, 105)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _markdown(summary: dict[str, Any]) -> str:
    lines = [f"# Selective accuracy of `--vote {summary['k']}` ({summary['rows']} rows)", ""]
    if summary.get("ex_greedy") is not None:
        lines.append(f"EX greedy alone {summary['ex_greedy']:.1%}, with the vote {summary['ex_voted']:.1%} "
                     f"(paired: {summary['paired']['voted_only']} rows right only with the vote, "
                     f"{summary['paired']['greedy_only']} only greedy).")
    else:
        lines.append(f"EX with the vote {summary['ex_voted']:.1%}.")
    if summary.get("ex_greedy_repaired") is not None:
        lines.append(f"EX of the greedy SQL after its repair alone (no vote): {summary['ex_greedy_repaired']:.1%}.")
    cost = summary.get("cost")
    if cost:
        lines.append(f"Time over {cost['rows']} rows: greedy {cost['greedy_seconds']} s, with the vote "
                     f"{cost['voted_seconds']} s ({cost['time_ratio']}x; completion tokens {cost['greedy_tokens']} "
                     f"-> {cost['voted_tokens']}).")
    lines += ["", "| --min-confidence | answers kept | coverage | EX of the kept |", "|---|---|---|---|"]
    for p in summary["points"]:
        ex = f"{p['ex']:.1%}" if p["ex"] is not None else "-"
        lines.append(f"| {p['threshold']:.0%} | {p['kept']} | {p['coverage']:.1%} | {ex} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pred", type=Path, required=True, help="kosql generate --vote k predictions JSONL")
    parser.add_argument("--eval", type=Path, default=None, help="kosql eval folder (or per_row.jsonl) of --pred")
    parser.add_argument("--greedy-eval", type=Path, default=None, help="kosql eval of greedy alone, same rows")
    parser.add_argument("--data", default=None, help="instead of --eval: the dataset to score --pred's rows on")
    parser.add_argument("--greedy-pred", type=Path, default=None, help="with --data: a plain kosql generate "
                                                                        "run on the same rows (its time)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "voting")
    args = parser.parse_args(argv)
    preds = _rows(args.pred)
    if args.data:
        summary = summarize(preds, score_rows(args.data, preds, "pred"), score_rows(args.data, preds, "greedy"))
        repaired = score_rows(args.data, preds, "repaired")
        summary["ex_greedy_repaired"] = round(sum(bool(r.get("ex")) for r in repaired) / len(repaired), 4) if repaired else None
        if args.greedy_pred:
            summary["cost"] = run_cost(preds, _rows(args.greedy_pred))
    elif args.eval:
        summary = summarize(preds, _rows(args.eval), _rows(args.greedy_eval) if args.greedy_eval else None)
    else:
        parser.error("give --eval (kosql eval of --pred) or --data (score it here)")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "selective_accuracy.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    (args.out / "selective_accuracy.md").write_text(_markdown(summary), encoding="utf-8")
    _plot(summary, args.out / "selective_accuracy.png")
    print(_markdown(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
