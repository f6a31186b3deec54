"""`kosql ask`: ask a live database a question in Korean; the SQL is guarded, cost-checked and run
read-only (torch is imported only when the model is loaded)."""

from __future__ import annotations

import json
from typing import Any

import click

from kosql.cli.options import BackendOptions, backend_options


@click.command(name="ask")
@click.argument("question")
@click.option("--db", required=True, help="The database: a SQLite file, a SQLAlchemy URL "
                                          "(postgresql://user:password@host:port/dbname) or bundled:<name> "
                                          "(a database of the bundled dataset, e.g. bundled:hr).")
@backend_options(serving=True)
@click.option("--policy", "policy_path", default=None,
              help="Guard policy YAML [default: kosql's built-in policy].")
@click.option("--allow-expensive", is_flag=True, help="Run a query even when the cost check finds it over budget.")
@click.option("--sql", "given_sql", default=None, help="Skip the model: guard, cost-check and run this SQL.")
@click.option("--comments", "comments_file", default=None,
              help="DDL file with COMMENTs (e.g. Korean column names) merged into the schema's DDL "
                   "(SQLite stores no comments).")
@click.option("--prompt-budget", type=click.IntRange(min=50), default=1500, show_default=True,
              help="Most DDL tokens in the prompt; bigger schemas are cut to the tables the question needs.")
@click.option("--max-new-tokens", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--vote", type=click.IntRange(min=0), default=0, show_default=True,
              help="Execution-guided voting: the greedy SQL plus K sampled candidates, each run through the "
                   "guard read-only; the largest group of equal results wins (ties to greedy) and its share "
                   "is printed as the confidence (0 = off: one greedy answer).")
@click.option("--min-confidence", type=click.FloatRange(min=0.0, max=1.0), default=0.5, show_default=True,
              help="With --vote: below this share kosql says it is not sure and shows the candidates' SQL "
                   "instead of one answer (exit 1).")
@click.option("--show-prompt", is_flag=True, help="Print the prompt sent to the model.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def command(question: str, db: str, backend_options: BackendOptions, policy_path: str | None,
            allow_expensive: bool, given_sql: str | None, comments_file: str | None, prompt_budget: int,
            max_new_tokens: int, vote: int, min_confidence: float, show_prompt: bool, as_json: bool) -> int:
    """Answer QUESTION from --db: exit 0 with rows, 1 when the model call failed or the query was
    refused or failed (or, with --vote, when the vote is below --min-confidence)."""
    from kosql.ask.dbspec import resolve_db
    from kosql.ask.service import Asker
    from kosql.models.base import GenerationParams, ModelCallFailed
    from kosql.sql.guard import load_policy

    db = resolve_db(db)
    policy = load_policy(policy_path)
    from kosql.ask.dbspec import read_comments

    comments = read_comments(comments_file)
    asker = Asker(db, policy=policy, allow_expensive=allow_expensive, prompt_budget=prompt_budget,
                  comments_ddl=comments, params=GenerationParams(max_new_tokens=max_new_tokens))
    try:
        for line in asker.write_privileges():
            click.echo(f"Warning: the database role can write ({line}); connect as a read-only role "
                       "(docs/ask.md).", err=True)
        if given_sql is not None:
            if vote:
                raise click.UsageError("--vote votes over the model's candidates; --sql skips the model.")
            _, tables = asker.prompt(question)
            result = asker.run_sql(question, given_sql, tables=tables)
        else:
            asker.backend = _load_backend(backend_options)
            asker.prompt_format = backend_options.prompt_format(asker.backend)
            if show_prompt:
                click.echo(asker.prompt(question)[0], err=True)
            result = asker.ask(question, vote=vote, min_confidence=min_confidence)
    except ModelCallFailed as exc:  # no SQL came back: say so, not "the query is empty"
        click.echo(json.dumps({"question": question, "error": str(exc), "status": "model_call_failed"},
                              ensure_ascii=False) if as_json else f"Error: {exc}", err=not as_json)
        return 1
    finally:
        asker.close()
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        _print(result)
    return 0 if result.error is None and (result.vote is None or result.vote.get("confident")) else 1


def _load_backend(spec: BackendOptions) -> Any:
    spec.api_options()  # API settings given to another backend are refused before the model loads
    click.echo(f"Loading {spec.model} ({spec.kind}) ...", err=True)
    return spec.load()


def _print(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    console.print(f"[bold]Tables in the prompt:[/bold] {', '.join(result.tables) or '-'}")
    console.print(f"[bold]SQL:[/bold] {result.sql or '(none)'}")
    verdict = result.verdict
    if verdict.allowed:
        notes = f" ({'; '.join(verdict.notes)})" if verdict.notes else ""
        console.print(f"[bold]Guard:[/bold] allowed{notes}\n[bold]Runs:[/bold] {verdict.sql}")
    else:
        console.print(f"[bold]Guard:[/bold] refused: {verdict.reason}")
    if result.cost:
        console.print(f"[bold]Cost:[/bold] {result.cost}")
    if not _print_vote(console, result):
        return
    if result.error:
        console.print(f"[bold red]Not run:[/bold red] {result.error}" if not result.columns
                      else f"[red]{result.error}[/red]")
        return
    table = Table(*result.columns, show_lines=False)
    for row in result.rows:
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    console.print(table)
    more = " (more rows exist; the policy's max_rows caps them)" if result.truncated else ""
    console.print(f"{len(result.rows)} rows{more}.")


def _print_vote(console: Any, result: Any) -> bool:
    """The repair and the vote's confidence (kosql.vote.ask.describe_vote); False when the vote is
    not sure, so no rows are shown as the answer."""
    if result.repair:
        how = "transpiled it" if result.repair.get("how") == "transpiled" else "asked the model once more"
        console.print(f"Repaired: the model wrote {result.repair.get('sql')} ({result.repair.get('error')}); "
                      f"kosql {how}.", markup=False)
    if result.vote is None:
        return True
    from kosql.vote.ask import describe_vote

    for line in describe_vote(result.vote):
        console.print(line, markup=False)
    return bool(result.vote.get("confident")) or bool(result.error)
