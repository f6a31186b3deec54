"""`kosql data clean FILE --out OUT`: drop empty, broken and duplicate rows (never over the input)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from kosql.cli.data_common import SOURCE_HELP, column_options, console, load_source, row_progress
from kosql.data.clean import DroppedRow, clean_examples
from kosql.data.save import refuse_overwrite, save_examples, write_records


@click.command(short_help="Drop empty, broken and duplicate rows.", help=f"Clean SOURCE ({SOURCE_HELP}): drop empty rows, rows whose SQL does not parse "
                    "or names unknown tables/columns, and exact or normalized duplicates (same "
                    "question + same SQL after sqlglot normalization). Deterministic: the first "
                    "occurrence is kept. Writes JSONL, or CSV when --out ends with .csv.")
@click.argument("source")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Where to write the kept rows.")
@click.option("--dropped", "dropped_path", type=click.Path(dir_okay=False),
              help="Where to write the dropped rows with their reason [default: OUT.dropped.jsonl].")
@click.option("--no-sql-check", is_flag=True, help="Keep rows whose SQL/DDL does not parse or does not match.")
@click.option("--no-dedup", is_flag=True, help="Keep duplicate rows.")
@click.option("--dialect", default=None, help="SQL dialect of the answers (default: try default, MySQL, PostgreSQL).")
@click.option("--judge-model", default=None,
              help="Also ask this LLM (OpenAI-compatible API) whether each row's SQL answers its question; "
                   "rows judged 'no' are dropped (reason judge_no, with the judge's reason).")
@click.option("--base-url", default=None, help="The judge server, e.g. https://api.openai.com/v1 (with --judge-model).")
@click.option("--api-key-env", default=None,
              help="Environment variable holding the judge API key [default: OPENAI_API_KEY; optional for localhost].")
@click.option("--judge-dir", default=None, type=click.Path(file_okay=False),
              help="Folder of the resumable judgments.jsonl and report.md [default: OUT.judge/].")
@click.option("--concurrency", default=16, show_default=True, help="Judge requests in flight at most.")
@click.option("--rpm", default=300.0, show_default=True, help="Judge requests per minute at most.")
@column_options
def command(source: str, out: str, dropped_path: str | None, no_sql_check: bool, no_dedup: bool,
            dialect: str | None, judge_model: str | None = None, base_url: str | None = None,
            api_key_env: str | None = None, judge_dir: str | None = None, concurrency: int = 16,
            rpm: float = 300.0, **cols: Any) -> int:
    con = console()
    out_p = Path(out)
    dropped_p = Path(dropped_path) if dropped_path else out_p.with_name(out_p.stem + ".dropped.jsonl")
    refuse_overwrite([out_p], [source], "--out")
    refuse_overwrite([dropped_p], [source], "--dropped")
    examples = load_source(source, cols)
    with row_progress(con, len(examples), "cleaning") as on_row:
        result = clean_examples(examples, check_sql=not no_sql_check, dedup=not no_dedup,
                                dialect=dialect, on_row=on_row)
    dropped = [{"index": d.index, "row": d.index + 1, "id": d.id, "reason": d.reason, "detail": d.detail}
               for d in result.dropped]
    if judge_model:
        judge_p = Path(judge_dir) if judge_dir else out_p.with_name(out_p.name + ".judge")
        position = {id(ex): i for i, ex in enumerate(examples)}
        judged = _judge_pass(result.kept, judge_model, base_url, api_key_env, judge_p, concurrency, rpm)
        result.kept = judged.kept
        dropped += [{"index": position.get(id(d.example), -1), "row": position.get(id(d.example), -2) + 1,
                     "id": d.example.id, "reason": "judge_no", "detail": d.reason} for d in judged.dropped]
        result.dropped.extend(DroppedRow(position.get(id(d.example), -1), d.example.id, "judge_no", d.reason)
                              for d in judged.dropped)
    save_examples(out_p, result.kept)
    write_records(dropped_p, sorted(dropped, key=lambda r: r["index"]))

    con.print(f"{source}: kept {len(result.kept)} of {result.total} rows", style="bold")

    table = Table()
    table.add_column("reason")
    table.add_column("dropped", justify="right")
    judged_no = sum(d.reason == "judge_no" for d in result.dropped)
    for reason, n in {**result.counts, **({"judge_no": judged_no} if judge_model else {})}.items():
        table.add_row(reason, str(n))
    table.add_row("kept", str(len(result.kept)), style="bold")
    con.print(table)
    con.print(f"kept rows written to {out_p}; dropped rows to {dropped_p}")
    return 0


def _judge_pass(kept: list[Any], model: str, base_url: str | None, api_key_env: str | None,
                judge_dir: Path, concurrency: int, rpm: float) -> Any:
    """The judge pass over the rows the rules kept; a UserError while any judgment failed."""
    from kosql.errors import UserError
    from kosql.evaluate.judge_clean import judge_clean, report_markdown
    from kosql.http.client import ClientConfig, resolve_api_key

    if not base_url:
        raise UserError("--judge-model needs --base-url (the judge server, e.g. https://api.openai.com/v1).")
    if concurrency < 1 or rpm <= 0:
        raise UserError("--concurrency and --rpm must be positive.")
    key = resolve_api_key(base_url, api_key_env, explicit=api_key_env is not None)
    config = ClientConfig(base_url=base_url, api_key=key, rpm=rpm, concurrency=concurrency)
    judged = judge_clean(kept, model=model, config=config, work_dir=judge_dir)
    (judge_dir / "report.md").write_text(report_markdown(judged, model=model, total=len(kept)), encoding="utf-8")
    console().print(f"judge {model}: {judged.sent} rows sent, {judged.reused} reused from {judge_dir}; "
                    f"{len(judged.dropped)} judged 'no', {len(judged.unparsed)} without a verdict (kept)")
    if judged.failed:
        raise UserError(f"{len(judged.failed)} rows could not be judged (first: {next(iter(judged.failed.values()))}); "
                        f"nothing was written; rerun the same command to retry them ({judge_dir} keeps the rest).")
    return judged
