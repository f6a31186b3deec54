"""`kosql data synth --out DIR`: generate the bundled Korean Text2SQL dataset with SQLite databases,
the varied dataset over generated schemas (``--varied``), or rows for your own database (``--db``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from kosql.cli.options import verbalizer_options

if TYPE_CHECKING:
    from rich.console import Console


@click.command()
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder to write train/dev/test JSONL (and dbs/*.sqlite, stats.md or summary.json) into.")
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
@click.option("--varied", is_flag=True,
              help="Write the varied dataset instead ('bundled:varied'): rows over a few hundred generated schemas "
                   "in many naming styles and DDL flavours; its test split is the bundled test set.")
@click.option("--db", default=None,
              help="Generate rows for this database instead: a SQLite file or a PostgreSQL URL (opened read-only).")
@click.option("--names", "names_file", default=None, type=click.Path(path_type=Path),
              help="With --db: a glossary file, one 'column: 한국어 이름' or 'table.column: 이름' a line.")
@click.option("--phrasings", default=3, show_default=True, help="With --db: Korean questions per query.")
@click.option("--max-queries", type=int, default=None,
              help="With --db: queries to keep (default: 30 a table, between 60 and 600).")
@click.option("--timeout", default=5.0, show_default=True, help="With --db: seconds each query may run.")
@verbalizer_options
def command(out_dir: Path, seed: int, per_domain: int | None, size: str, focus: str | None, comments: bool,
            varied: bool, db: str | None, names_file: Path | None, phrasings: int, max_queries: int | None,
            timeout: float, verbalizer_model: str | None, verbalizer_url: str | None, verbalize: int) -> int:
    """Generate Korean question/SQL pairs over multi-table schemas with populated SQLite databases."""
    from rich.console import Console

    console = Console()
    if db is not None:
        return _from_database(console, db, out_dir, names_file, phrasings, seed, max_queries, timeout,
                              (verbalizer_model, verbalizer_url, verbalize))
    from kosql.errors import UserError

    if names_file is not None:
        raise UserError("--names is for --db (the Korean names of your database's tables and columns).")
    if verbalizer_model is not None or verbalizer_url is not None:
        raise UserError("--verbalizer-model is for --db (it rewrites the questions generated for your database).")
    if varied:
        from kosql.data.synth import generate_varied

        vs = generate_varied(out_dir, seed=seed, progress=console.is_terminal)
        console.print(f"varied dataset -> {out_dir}: {vs.counts['train']} train, {vs.counts['dev']} dev rows over "
                      f"{vs.schemas} schemas, {vs.counts['test']} test rows (the bundled test set), "
                      f"{vs.seconds:.1f} s.")
        return 0
    return _bundled(console, out_dir, seed, per_domain, size, focus, comments)


def _bundled(console: Console, out_dir: Path, seed: int, per_domain: int | None, size: str, focus: str | None,
             comments: bool) -> int:
    from rich.table import Table

    from kosql.data.synth import generate_dataset, parse_focus

    parse_focus(focus)  # fail fast on unknown tags
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


def _from_database(console: Console, db: str, out_dir: Path, names_file: Path | None, phrasings: int, seed: int,
                   max_queries: int | None, timeout: float, verbalizer: tuple[str | None, str | None, int]) -> int:
    from kosql.pipeline.synth_db import read_names, synth_from_database
    from kosql.pipeline.verbalize import check_verbalizer, load_verbalizer

    model, url, limit = verbalizer
    check_verbalizer(model, url)  # before any work
    backend = load_verbalizer(model, url) if model is not None else None
    names = read_names(names_file) if names_file is not None else None
    s = synth_from_database(db, out_dir, names=names, phrasings=phrasings, seed=seed, max_queries=max_queries,
                            timeout=timeout, progress=console.is_terminal)
    held = ", ".join(s.heldout_templates + s.heldout_tables) or "none"
    console.print(f"{s.queries} queries over {len(s.tables)} tables -> {out_dir}: "
                  f"{s.counts['train']} train, {s.counts['dev']} dev, {s.counts['test']} test rows "
                  f"(test holds out: {held}), {s.seconds:.1f} s.")
    if model is not None and backend is not None:
        from kosql.pipeline.verbalize import verbalize_folder

        v = verbalize_folder(db, out_dir, backend, model=model, limit=limit, seed=seed, timeout=timeout,
                             progress=console.is_terminal)
        console.print(f"{model} rewrote {v.queries} questions: {v.kept} kept (their SQL returned the query's "
                      f"result), {v.mismatched} dropped, {v.unchanged} unchanged, {v.seconds:.0f} s.")
    return 0
