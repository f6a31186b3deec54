"""Generate predictions for a dataset into a resumable JSONL file.

Each finished row is appended as one line and flushed (fsync at the end of every batch), so an
interrupted run leaves a valid file; rerunning skips the ids already there. A last line cut short
by a kill is dropped on resume and that row is generated again.

A row whose generation failed (the backend gave no text, e.g. an API out of retries) is stored with
``"status": "failed"`` and its ``error``, never as an empty answer; a rerun generates it again.
What produced the file (the dataset, model, adapter, prompt format, decoding settings, schema-check
beams) is recorded beside it in ``<out>.meta.json``; resuming with anything else is refused. The
dataset is recorded by its spec and a hash of its rows' id, question and context
(:func:`dataset_record`), so another dataset with the same ids is not resumed as this one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from kosql.data.rows import Example
from kosql.errors import UserError
from kosql.models.base import (
    Backend,
    Generation,
    GenerationParams,
    backend_beam_search,
    backend_prefix_cache,
)
from kosql.models.identifiers import repair_rows_identifiers
from kosql.models.prompting import render_prompt
from kosql.progress import ProgressBar
from kosql.runinfo import first_difference, read_record
from kosql.sql.extract import extract_sql

PRED_KEYS = ("id", "pred", "raw", "prompt_tokens", "completion_tokens", "seconds", "model")


def build_prompts(examples: Sequence[Example], backend: Backend, prompt_format: str = "seed") -> list[str]:
    """The generation prompt of every example.

    The chat format uses the backend's tokenizer chat template; a backend without a tokenizer
    (an API) gets the plain user message and applies the chat format itself.
    """
    return [render_prompt(e.context, e.question, prompt_format, backend) for e in examples]


def prediction_row(example_id: str, gen: Generation, model: str) -> dict[str, Any]:
    """One line of the predictions file (docs/ARCHITECTURE.md); a failed generation gets
    ``status: failed`` and its ``error`` instead of an empty answer."""
    row: dict[str, Any] = {
        "id": example_id,
        "pred": extract_sql(gen.text),
        "raw": gen.text,
        "prompt_tokens": int(gen.prompt_tokens),
        "completion_tokens": int(gen.completion_tokens),
        "seconds": round(float(gen.seconds), 4),
        "model": model,
    }
    if gen.error is not None:
        row.update(pred="", raw="", status="failed", error=gen.error)
    return row


def is_failed(row: dict[str, Any]) -> bool:
    """True for a stored row whose generation failed."""
    return row.get("status") == "failed"


def meta_path(out_path: Path) -> Path:
    """Where the record of what produced ``out_path`` is kept."""
    return out_path.with_name(out_path.name + ".meta.json")


def provenance(backend: Backend, prompt_format: str, params: GenerationParams, repair_beams: int,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """What decides a predictions file's contents: model, prompt format, decoding settings, beams."""
    decoding = {"max_new_tokens": params.max_new_tokens, "temperature": params.temperature,
                "top_p": params.top_p if not params.greedy else 1.0,
                "seed": params.seed if not params.greedy else None, "stop": list(params.stop)}
    out: dict[str, Any] = {"model": backend.name, "adapter": None}
    out.update(extra or {})
    out.update(prompt_format=prompt_format, decoding=decoding, repair_beams=repair_beams)
    return json.loads(json.dumps(out, default=str))


def dataset_record(examples: Sequence[Example], spec: str | None = None) -> dict[str, Any]:
    """``{"spec", "rows", "sha256"}`` of a dataset: the hash covers each row's id, question and context
    (not their order), so two datasets that share ids but differ in a question or a schema differ."""
    digests = sorted(hashlib.sha256(json.dumps([e.id, e.question, e.context], ensure_ascii=False).encode())
                     .hexdigest() for e in examples)
    return {"spec": spec, "rows": len(digests), "sha256": hashlib.sha256("\n".join(digests).encode()).hexdigest()}


def _shown_dataset(record: dict[str, Any]) -> str:
    return (f"{record.get('spec') or 'a dataset'} ({record.get('rows')} rows, "
            f"sha256 {str(record.get('sha256'))[:12]})")


def _check_dataset(out_path: Path, before: dict[str, Any], current: dict[str, Any]) -> None:
    """Refuse resuming predictions recorded for another dataset (by the rows' hash; the spec may differ)."""
    was, now = before.get("dataset"), current.get("dataset")
    if not isinstance(was, dict) or not isinstance(now, dict) or was.get("sha256") == now.get("sha256"):
        return
    raise UserError(f"{out_path} holds predictions for {_shown_dataset(was)}, not {_shown_dataset(now)}; "
                    "give another --out, or --no-resume to start it afresh.")


def check_provenance(out_path: Path, current: dict[str, Any], done: dict[str, dict[str, Any]]) -> None:
    """Refuse to resume ``out_path`` when it was produced by something else than ``current`` (another
    dataset, by its rows' hash, or other settings); record ``current`` beside it otherwise."""
    path = meta_path(out_path)
    before = read_record(path)
    if before is not None:
        _check_dataset(out_path, before, current)
        diff = first_difference(before, current, [k for k in current if k != "dataset"])
        if diff is not None:
            key, was, now = diff
            raise UserError(f"{out_path} holds predictions made with {key}={was!r}, not {now!r}; "
                            "give another --out, or --no-resume to start it afresh.")
    elif done:
        models = {str(r.get("model")) for r in done.values() if r.get("model") is not None}
        other = sorted(models - {str(current["model"])})
        if other:
            raise UserError(f"{out_path} holds predictions of the model {other[0]!r}, not {current['model']!r}; "
                            "give another --out, or --no-resume to start it afresh.")
    tmp = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(json.dumps(current, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _drop_rows(out_path: Path, drop: set[str]) -> None:
    """Rewrite ``out_path`` atomically without the rows whose id is in ``drop``."""
    keep = [line for line in out_path.read_text(encoding="utf-8").splitlines()
            if line.strip() and str(json.loads(line).get("id")) not in drop]
    tmp = out_path.with_name(out_path.name + ".tmp")
    tmp.write_text("".join(line + "\n" for line in keep), encoding="utf-8")
    os.replace(tmp, out_path)


def read_existing(out_path: Path) -> dict[str, dict[str, Any]]:
    """Rows already in ``out_path`` by id; a last line cut short by a kill is truncated away."""
    if not out_path.exists():
        return {}
    data = out_path.read_bytes()
    lines = data.split(b"\n")
    done: dict[str, dict[str, Any]] = {}
    keep = 0
    for lineno, line in enumerate(lines, start=1):
        is_last = lineno == len(lines) or not any(rest.strip() for rest in lines[lineno:])
        if line.strip():
            try:
                obj = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                if is_last:  # half-written by a kill: drop it, the row is generated again
                    break
                raise UserError(f"{out_path}: line {lineno} is not valid JSON; fix or delete the file.") from None
            if not isinstance(obj, dict) or "id" not in obj or "pred" not in obj:
                raise UserError(f"{out_path}: line {lineno} has no 'id' and 'pred'; it is not a kosql "
                                "predictions file, so give another --out.")
            done.setdefault(str(obj["id"]), obj)
        keep = min(len(data), keep + len(line) + 1)
    if keep < len(data):
        with out_path.open("r+b") as fh:
            fh.truncate(keep)
    elif data and not data.endswith(b"\n"):
        with out_path.open("ab") as fh:
            fh.write(b"\n")
    return done


@contextmanager
def _append(out_path: Path) -> Iterator[IO[str]]:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fh = out_path.open("a", encoding="utf-8")
    try:
        yield fh
    finally:
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()


def _check_request(examples: Sequence[Example], repair_beams: int, vote: int) -> None:
    """Refuse what generate_predictions cannot do: a repair-beam count of 1, voting with repair beams,
    voting without databases, and repeated ids."""
    if repair_beams == 1 or repair_beams < 0:
        raise UserError(f"repair beams must be 0 (off) or at least 2, not {repair_beams}.")
    if vote < 0 or (vote and repair_beams):
        raise UserError("--vote takes k >= 0 samples and cannot be combined with --repair-beams.")
    if vote:
        from kosql.vote.rows import check_databases

        check_databases(examples)
    ids = [e.id for e in examples]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise UserError(f"The dataset has the id '{dup}' more than once; ids must be unique to resume.")


def _generation_order(prompts: Sequence[str], backend: Backend) -> list[int]:
    """Indexes of ``prompts`` in the order to generate them: prompt order for a backend with a prefix
    cache (prompts on one schema in one batch: its prefix computed once), else longest first."""
    if backend_prefix_cache(backend):
        return sorted(range(len(prompts)), key=lambda i: prompts[i])
    return sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)


def generate_predictions(
    examples: Sequence[Example],
    backend: Backend,
    out_path: str | Path,
    *,
    prompt_format: str = "seed",
    batch_size: int = 8,
    resume: bool = True,
    progress: bool = True,
    params: GenerationParams | None = None,
    on_batch: Callable[[list[dict[str, Any]]], None] | None = None,
    repair_beams: int = 0,
    source: dict[str, Any] | None = None,
    dataset: dict[str, Any] | None = None,
    vote: int = 0,
) -> list[dict[str, Any]]:
    """Generate for ``examples`` into ``out_path``; returns the prediction rows in input order.

    With ``resume`` rows whose id is already in the file are skipped (failed ones are generated
    again); without it the file is started afresh. ``source`` adds to the record of what produced
    the file (:func:`provenance`, e.g. the adapter path); resuming a file produced otherwise is
    refused. ``dataset`` (:func:`dataset_record`; default: the record of ``examples``) names the rows'
    dataset; give the whole dataset's record when ``examples`` is a part of it (``--limit``), so a
    resume with another part of the same dataset is accepted. Pending rows are generated longest
    prompt first (similar lengths batch well), or, for a backend with a prefix cache, in prompt order
    (rows on one schema batch together).
    ``repair_beams`` >= 2 turns on schema-checked decoding (:func:`repair_rows`); ``vote`` = k > 0
    turns on execution-guided voting over greedy + k samples (:func:`kosql.vote.rows.vote_rows`).
    """
    _check_request(examples, repair_beams, vote)
    out = Path(out_path)
    ids = [e.id for e in examples]
    params = params or GenerationParams(batch_size=batch_size)
    if params.batch_size != batch_size:
        params = dataclasses.replace(params, batch_size=batch_size)
    if not resume:
        out.unlink(missing_ok=True)
        meta_path(out).unlink(missing_ok=True)
    done = read_existing(out) if resume else {}
    record = {"dataset": dataset or dataset_record(examples), **(source or {}), "vote": vote}
    check_provenance(out, provenance(backend, prompt_format, params, repair_beams, record), done)
    retry = {i for i in ids if i in done and is_failed(done[i])}
    if retry:  # failed rows are generated again; their old lines go first (no id twice in the file)
        _drop_rows(out, retry)
        for i in retry:
            del done[i]
    pending = [e for e in examples if e.id not in done]
    prompts = build_prompts(pending, backend, prompt_format) if pending else []
    order = _generation_order(prompts, backend)
    with _Progress(progress, total=len(examples), completed=len(examples) - len(pending)) as bar, \
            _append(out) as fh:
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            gens = backend.generate([prompts[i] for i in idx], params)
            step = max(1, params.num_return_sequences)
            rows = [prediction_row(pending[i].id, gens[k * step], backend.name) for k, i in enumerate(idx)]
            repair_rows_identifiers(rows, [pending[i] for i in idx])
            if repair_beams:
                repair_rows(rows, [pending[i] for i in idx], [prompts[i] for i in idx], backend, params,
                            repair_beams)
            if vote:
                from kosql.vote.rows import vote_rows

                vote_rows(rows, [pending[i] for i in idx], [prompts[i] for i in idx], backend, params, vote,
                          make_prompt=lambda ex: build_prompts([ex], backend, prompt_format)[0])
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                fh.flush()
                done[row["id"]] = row
            os.fsync(fh.fileno())
            bar.advance(rows)
            if on_batch is not None:
                on_batch(rows)
    return [done[i] for i in ids if i in done]


def repair_rows(rows: list[dict[str, Any]], examples: Sequence[Example], prompts: Sequence[str],
                backend: Backend, params: GenerationParams, beams: int) -> int:
    """Schema-checked decoding: a prediction that does not compile against its example's DDL
    (:func:`kosql.db.check.schema_error`: unknown column or table, syntax error) is replaced by the
    most likely of ``beams`` beam-search candidates that does; when none does, the greedy one stays.

    Only the DDL is consulted (an empty database), never the rows or the gold answer. Each row
    touched gets ``repair``: the error, the replaced SQL and the candidate taken (None: none
    compiled). Returns the number of rows whose prediction was replaced.
    """
    from kosql.db.check import schema_error

    bad = [(k, err) for k, (row, ex) in enumerate(zip(rows, examples, strict=True))
           if not is_failed(row) and (err := schema_error(row["pred"], ex.context)) is not None]
    if not bad:
        return 0
    t0 = time.perf_counter()
    gens = backend.generate([prompts[k] for k, _ in bad], candidate_params(backend, params, beams))
    share = (time.perf_counter() - t0) / len(bad)
    replaced = 0
    for j, (k, err) in enumerate(bad):
        row, cands = rows[k], gens[j * beams:(j + 1) * beams]
        pick = next((c for c, g in enumerate(cands) if g.error is None
                     and schema_error(extract_sql(g.text), examples[k].context) is None), None)
        row["repair"] = {"error": err, "greedy": row["pred"], "candidate": pick}
        row["seconds"] = round(float(row["seconds"]) + share, 4)
        if pick is not None:
            gen = cands[pick]
            row.update(pred=extract_sql(gen.text), raw=gen.text,
                       completion_tokens=int(row["completion_tokens"]) + int(gen.completion_tokens))
            replaced += 1
    return replaced


SAMPLE_TEMPERATURE = 0.7  # candidates of a backend without beam search, when decoding is greedy
SAMPLE_TOP_P = 0.95


def candidate_params(backend: Backend, params: GenerationParams, beams: int) -> GenerationParams:
    """How the ``beams`` repair candidates are asked for: beam search where the backend has it (hf),
    else ``beams`` samples (temperature > 0, a distinct seed each), never N greedy copies."""
    if backend_beam_search(backend):
        return dataclasses.replace(params, num_beams=beams, num_return_sequences=beams, temperature=0.0)
    temperature = params.temperature if not params.greedy else SAMPLE_TEMPERATURE
    top_p = params.top_p if not params.greedy else SAMPLE_TOP_P
    return dataclasses.replace(params, num_beams=1, num_return_sequences=beams, temperature=temperature,
                               top_p=top_p)


def repair_counts(rows: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """(predictions that failed the schema check, of those replaced by a beam candidate)."""
    checked = [r["repair"] for r in rows if isinstance(r.get("repair"), dict)]
    return len(checked), sum(1 for r in checked if r.get("candidate") is not None)


def repair_summary(rows: Sequence[dict[str, Any]]) -> str:
    """One line: how many predictions failed the schema check and how many were replaced."""
    checked, fixed = repair_counts(rows)
    return (f"schema check: {checked} of {len(rows)} greedy predictions did not compile against "
            f"their DDL; {fixed} replaced by a beam candidate that does.")


class _Progress:
    """Generation's progress bar (rows done, completion tokens per second), or nothing."""

    def __init__(self, enabled: bool, total: int, completed: int) -> None:
        self.tokens, self.start = 0, time.perf_counter()
        self._bar = ProgressBar("generating", total, enabled=enabled, completed=completed,
                                transient=False, unit="tok/s")

    def __enter__(self) -> _Progress:
        self._bar.start()
        return self

    def advance(self, rows: list[dict[str, Any]]) -> None:
        self.tokens += sum(int(r["completion_tokens"]) for r in rows)
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        self._bar.advance(len(rows), rate=f"{self.tokens / elapsed:.1f}")

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()
