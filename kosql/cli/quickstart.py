"""`kosql quickstart`: bundled data -> base eval -> fine-tune -> eval -> report."""

from __future__ import annotations

import time
from pathlib import Path

import click

from kosql.models.resolve import DEFAULT_MODEL


@click.command(context_settings={"ignore_unknown_options": False})
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Run folder (default: runs/quickstart-<date-time>); an existing one is resumed.")
@click.option("--model", default=DEFAULT_MODEL, show_default=True,
              help="Base model: an embedded one (qwen2.5-coder-0.5b, qwen2.5-coder-1.5b, smollm2-135m, "
                   "gemma3-270m; `kosql models list`), a local folder or a hub id.")
@click.option("--data", "dataset", default=None,
              help="Dataset: 'bundled:small', 'bundled:small+comments' (Korean column comments in the DDL), "
                   "'bundled:full' or a folder with train/test JSONL [default: the training config's bundled "
                   "dataset, bundled:small for the shipped configs].")
@click.option("--test-per-split", default=60, show_default=True,
              help="Test rows taken from each split (held-out domains, in-domain).")
@click.option("--handwritten", type=click.IntRange(min=0), default=60, show_default=True,
              help="Rows of the hand-written dev set (138 questions people wrote over six databases the "
                   "generator does not know) evaluated beside the test rows, spread over its databases (0 = none).")
@click.option("--method", type=click.Choice(["full", "lora"]), default=None,
              help="Fine-tuning method: 'lora' (the seed's adapters; the default for the Qwen models with "
                   "configs/sft-cpu-qwen-coder.yaml, for gemma3-270m with configs/sft-cpu-gemma3.yaml and for "
                   "other models) or 'full' (every weight; the default for smollm2-135m: configs/"
                   "sft-cpu-smollm2-full.yaml; gemma3-270m in full: configs/sft-cpu-gemma3-full.yaml).")
@click.option("--train-config", default=None, help="SFT config YAML instead of the shipped CPU config of "
                                                      "--model and --method.")
@click.option("--batch-size", default=16, show_default=True, help="Generation batch size.")
@click.option("--max-new-tokens", default=96, show_default=True, help="Generation length limit.")
@click.option("--skip-base", is_flag=True, help="Skip the base-model evaluation.")
@click.option("--repair-beams", type=click.IntRange(min=0), default=0, show_default=True,
              help="Schema-checked decoding for the fine-tuned model: SQL that does not compile against "
                   "the DDL is replaced by the best of N beam candidates that does (0 = off; slower).")
@click.option("--vote", type=click.IntRange(min=0), default=0, show_default=True,
              help="Execution-guided voting for the fine-tuned model: greedy plus K sampled candidates run on "
                   "each row's database, the largest group of equal results wins (0 = off; about 1 + 1.2 K "
                   "times the generation time). The report pairs it with greedy alone on the same rows.")
@click.argument("overrides", nargs=-1)
def command(out: Path | None, model: str, dataset: str | None, test_per_split: int, handwritten: int,
            method: str | None,
            train_config: str | None, batch_size: int, max_new_tokens: int, skip_base: bool, repair_beams: int, vote: int,
            overrides: tuple[str, ...]) -> int:
    """Run the whole pipeline on the embedded defaults (offline, CPU) and write a report.

    OVERRIDES are key=value settings for the fine-tuning config, e.g. train.max_steps=100.
    """
    from kosql.pipeline.quickstart import QuickstartOptions, run_quickstart

    if repair_beams == 1:
        raise click.UsageError("--repair-beams must be 0 (off) or at least 2.")
    if repair_beams and vote:
        raise click.UsageError("--vote and --repair-beams cannot be combined.")
    if out is None:
        out = Path("runs") / f"quickstart-{time.strftime('%Y%m%d-%H%M%S')}"
    opts = QuickstartOptions(out=out, model=model, dataset=dataset, test_per_split=test_per_split,
                             handwritten=handwritten, train_config=train_config, method=method, train_overrides=list(overrides),
                             batch_size=batch_size, max_new_tokens=max_new_tokens, skip_base=skip_base,
                             repair_beams=repair_beams, vote=vote)
    run_quickstart(opts)
    return 0
