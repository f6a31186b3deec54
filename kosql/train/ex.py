"""In-process generation with the model being trained, and execution accuracy (EX) on dev rows.

EX uses the evaluation engine (``kosql.evaluate.api.evaluate_predictions``) when it is installed;
without it :func:`dev_ex` returns ``{"ex": None, "note": ...}``. SQL is cut out of the model text
with ``kosql.sql.extract.extract_sql`` when available, else at the first stop string.
"""

from __future__ import annotations

import importlib.util
import time
from typing import Any

from kosql.data.rows import Example
from kosql.prompts import STOP_STRINGS, build_prompt


def extract(text: str) -> str:
    """The SQL part of a generation."""
    if importlib.util.find_spec("kosql.sql.extract") is not None:
        from kosql.sql.extract import extract_sql

        return str(extract_sql(text))
    cut = len(text)
    for stop in STOP_STRINGS:
        pos = text.find(stop)
        if pos != -1:
            cut = min(cut, pos + (1 if stop == ";" else 0))
    return text[:cut].strip()


def generate_texts(model: Any, tokenizer: Any, prompts: list[str], *, batch_size: int = 8,
                   max_new_tokens: int = 128, do_sample: bool = False, temperature: float = 1.0,
                   top_p: float = 1.0, num_return_sequences: int = 1, seed: int | None = None) -> list[list[str]]:
    """``num_return_sequences`` continuations per prompt, decoded by the same code as ``kosql generate``
    (:class:`kosql.models.hf.HFBackend` over the in-memory model: stop strings, shared-prefix cache)."""
    from kosql.models.base import GenerationParams
    from kosql.models.hf import HFBackend

    was_training = model.training
    model.eval()
    old_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    params = GenerationParams(max_new_tokens=max_new_tokens, temperature=temperature if do_sample else 0.0,
                              top_p=top_p, num_return_sequences=num_return_sequences, batch_size=batch_size,
                              seed=seed or 0)
    n = max(1, num_return_sequences)
    try:
        gens = HFBackend.from_loaded(model, tokenizer).generate(prompts, params)
    finally:
        tokenizer.padding_side = old_side
        if was_training:
            model.train()
    return [[g.text for g in gens[i * n:(i + 1) * n]] for i in range(len(prompts))]


def predict_sql(model: Any, tokenizer: Any, rows: list[Example], *, fmt: str = "seed", batch_size: int = 8,
                max_new_tokens: int = 128) -> dict[str, str]:
    """Greedy SQL for each row, keyed by row id."""
    prompts = [build_prompt(r.context, r.question, fmt, tokenizer) for r in rows]
    texts = generate_texts(model, tokenizer, prompts, batch_size=batch_size, max_new_tokens=max_new_tokens)
    return {r.id: extract(t[0]) for r, t in zip(rows, texts, strict=True)}


def score_predictions(rows: list[Example], preds: dict[str, str], *, timeout: float = 5.0) -> dict[str, Any]:
    """EX of ``preds`` on ``rows`` with the evaluation engine; ``ex`` is None when it is not installed."""
    if importlib.util.find_spec("kosql.evaluate.api") is None:
        return {"ex": None, "rows": len(rows), "note": "kosql.evaluate.api is not available, EX not computed"}
    from kosql.evaluate.api import evaluate_predictions
    from kosql.evaluate.categories import UNSCORED

    report = evaluate_predictions(rows, preds, timeout=timeout, workers=1, progress=False)
    scored = [r for r in report.rows if r.get("category") not in UNSCORED]
    hits = sum(1 for r in scored if r.get("category") == "correct")
    categories: dict[str, int] = {}
    for r in report.rows:
        categories[str(r.get("category"))] = categories.get(str(r.get("category")), 0) + 1
    return {"ex": round(hits / len(scored), 4) if scored else None, "rows": len(scored),
            "categories": categories}


def dev_ex(model: Any, tokenizer: Any, rows: list[Example], *, fmt: str = "seed", batch_size: int = 8,
           max_new_tokens: int = 128, timeout: float = 5.0) -> dict[str, Any]:
    """Greedy-decode ``rows`` with the in-memory model and score EX; adds ``seconds`` and ``preds``."""
    t0 = time.perf_counter()
    preds = predict_sql(model, tokenizer, rows, fmt=fmt, batch_size=batch_size, max_new_tokens=max_new_tokens)
    result = score_predictions(rows, preds, timeout=timeout)
    result["seconds"] = round(time.perf_counter() - t0, 2)
    result["preds"] = preds
    return result
