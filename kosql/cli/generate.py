"""`kosql generate`: generate SQL for a dataset with a model backend (resumable JSONL output)."""

from __future__ import annotations

import os
import time
from typing import Any

import click

from kosql.cli.options import BackendOptions, backend_options
from kosql.prompts import PROMPT_FORMATS


@click.command(name="generate")
@click.option("--data", "data", required=True,
              help="Dataset with context and question: a file (JSONL/CSV/...), a folder with test.jsonl or "
                   "'bundled:<size>' (its test split).")
@backend_options()
@click.option("--prompt-format", type=click.Choice(PROMPT_FORMATS), default=None,
              help="Prompt format [default: the one the --adapter (or a kosql-trained --model folder) was "
                   "trained with, else the model's own: chat for the embedded Qwen models (seed on a backend "
                   "that cannot take a chat prompt), seed for others].")
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--max-new-tokens", type=click.IntRange(min=1), default=128, show_default=True)
@click.option("--temperature", type=click.FloatRange(min=0.0), default=0.0, show_default=True,
              help="0 = greedy decoding.")
@click.option("--top-p", type=click.FloatRange(min=0.0, max=1.0), default=1.0, show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N rows.")
@click.option("--load-in-4bit", is_flag=True, help="4-bit bitsandbytes loading (hf backend, CUDA only).")
@click.option("--repair-beams", type=click.IntRange(min=0), default=0, show_default=True,
              help="Schema-checked decoding: SQL that does not compile against the row's DDL (unknown "
                   "column or table, syntax error) is replaced by the best of N beam-search candidates "
                   "that does (0 = off; N >= 2; the openai and vllm backends sample N candidates at "
                   "temperature 0.7 instead). Uses the DDL only, never the database's rows.")
@click.option("--vote", type=click.IntRange(min=0), default=0, show_default=True,
              help="Execution-guided voting: the greedy SQL plus K sampled candidates run on the row's "
                   "database (read-only, time-limited; a failed one is transpiled to SQLite, an unknown "
                   "column retried once); the largest group of equal results wins, ties to greedy "
                   "(0 = off). Rows record the vote's share and candidates.")
@click.option("--no-resume", is_flag=True, help="Start the output file afresh instead of resuming it.")
@click.option("--out", "out", required=True,
              help="Predictions JSONL to write (resumed when it exists and was made for the same dataset with "
                   "the same model, adapter, prompt format and decoding; never the --data file).")
def command(data: str, backend_options: BackendOptions, prompt_format: str | None, batch_size: int,
            max_new_tokens: int, temperature: float, top_p: float, limit: int | None, load_in_4bit: bool,
            repair_beams: int, vote: int, no_resume: bool, out: str) -> int:
    """Generate SQL for every row of --data into --out (rerun to resume after an interruption)."""
    from rich.console import Console

    from kosql.data.resolve import load_dataset, resolve_source
    from kosql.data.save import refuse_overwrite
    from kosql.models.base import GenerationParams
    from kosql.models.runner import dataset_record, generate_predictions, is_failed, repair_summary

    console = Console(stderr=True)
    spec = backend_options
    backend = spec.kind
    if repair_beams == 1:
        raise click.UsageError("--repair-beams must be 0 (off) or at least 2.")
    refuse_overwrite([out], [resolve_source(data, "test")], "--out")
    examples = load_dataset(data, "test")
    dataset = dataset_record(examples, data)  # the whole dataset: resuming with another --limit is fine
    if limit is not None:
        examples = examples[:limit]
    opts: dict[str, Any] = {}
    if load_in_4bit:
        if backend != "hf":
            raise click.UsageError("--load-in-4bit works with the hf backend only.")
        opts["load_in_4bit"] = True
    spec.api_options()  # API settings given to another backend are refused before the model loads
    with console.status(f"Loading {spec.model} ({backend}) ..."):
        generator = spec.load(**opts)
    prompt_format = spec.prompt_format(generator, prompt_format)
    params = GenerationParams(max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
                              batch_size=batch_size)
    start = time.perf_counter()
    source = {"backend": backend, "adapter": os.path.abspath(spec.adapter) if spec.adapter else None}
    rows = generate_predictions(examples, generator, out, prompt_format=prompt_format,
                                batch_size=batch_size, resume=not no_resume, params=params,
                                repair_beams=repair_beams, source=source, dataset=dataset, vote=vote)
    seconds = time.perf_counter() - start
    tokens = sum(int(r.get("completion_tokens", 0)) for r in rows)
    failed = [r for r in rows if is_failed(r)]
    empty = sum(1 for r in rows if not r.get("pred") and not is_failed(r))
    console.print(f"Wrote {len(rows)} predictions to {out} ({empty} without SQL); "
                  f"{tokens} completion tokens in total, this run took {seconds:.1f} s.")
    if repair_beams:
        console.print(repair_summary(rows))
    if vote:
        from kosql.vote.rows import vote_summary

        console.print(vote_summary(rows))
    if failed:
        console.print(f"{len(failed)} rows failed to generate (stored as failed; first: {failed[0].get('error')}); "
                      "run the same command again to retry them.")
        return 1
    return 0
