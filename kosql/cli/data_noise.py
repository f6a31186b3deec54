"""`kosql data noise`: write a "raw" (noisy) copy of a dataset for the clean-vs-raw experiment."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from kosql.errors import UserError


@click.command()
@click.argument("source")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output JSONL (never the input).")
@click.option("--rate", default=0.25, show_default=True, help="Share of rows made noisy.")
@click.option("--seed", default=0, show_default=True, help="Random seed.")
def command(source: str, out: Path, rate: float, seed: int) -> int:
    """Add duplicates, broken SQL, unknown columns, empty questions and wrong answers to SOURCE."""
    from kosql.data.load import load_examples
    from kosql.data.noise import add_noise
    from kosql.data.rows import write_jsonl

    if Path(source).resolve() == out.resolve():
        raise UserError(f"{out}: refusing to write over the input; choose another --out.")
    if not 0.0 <= rate <= 1.0:
        raise UserError(f"--rate {rate}: must be between 0 and 1.")
    rows = add_noise(load_examples(source), rate=rate, seed=seed)
    write_jsonl(out, rows)
    counts = Counter(str(r.extra.get("noise")) for r in rows if r.extra.get("noise"))
    click.echo(f"wrote {len(rows)} rows to {out}; noise: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0
