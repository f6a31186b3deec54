"""Score predictions: execution accuracy (EX), test-suite EX, exact match, one category per row.

- A row with a SQLite database (``Example.db_path``) is scored by **EX**: gold runs first, then the
  prediction, both through :func:`kosql.db.execute.execute_sql` (read-only, time limit, row cap),
  and the results are compared with :func:`kosql.sql.compare.results_match`.
- A row without one (ko_text2sql style, DDL only) is scored by **test-suite EX**
  (:func:`kosql.evaluate.testsuite.testsuite_check`) when ``testsuite`` is ``'auto'`` or
  ``'always'`` (``'always'`` also runs it on rows that have a database); ``'never'`` skips it.
- **EM** (exact set match, values ignored) and the normalized-string match are computed for every row.

Rows are scored in worker processes (``workers``) started by a ``forkserver`` (``spawn`` where
there is none), never forked from the caller: a caller that ran torch (quickstart, sweeps, DPO)
would otherwise fork its threads' locks into the workers. Every row ends with exactly one
``category`` (:mod:`kosql.evaluate.categories`): an exception while scoring a row gives ``error``
for that row; when a worker process dies, its unfinished rows are retried one per task in a
fresh pool, halving the set when a round makes no progress, so only the row that kills its worker
ends up ``error``. :func:`score_row` scores one row in-process (DPO uses it).
"""

from __future__ import annotations

import importlib.util
import os
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from kosql.data.rows import Example
from kosql.db.execute import ExecResult, execute_sql
from kosql.evaluate.categories import categorize, is_forbidden
from kosql.evaluate.stats import compute_metrics
from kosql.progress import ProgressBar
from kosql.sql.compare import explain_mismatch, order_matters, results_match

TESTSUITE_MODES = ("auto", "always", "never")
_MAX_RECOVERY_POOLS = 64


@dataclass
class EvalReport:
    """Per-row results (``rows``) and the aggregated ``metrics`` (see :func:`compute_metrics`)."""

    rows: list[dict[str, Any]]
    metrics: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)


def testsuite_available() -> bool:
    """Whether the test-suite evaluator (``kosql.evaluate.testsuite``) is installed."""
    return importlib.util.find_spec("kosql.evaluate.testsuite") is not None


def _mode(testsuite: str | bool) -> str:
    if testsuite is True:
        return "always"
    if testsuite is False:
        return "never"
    if testsuite not in TESTSUITE_MODES:
        raise ValueError(f"testsuite must be one of {TESTSUITE_MODES}, not {testsuite!r}")
    return str(testsuite)


def _row_base(example: Example, pred_sql: str) -> dict[str, Any]:
    from kosql.sql.features import sql_features, sql_hardness

    features = example.features if "features" in example.extra else sql_features(example.answer)
    return {
        "id": example.id,
        "db_id": example.db_id,
        "split": str(example.extra.get("split") or "all"),
        "hardness": example.hardness or sql_hardness(example.answer),
        "features": features,
        "question": example.question,
        "gold": example.answer,
        "pred": pred_sql,
        "method": "none",
        "category": "error",
        "ex": None,
        "ts_ex": None,
        "em": None,
        "em_string": None,
        "error": None,
        "gold_error": None,
        "seconds": 0.0,
    }


def _score_ex(row: dict[str, Any], db_path: str, gold_sql: str, pred_sql: str,
              timeout: float, max_rows: int) -> None:
    score_execution(row, lambda sql: execute_sql(db_path, sql, timeout=timeout, max_rows=max_rows), gold_sql,
                    pred_sql)


def score_execution(row: dict[str, Any], run: Callable[[str], ExecResult], gold_sql: str, pred_sql: str) -> None:
    """EX of one row into ``row`` (its ``method``, ``category``, ``ex``, errors), gold and prediction
    executed by ``run`` (a SQLite file here; another database's read-only connector elsewhere)."""
    gold = run(gold_sql)
    row["method"] = "ex"
    row["gold_rows"] = len(gold.rows)
    if not gold.ok:
        row["gold_error"] = f"{gold.error_kind}: {gold.error}"
        row["category"] = "gold_error"
        return
    if not pred_sql.strip() or is_forbidden(pred_sql):
        pred_ok, kind, match = False, ("forbidden" if pred_sql.strip() else None), False
    else:
        pred = run(pred_sql)
        pred_ok, kind = pred.ok, pred.error_kind
        row["pred_rows"] = len(pred.rows)
        if not pred.ok:
            row["error"] = f"{pred.error_kind}: {pred.error}"
        ordered = order_matters(gold_sql)
        match = pred.ok and results_match(gold, pred, order_matters=ordered)
        if pred.ok and not match:
            row["error"] = explain_mismatch(gold, pred, order_matters=ordered)
    row["category"] = categorize(pred_sql, gold_ok=True, pred_ok=pred_ok, pred_error_kind=kind,
                                 match=match)
    row["ex"] = row["category"] == "correct"


def _score_testsuite(row: dict[str, Any], example: Example, pred_sql: str, k: int,
                     timeout: float, primary: bool) -> None:
    from kosql.evaluate.testsuite import testsuite_check

    res = testsuite_check(example, pred_sql, k=k, seed=0, timeout=timeout)
    status = str(getattr(res, "status", "") or "")
    correct = bool(getattr(res, "correct", False))
    row["ts_status"] = status
    row["ts_nonempty"] = getattr(res, "gold_nonempty", None)
    row["ts_k"] = getattr(res, "k", k)
    category = str(getattr(res, "category", "") or "")
    error = getattr(res, "error", None) or getattr(res, "detail", None)
    if status in ("gold_error", "gold_untranspilable") or category == "gold_error":
        category = "gold_error"
        row["gold_error"] = row.get("gold_error") or error
    elif not pred_sql.strip():
        category = "empty_prediction"
    elif is_forbidden(pred_sql) and not correct:
        category = "forbidden"
    elif not category:
        category = "correct" if correct else "wrong_result"
    if category != "gold_error":
        row["ts_ex"] = category == "correct"
    if primary:
        row["method"] = "testsuite"
        row["category"] = category
        if error and category not in ("correct", "gold_error"):
            row["error"] = str(error)


def score_row(example: Example, pred_sql: str, *, testsuite: str | bool = "auto", k: int = 8,
              timeout: float = 5.0, max_rows: int = 10000, em: bool = True,
              spider_compat: bool = False) -> dict[str, Any]:
    """Score one prediction (never raises: an evaluator failure gives category ``error``).

    ``spider_compat``: execute gold and prediction with every DISTINCT removed, as the official
    Spider evaluator does by default (:func:`kosql.sql.normalize.strip_distinct`)."""
    start = time.monotonic()
    pred_sql = pred_sql or ""
    mode = _mode(testsuite)
    try:
        row = _row_base(example, pred_sql)
    except Exception as exc:  # pragma: no cover - features never raise on strings
        return {"id": example.id, "category": "error", "error": f"{type(exc).__name__}: {exc}"}
    try:
        db_path = example.db_path
        run_example, run_pred = _executed(example, pred_sql, spider_compat)
        if db_path:
            _score_ex(row, db_path, run_example.answer, run_pred, timeout, max_rows)
        run_ts = mode == "always" or (mode == "auto" and not db_path)
        if run_ts and testsuite_available():
            _score_testsuite(row, run_example, run_pred, k, timeout, primary=not db_path)
        elif not db_path:
            row["method"] = "none"
            row["category"] = ("empty_prediction" if not pred_sql.strip() else
                               "forbidden" if is_forbidden(pred_sql) else "unscored")
        if em:
            from kosql.evaluate.em_schema import spider_schema_from_ddl
            from kosql.sql.exact_match import exact_set_match, exact_string_match

            em_schema = spider_schema_from_ddl(example.context) if example.context.strip() else None
            row["em"] = exact_set_match(example.answer, pred_sql, schema=em_schema)
            row["em_string"] = exact_string_match(example.answer, pred_sql)
    except Exception as exc:
        row["category"] = "error"
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc(limit=4)
    row["seconds"] = round(time.monotonic() - start, 6)
    return row


def _executed(example: Example, pred_sql: str, spider_compat: bool) -> tuple[Example, str]:
    """The gold row and prediction as they are executed (DISTINCT stripped in Spider mode)."""
    if not spider_compat:
        return example, pred_sql
    from dataclasses import replace

    from kosql.sql.normalize import strip_distinct

    return replace(example, answer=strip_distinct(example.answer)), strip_distinct(pred_sql)


# -- parallel scoring ---------------------------------------------------------------------------

_JOB: dict[str, Any] = {}


def _init_worker(job: dict[str, Any]) -> None:
    """Worker initializer: the rows, predictions, options and scorer of this evaluation."""
    _JOB.clear()
    _JOB.update(job)


def _score_chunk(indices: list[int]) -> list[dict[str, Any]]:
    examples: list[Example] = _JOB["examples"]
    preds: list[str] = _JOB["preds"]
    opts: dict[str, Any] = _JOB["opts"]
    score = _JOB["score"]
    return [score(examples[i], preds[i], **opts) for i in indices]


def worker_context() -> BaseContext:
    """The multiprocessing context of the scoring workers: forkserver, else spawn (never fork)."""
    methods = get_all_start_methods()
    return get_context("forkserver" if "forkserver" in methods else "spawn")


def _error_row(example: Example, pred_sql: str, message: str) -> dict[str, Any]:
    row = _row_base(example, pred_sql)
    row["category"] = "error"
    row["error"] = message
    return row


def _failed_row(example: Example, error: str) -> dict[str, Any]:
    row = _row_base(example, "")
    row["category"] = "generation_failed"
    row["error"] = error
    return row


def _run_pool(chunks: list[list[int]], workers: int, on_done: Any) -> list[list[int]]:
    """Run ``chunks`` in a pool of :func:`worker_context` processes; returns the chunks lost to a
    dead worker."""
    lost: list[list[int]] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=worker_context(), initializer=_init_worker,
                             initargs=(dict(_JOB),)) as pool:
        futures: dict[Future[list[dict[str, Any]]], list[int]] = {
            pool.submit(_score_chunk, c): c for c in chunks}
        for fut, chunk in futures.items():
            try:
                on_done(fut.result())
            except BrokenProcessPool:
                lost.append(chunk)
    return lost


def _recover(indices: list[int], workers: int, on_done: Any, budget: list[int]) -> list[int]:
    """Rescore rows lost to a dead worker; returns the rows that still could not be scored.

    Rows are retried one per task; when a round makes no progress the rows are split in halves
    (each half in its own pool), so a row that kills its worker ends up alone and marked lost.
    """
    if not indices or budget[0] <= 0:
        return indices
    budget[0] -= 1
    lost = [i for c in _run_pool([[i] for i in indices], workers, on_done) for i in c]
    if len(lost) <= 1:
        return lost
    if len(lost) < len(indices):
        return _recover(lost, workers, on_done, budget)
    mid = len(lost) // 2
    return _recover(lost[:mid], workers, on_done, budget) + _recover(lost[mid:], workers, on_done, budget)


def evaluate_predictions(examples: list[Example], predictions: dict[str, str], *,
                         testsuite: str | bool = "auto", k: int = 8, timeout: float = 5.0,
                         workers: int = 2, progress: bool = True, em: bool = True,
                         max_rows: int = 10000, failed: dict[str, str] | None = None,
                         spider_compat: bool = False) -> EvalReport:
    """Score ``predictions`` (row id -> SQL; a missing id is an empty prediction) on ``examples``.

    ``failed`` (row id -> error): rows whose generation failed; they are not scored but get the
    category ``generation_failed`` (left out of accuracy, counted apart from an empty answer).
    Rows sharing an id are refused (UserError naming the ids), never scored as one."""
    from kosql.evaluate.predictions import check_unique_ids

    check_unique_ids(examples)
    if failed and any(ex.id in failed for ex in examples):
        report = evaluate_predictions([ex for ex in examples if ex.id not in failed], predictions,
                                      testsuite=testsuite, k=k, timeout=timeout, workers=workers,
                                      progress=progress, em=em, max_rows=max_rows,
                                      spider_compat=spider_compat)
        scored = {r["id"]: r for r in report.rows}
        rows = [scored.get(ex.id) or _failed_row(ex, failed[ex.id]) for ex in examples]
        metrics = compute_metrics(rows)
        metrics["settings"] = report.settings
        return EvalReport(rows=rows, metrics=metrics, settings=report.settings)
    start = time.monotonic()
    mode = _mode(testsuite)
    preds = [predictions.get(ex.id, "") or "" for ex in examples]
    opts = {"testsuite": mode, "k": k, "timeout": timeout, "max_rows": max_rows, "em": em,
            "spider_compat": spider_compat}
    results: dict[str, dict[str, Any]] = {}
    n = len(examples)
    workers = max(1, min(int(workers), os.cpu_count() or 1, n or 1))
    chunk_size = max(1, min(32, n // (workers * 8) or 1))
    chunks = [list(range(i, min(n, i + chunk_size))) for i in range(0, n, chunk_size)]
    bar = ProgressBar("scoring", n, enabled=progress, lazy=True)  # starts after the workers fork

    def on_done(rows: list[dict[str, Any]]) -> None:
        for r in rows:
            results[r["id"]] = r
        bar.advance(len(rows))

    try:
        if workers == 1 or n < 4 * chunk_size:
            for chunk in chunks:
                on_done([score_row(examples[i], preds[i], **opts) for i in chunk])  # type: ignore[arg-type]
        else:
            _JOB.update(examples=examples, preds=preds, opts=opts, score=score_row)
            try:
                lost = _run_pool(chunks, workers, on_done)
                if lost:  # a worker died: retry its rows one per task, isolating the culprit
                    budget = [_MAX_RECOVERY_POOLS]
                    lost = [[i] for i in _recover([i for c in lost for i in c], workers, on_done, budget)]
                for chunk in lost:
                    on_done([_error_row(examples[i], preds[i], "the worker process scoring this row died")
                             for i in chunk])
            finally:
                _JOB.clear()
    finally:
        bar.stop()
    rows = [results.get(ex.id) or _error_row(ex, preds[i], "row was not scored")
            for i, ex in enumerate(examples)]
    seconds = time.monotonic() - start
    settings = {"testsuite": mode, "k": k, "timeout": timeout, "workers": workers,
                "max_rows": max_rows, "em": em, "spider_compat": spider_compat,
                "testsuite_available": testsuite_available(),
                "seconds": round(seconds, 3), "rows_per_second": round(n / seconds, 2) if seconds else None}
    metrics = compute_metrics(rows)
    metrics["settings"] = settings
    return EvalReport(rows=rows, metrics=metrics, settings=settings)


def write_eval_outputs(report: EvalReport, out_dir: str | Path) -> dict[str, Path]:
    """Write metrics.json, per_row.jsonl, report.md, report.html and the PNG charts."""
    from kosql.evaluate.report import write_report

    return write_report(report.rows, report.metrics, out_dir)
