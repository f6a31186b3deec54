"""`kosql data synth --out DIR`: generate the bundled Korean Text2SQL dataset with SQLite databases."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder to write train/dev/test JSONL, dbs/*.sqlite and stats.md into.")
@click.option("--seed", default=0, show_default=True, help="Random seed; the same seed gives identical files.")
@click.option("--per-domain", type=int, default=None,
              help="Training rows per training domain (default: 1650 for full, 160 for small).")
@click.option("--size", type=click.Choice(["small", "full"]), default="full", show_default=True,
              help="small: ~2k train rows in seconds; full: >=20k train rows.")
@click.option("--focus", default=None,
              help="Comma-separated feature tags (e.g. having,join,subquery): extra training rows for them.")
@click.option("--comments", is_flag=True,
              help="Give every column and table its Korean name as a MySQL COMMENT in the DDL (as many Korean "
                   "schemas do); questions, SQL and databases stay the same.")
def command(out_dir: Path, seed: int, per_domain: int | None, size: str, focus: str | None, comments: bool) -> int:
    """Generate Korean question/SQL pairs over multi-table schemas with populated SQLite databases."""
    from rich.console import Console
    from rich.table import Table

    from kosql.data.synth import generate_dataset, parse_focus

    parse_focus(focus)  # fail fast on unknown tags
    console = Console()
    summary = generate_dataset(out_dir, seed=seed, per_domain=per_domain, size=size, focus=focus,
                               progress=console.is_terminal, comments=comments)
    table = Table(title=f"kosql data synth -> {out_dir}")
    table.add_column("split")
    table.add_column("rows", justify="right")
    for split, n in summary.counts.items():
        table.add_row(split, str(n))
    console.print(table)
    console.print(f"{len(summary.domains)} domains ({', '.join(summary.heldout_domains)} held out), "
                  f"empty-result share {summary.empty_share * 100:.1f} %, {summary.seconds:.1f} s. "
                  f"See {out_dir / 'stats.md'}.")
    return 0
