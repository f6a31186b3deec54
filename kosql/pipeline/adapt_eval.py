"""The evaluation sets of ``kosql adapt`` and their scoring on the user's own database.

Three sets, each scored for the base and the adapted model on the same rows:

- ``synthetic``: held-out rows of the synthetic test split (templates and tables training never saw);
- ``gold``: the user's own questions (``--gold``, ko_text2sql JSONL: ``question`` + ``answer``; a row
  without ``context`` gets the live schema as ``kosql ask`` shows it);
- ``feedback``: the corrections saved from the web page (:mod:`kosql.serve.feedback`) for this database.

A SQLite database is scored as every dataset is (``db_path``, :mod:`kosql.evaluate.api`). PostgreSQL has
no file: the rows carry ``db_url`` and :func:`score_on_database` executes gold and prediction through
the read-only connector (:func:`kosql.ask.connect.open_database`) with the same EX comparison.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from kosql.data.rows import Example
from kosql.errors import UserError

SETS: tuple[tuple[str, str], ...] = (("synthetic", "synthetic test"), ("gold", "your questions"),
                                     ("feedback", "saved corrections"))


def is_url(db: str) -> bool:
    return "://" in db


def db_fields(db: str) -> dict[str, str]:
    """What a row needs to be executed on ``db``: ``db_path`` (SQLite) or ``db_url`` (password kept,
    never written to a file: rows on disk get it from the run's options)."""
    return {"db_url": db} if is_url(db) else {"db_path": str(Path(db).expanduser().resolve())}


def read_gold(path: Path, db_id: str, context: str, db: str) -> list[Example]:
    """The user's questions: one JSON object a line with ``question`` and ``answer`` (``context``,
    ``id`` optional). UserError naming the file and line of a row it cannot use."""
    try:
        lines = path.expanduser().read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"--gold: cannot read '{path}' ({exc.__class__.__name__}).") from None
    rows: list[Example] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            raise UserError(f"--gold: line {n} of '{path}' is not JSON.") from None
        if not isinstance(obj, dict) or not str(obj.get("question") or "").strip() \
                or not str(obj.get("answer") or "").strip():
            raise UserError(f"--gold: line {n} of '{path}' needs a 'question' and an 'answer' (the SQL).")
        rows.append(Example(id=f"gold-{n:04d}", db_id=db_id, context=str(obj.get("context") or context),
                            question=str(obj["question"]).strip(), answer=str(obj["answer"]).strip(),
                            extra={"split": "gold", **db_fields(db)}))
    if not rows:
        raise UserError(f"--gold: '{path}' holds no questions.")
    return rows


def read_feedback(path: Path, db: str, db_id: str) -> list[Example]:
    """The corrections saved from the web page for this database (rows with its ``db_path``, or its
    ``db_id`` for a URL); a missing file gives none, a malformed line is skipped."""
    if not path.expanduser().is_file():
        return []
    fields = db_fields(db)
    rows: list[Example] = []
    for line in path.expanduser().read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(obj, dict) or not obj.get("question") or not obj.get("answer"):
            continue
        same = (str(Path(str(obj["db_path"])).resolve()) == fields["db_path"] if "db_path" in fields and obj.get("db_path")
                else "db_url" in fields and obj.get("db_id") == db_id and not obj.get("db_path"))
        if same:
            rows.append(Example(id=f"feedback-{len(rows):04d}", db_id=db_id, context=str(obj.get("context") or ""),
                                question=str(obj["question"]), answer=str(obj["answer"]),
                                extra={"split": "feedback", **fields}))
    return rows


def for_disk(rows: list[Example]) -> list[Example]:
    """``rows`` as written to the run folder: a PostgreSQL URL without its password."""
    from kosql.pipeline.synth_db import _public_url

    return [replace(r, extra={**r.extra, "db_url": _public_url(str(r.extra["db_url"]))}) if r.extra.get("db_url")
            else r for r in rows]


def score_on_database(rows: list[dict[str, Any]], examples: list[Example], db: str,
                      timeout: float = 5.0, max_rows: int = 10000) -> list[dict[str, Any]]:
    """EX of already scored ``rows`` (EM done, no database) computed on ``db`` through its read-only
    connector: the PostgreSQL path of :func:`kosql.evaluate.api.score_row`."""
    from kosql.ask.connect import open_database
    from kosql.evaluate.api import score_execution

    by_id = {e.id: e for e in examples}
    connector = open_database(db)
    try:
        def run(sql: str) -> Any:
            return connector.execute(sql.strip().rstrip(";"), max_rows=max_rows, timeout=timeout, denied_columns=[])

        for row in rows:
            ex = by_id.get(str(row.get("id")))
            if ex is None or row.get("category") == "generation_failed":
                continue
            try:
                score_execution(row, run, ex.answer, str(row.get("pred") or ""))
            except Exception as exc:  # a driver failure is this row's error, never a wrong answer
                row["category"], row["ex"], row["error"] = "error", None, f"{type(exc).__name__}: {exc}"
    finally:
        connector.close()
    return rows


def evaluate_set(rows: list[Example], out_dir: Path, target: Any, settings: Any, db: str) -> list[dict[str, Any]]:
    """Generate and score ``rows`` with ``target`` into ``out_dir`` (resumable); PostgreSQL rows are
    executed on the server (:func:`score_on_database`) and the eval outputs rewritten with that EX."""
    from kosql.pipeline.steps import generate_and_eval

    if not is_url(db):
        return list(generate_and_eval(rows, out_dir, target, settings).rows)
    plain = [replace(r, extra={k: v for k, v in r.extra.items() if k not in ("db_url", "db_path")}) for r in rows]
    outcome = generate_and_eval(plain, out_dir, target, replace(settings, testsuite="never"))
    scored = score_on_database(list(outcome.rows), rows, db, timeout=settings.timeout)
    from kosql.evaluate.api import EvalReport, write_eval_outputs
    from kosql.evaluate.stats import compute_metrics

    write_eval_outputs(EvalReport(rows=scored, metrics=compute_metrics(scored)), outcome.eval_dir)
    return scored
