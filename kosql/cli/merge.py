"""`kosql merge --run DIR --out DIR`: merge a run's LoRA adapter into its base model."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--run", "run_dir", required=True, type=click.Path(path_type=Path),
              help="Run folder of `kosql train` / `kosql dpo`.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for the merged model (safetensors + tokenizer).")
@click.option("--dtype", type=click.Choice(["float32", "bfloat16", "float16"]), default=None,
              help="Dtype of the saved weights (default float32).")
@click.option("--overwrite", is_flag=True, help="Write into a non-empty --out folder.")
def command(run_dir: Path, out_dir: Path, dtype: str | None, overwrite: bool) -> int:
    """Merge a LoRA adapter into its base model and save a standard Hugging Face folder."""
    from kosql.train.merge import merge_run

    out = merge_run(run_dir, out_dir, dtype=dtype, overwrite=overwrite)
    click.echo(f"merged model written to {out}")
    return 0
