"""Generated questions rewritten by a model as people ask them, kept only when a round trip agrees.

``kosql data synth --db ... --verbalizer-model M`` and ``kosql adapt --verbalizer-model M``: for up to
``limit`` queries of the training split (one question of each, chosen by a seeded draw), the
verbalizer model rewrites the generated Korean question in its own words; the same model then writes
SQL for the rewrite over the row's schema, and the rewrite is kept, as one more training row beside
the generated ones, only when that SQL returns the same result on the database as the query the
question was generated from (:func:`kosql.sql.compare.rows_match`). A rewrite that changed the meaning
is thus dropped, and so is one the model cannot read back.

The model is an embedded model run here (``kosql models list``) or, with ``--verbalizer-url``, a model
behind an OpenAI-compatible endpoint. The rows go into ``train.jsonl``; ``summary.json`` records
what was tried and kept under ``verbalized``.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from kosql.data.rows import Example, read_jsonl, write_jsonl
from kosql.errors import UserError
from kosql.models.base import Backend, GenerationParams, backend_tokenizer, check_generated

DEFAULT_LIMIT = 100
CHUNK = 8  # prompts a generate call: the progress bar moves between calls
REWRITE_PROMPT = """다음은 데이터베이스에 묻는 한국어 질문입니다. 같은 뜻의 질문을, 회사 동료가 실제로 물을 법한 자연스러운 한국어 한 문장으로 바꿔 쓰세요.
- 값, 숫자, 날짜, 조건은 하나도 빼거나 바꾸지 마세요 (값의 따옴표는 없어도 됩니다).
- 말투, 어순, 낱말은 자유롭게 바꾸세요. '테이블', '컬럼', '레코드' 같은 데이터베이스 용어는 쓰지 마세요.
- 바꾼 질문 한 줄만 쓰세요.

질문: {question}
바꾼 질문:"""


@dataclass
class VerbalizeStats:
    queries: int = 0  # training queries rewritten (at most ``limit``)
    kept: int = 0  # rewrites whose SQL returned the query's result
    unchanged: int = 0  # empty rewrites or the generated question again
    mismatched: int = 0  # the rewrite's SQL failed or returned another result
    seconds: float = 0.0


def check_verbalizer(model: str | None, url: str | None) -> None:
    """The UserError a ``--verbalizer-model`` / ``--verbalizer-url`` pair gets before any work: a URL
    without a model's name, or an embedded model kosql does not have."""
    if url is not None and model is None:
        raise UserError("--verbalizer-url needs --verbalizer-model (the model's name at that endpoint).")
    if model is not None and url is None:
        from kosql.models.resolve import check_model

        check_model(model)


def load_verbalizer(model: str, url: str | None = None) -> Backend:
    """The verbalizer backend: ``model`` behind the OpenAI-compatible ``url``, else the embedded model
    run here with its default backend (UserError for a model kosql does not have)."""
    from kosql.models.registry import default_backend, load_backend

    if url:
        return load_backend("openai", model, base_url=url)
    from kosql.models.resolve import check_model

    check_model(model)
    return load_backend(default_backend(model), model)


def rewrite_prompt(backend: Backend, question: str) -> str:
    """The rewrite request for ``question`` in the backend's chat template (an API applies its own)."""
    text = REWRITE_PROMPT.format(question=question)
    tokenizer = backend_tokenizer(backend)
    if tokenizer is None or not getattr(tokenizer, "chat_template", None):
        return text
    return str(tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                             add_generation_prompt=True))


def clean_rewrite(text: str) -> str:
    """The first line of a generation, without a leading label or surrounding quotes."""
    line = next((x.strip() for x in text.strip().splitlines() if x.strip()), "")
    for label in ("바꾼 질문:", "질문:"):
        line = line.removeprefix(label).strip()
    if len(line) >= 2 and line[0] == line[-1] and line[0] in "\"'“”":
        line = line[1:-1].strip()
    return line


def _generate(backend: Backend, prompts: Sequence[str], params: GenerationParams, bar: Any) -> list[str]:
    texts: list[str] = []
    for i in range(0, len(prompts), CHUNK):
        gens = check_generated(backend.generate(prompts[i:i + CHUNK], params))  # a failed call is said
        texts += [g.text for g in gens]
        bar.advance(len(gens))
    return texts


def verbalize_rows(rows: Sequence[Example], backend: Backend, execute: Callable[[str], list[tuple[Any, ...]] | None],
                   *, model: str, limit: int = DEFAULT_LIMIT, seed: int = 0,
                   progress: bool = False) -> tuple[list[Example], VerbalizeStats]:
    """Rewrites of one question of up to ``limit`` queries of ``rows`` kept by the round trip (module
    docstring); ``backend`` runs ``model``; ``execute`` runs SQL on the database (None when it fails)."""
    from kosql.models.prompting import default_prompt_format, render_prompt
    from kosql.progress import ProgressBar
    from kosql.sql.compare import order_matters, rows_match
    from kosql.sql.extract import extract_sql

    start = time.perf_counter()
    first: dict[str, Example] = {}
    asked: dict[str, set[str]] = {}
    for row in rows:
        first.setdefault(row.answer, row)
        asked.setdefault(row.answer, set()).add(row.question)
    picked = random.Random(f"kosql-verbalize:{seed}").sample(list(first.values()), min(limit, len(first)))
    stats = VerbalizeStats(queries=len(picked))
    bar = ProgressBar("rewriting questions (a model, then its SQL)", 2 * len(picked), enabled=progress)
    bar.start()
    try:
        texts = _generate(backend, [rewrite_prompt(backend, r.question) for r in picked],
                          GenerationParams(max_new_tokens=96, temperature=0.7, top_p=0.95, stop=("\n",), seed=seed),
                          bar)
        pairs = [(r, clean_rewrite(t)) for r, t in zip(picked, texts, strict=True)]
        fresh = [(r, q) for r, q in pairs if q and q not in asked[r.answer]]
        stats.unchanged = len(pairs) - len(fresh)
        bar.advance(stats.unchanged)
        fmt = default_prompt_format(model, backend=backend)
        sqls = _generate(backend, [render_prompt(r.context, q, fmt, backend) for r, q in fresh],
                         GenerationParams(max_new_tokens=256), bar)
    finally:
        bar.stop()
    kept: list[Example] = []
    for (row, question), text in zip(fresh, sqls, strict=True):
        want, got = execute(row.answer.rstrip(";")), execute(extract_sql(text))
        if want is not None and got is not None and rows_match(want, got, order_matters=order_matters(row.answer)):
            kept.append(replace(row, id=f"{row.id}-v", question=question, extra={**row.extra, "verbalized": True}))
        else:
            stats.mismatched += 1
    stats.kept = len(kept)
    stats.seconds = round(time.perf_counter() - start, 1)
    return kept, stats


def verbalize_folder(db: str, out_dir: Path, backend: Backend, *, model: str, limit: int = DEFAULT_LIMIT, seed: int = 0,
                     timeout: float = 5.0, progress: bool = False) -> VerbalizeStats:
    """Add the kept rewrites of ``out_dir/train.jsonl`` (written by ``synth_from_database`` for ``db``) to
    that file and record the counts in its ``summary.json``."""
    from kosql.pipeline.synth_db import _executor, _open, _translator
    from kosql.progress import ProgressBar

    train = read_jsonl(out_dir / "train.jsonl")
    connector, _ = _open(db)
    try:
        execute = _executor(connector, _translator(connector.dialect), timeout, ProgressBar("", 0, enabled=False))
        kept, stats = verbalize_rows(train, backend, execute, model=model, limit=limit, seed=seed, progress=progress)
    finally:
        connector.close()
    write_jsonl(out_dir / "train.jsonl", [*train, *kept])
    summary_path = out_dir / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    summary["verbalized"] = {"model": model, **asdict(stats)}
    summary["counts"]["train"] = len(train) + len(kept)
    summary_path.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return stats
