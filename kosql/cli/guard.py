"""`kosql guard`: check SQL against a policy and print each verdict (no database, no torch)."""

from __future__ import annotations

import json
import sys

import click


def _statements(sql: tuple[str, ...]) -> list[str]:
    if sql:
        return list(sql)
    return [line for line in sys.stdin.read().splitlines() if line.strip() and not line.lstrip().startswith("--")]


@click.command(name="guard")
@click.argument("sql", nargs=-1)
@click.option("--policy", "policy_path", default=None,
              help="Policy YAML (allowed/denied tables, denied columns, max rows ...) [default: kosql's "
                   "built-in policy].")
@click.option("--dialect", default="sqlite", show_default=True,
              help="SQL dialect to read and write (sqlite, postgres, mysql ...).")
@click.option("--db", default=None,
              help="Also check tables and columns against this database's schema (SQLite path or URL).")
@click.option("--json", "as_json", is_flag=True, help="One JSON verdict per line.")
def command(sql: tuple[str, ...], policy_path: str | None, dialect: str, db: str | None, as_json: bool) -> int:
    """Check each SQL (arguments, or one per line on stdin); exit 0 when all are allowed, 1 otherwise."""
    from kosql.errors import UserError
    from kosql.sql.guard import check_policy_tables, check_sql, load_policy

    policy = load_policy(policy_path)
    schema = None
    if db is not None:
        from kosql.ask.connect import open_database
        from kosql.ask.schema import schema_columns

        connector = open_database(db)
        schema = schema_columns(connector.schema())
        dialect = connector.dialect
        check_policy_tables(policy, schema)
    try:
        import sqlglot.dialects

        sqlglot.Dialect.get_or_raise(dialect)
    except ValueError:
        raise UserError(f"--dialect: unknown SQL dialect '{dialect}'.") from None
    statements = _statements(sql)
    if not statements:
        raise UserError("no SQL given: pass it as an argument or one statement per line on stdin.")
    refused = 0
    for text in statements:
        verdict = check_sql(text, policy, dialect=dialect, schema=schema)
        refused += not verdict.allowed
        if as_json:
            click.echo(json.dumps({"input": text, **verdict.to_dict()}, ensure_ascii=False))
        elif verdict.allowed:
            notes = f"  ({'; '.join(verdict.notes)})" if verdict.notes else ""
            click.echo(f"ALLOWED  {verdict.sql}{notes}")
        else:
            click.echo(f"REFUSED  {text.strip()}\n         {verdict.reason}")
    if not as_json and len(statements) > 1:
        click.echo(f"{len(statements) - refused} allowed, {refused} refused.", err=True)
    return 1 if refused else 0
