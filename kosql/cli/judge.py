"""`kosql judge`: judge predictions with an LLM over any OpenAI-compatible API.

API key policy: the key is read from ``--api-key-env`` (default ``OPENAI_API_KEY``). It must be set
when ``--api-key-env`` is given explicitly or when ``--base-url`` is not on this machine; a local
server (vLLM, llama.cpp, `kosql serve`, the fake test server) works without one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

DEFAULT_BASE_URL = "https://api.openai.com/v1"


@click.command()
@click.option("--data", "data_path", required=True,
              help="The test set the predictions are for: a file (JSONL/CSV with id, context, question, "
                   "answer), a folder with test.jsonl or 'bundled:<size>' (its test split).")
@click.option("--pred", "pred_path", required=True, type=click.Path(path_type=Path),
              help="Predictions JSONL (kosql generate output: id + pred/sql/gen_sql), read as kosql eval reads it.")
@click.option("--model", default=None, help="Judge model name, e.g. gpt-4o-mini.")
@click.option("--judges", default=None, help="Several judge models, comma-separated: majority vote.")
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True,
              help="OpenAI-compatible API root (vLLM/llama.cpp: http://127.0.0.1:8000/v1).")
@click.option("--api-key-env", default=None,
              help="Environment variable holding the API key [default: OPENAI_API_KEY; optional for localhost].")
@click.option("--rpm", default=300.0, show_default=True, help="Requests per minute limit.")
@click.option("--tpm", default=100_000.0, show_default=True, help="Tokens per minute limit (0: none).")
@click.option("--concurrency", default=16, show_default=True, help="Requests in flight at most.")
@click.option("--max-attempts", default=5, show_default=True, help="Attempts per request (retries + 1).")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds per attempt.")
@click.option("--template", "template_path", default=None, type=click.Path(path_type=Path),
              help="Judge prompt template file ({context} {question} {answer} {gen_sql}).")
@click.option("--out", "out_dir", default=None, type=click.Path(path_type=Path),
              help="Output folder [default: <pred stem>_judge beside the predictions].")
@click.option("--ex", "ex_path", default=None, type=click.Path(path_type=Path),
              help="per_row.jsonl from kosql eval: report agreement with execution accuracy.")
@click.option("--price-table", default=None, type=click.Path(path_type=Path),
              help="YAML/JSON prices, USD per 1M tokens: model: {input: X, output: Y}.")
@click.option("--max-tokens", default=None, type=int, help="max_tokens of each judge request.")
@click.option("--json-mode/--no-json-mode", default=True, show_default=True,
              help="Send response_format={'type': 'json_object'}.")
@click.option("--retry-failed/--no-retry-failed", default=True, show_default=True,
              help="Send again the rows whose stored result is a failure (--no-retry-failed keeps them).")
@click.option("--progress/--no-progress", default=True, show_default=True)
def command(data_path: str, pred_path: Path, model: str | None, judges: str | None, base_url: str,
            api_key_env: str | None, rpm: float, tpm: float, concurrency: int, max_attempts: int,
            timeout: float, template_path: Path | None, out_dir: Path | None, ex_path: Path | None,
            price_table: Path | None, max_tokens: int | None, json_mode: bool, retry_failed: bool,
            progress: bool) -> int:
    """Judge generated SQL with an LLM (the seed's GPT-4 judge prompt), resumably.

    Results stream to OUT/judgments.jsonl as they finish; run the same command again after an
    interruption to judge only the missing rows. OUT/judgments.csv and OUT/summary.json are written
    at the end. The API key is needed when --api-key-env is given or the server is not local.
    Rate limits are token buckets holding one second's worth of --rpm/--tpm (the largest burst).
    Try it without a key: python -m kosql.testing.fake_openai_server --port 8089, then
    --base-url http://127.0.0.1:8089/v1 --model gpt-4o-mini.
    """
    from kosql.data.resolve import load_dataset
    from kosql.errors import UserError
    from kosql.evaluate.agreement import read_ex_verdicts
    from kosql.evaluate.judge import (
        JudgeSettings,
        build_items,
        load_template,
        run_judge,
    )
    from kosql.evaluate.judge_report import load_price_table, summarize, write_outputs
    from kosql.evaluate.predictions import read_predictions
    from kosql.http.client import ClientConfig, resolve_api_key
    from kosql.http.ratelimit import token_counter_name
    from kosql.prompts import JUDGE_PROMPT_TEMPLATE

    models = [m.strip() for m in (judges or model or "").split(",") if m.strip()]
    if not models:
        raise UserError("Name the judge with --model NAME (or several with --judges m1,m2,m3).")
    if rpm <= 0 or concurrency < 1 or max_attempts < 1 or timeout <= 0:
        raise UserError("--rpm, --concurrency, --max-attempts and --timeout must be positive.")
    key = resolve_api_key(base_url, api_key_env, explicit=api_key_env is not None)
    template = load_template(template_path) if template_path else JUDGE_PROMPT_TEMPLATE
    prices = load_price_table(price_table)
    examples = load_dataset(data_path, "test")
    predictions = read_predictions(pred_path, examples)
    if predictions.unknown:
        click.echo(f"note: {len(predictions.unknown)} predictions have ids not in the dataset (ignored).", err=True)
    if predictions.failed:
        click.echo(f"note: {len(predictions.failed)} rows failed to generate and are not judged; rerun kosql "
                   "generate to retry them.", err=True)
    items = build_items(examples, predictions.answered(), template)
    if not items:
        raise UserError(f"{pred_path}: no prediction matches a row id of {data_path}.")
    ex = read_ex_verdicts(ex_path) if ex_path else None
    out = out_dir or pred_path.with_name(f"{pred_path.stem}_judge")
    config = ClientConfig(base_url=base_url, api_key=key, rpm=rpm, tpm=tpm or None,
                          concurrency=concurrency, max_attempts=max_attempts, timeout=timeout)
    settings = JudgeSettings(models=models, template=template, json_mode=json_mode,
                             max_tokens=max_tokens, retry_failed=retry_failed)
    from rich.console import Console

    console = Console()
    try:
        run = run_judge(items, settings, config, out, progress=progress)
    except KeyboardInterrupt:
        console.print(f"Interrupted: finished results are in {out}/judgments.jsonl; "
                      "run the same command again to judge the rest.")
        return 130
    ids = [it.id for it in items]
    extra = {"base_url": base_url, "data": str(data_path), "pred": str(pred_path),
             "token_counter": token_counter_name(), "rows_without_prediction": len(examples) - len(items),
             "generation_failed": len(predictions.failed),
             "sent_this_run": run.sent, "reused_from_earlier_runs": run.reused,
             "attempts_this_run": run.attempts_sent, "seconds_this_run": round(run.seconds, 2),
             "repairs": run.repaired}
    summary = summarize(ids, run.records, models, prices=prices, ex=ex, extra=extra)
    csv_path, summary_path = write_outputs(out, ids, run.records, models, summary, ex)
    _print_summary(console, summary, out, csv_path, summary_path)
    bad = summary["verdicts"]["failed"] + summary["verdicts"]["missing"]
    return 1 if bad else 0


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _print_summary(console: Any, s: dict[str, Any], out: Path, csv_path: Path, summary_path: Path) -> None:
    from rich.table import Table

    for note in s.get("repairs") or []:
        console.print(f"[yellow]note:[/] {note}")
    t = Table(title=f"Judge: {', '.join(s['judges'])} on {s['rows']} rows", show_header=False)
    t.add_column("", style="bold")
    t.add_column("")
    v = s["verdicts"]
    ci = s["yes_rate_ci95"]
    t.add_row("yes rate", _pct(s["yes_rate"]) + (f"  (95 % CI {_pct(ci[0])} - {_pct(ci[1])})" if ci else ""))
    t.add_row("verdicts", ", ".join(f"{k} {n}" for k, n in v.items() if n or k in ("yes", "no")))
    failures = s["failures_by_kind"]
    t.add_row("failed requests", ", ".join(f"{k} {n}" for k, n in failures.items()) or "none")
    t.add_row("this run", f"{s['sent_this_run']} sent, {s['reused_from_earlier_runs']} reused, "
                          f"{s['attempts_this_run']} attempts, {s['seconds_this_run']} s")
    tok = s["tokens"]
    t.add_row("tokens", f"{tok['prompt']:,} in / {tok['completion']:,} out"
              + (f" ({tok['estimated_rows']} rows counted locally, {s['token_counter']})"
                 if tok["estimated_rows"] else ""))
    cost = s["cost_usd_estimate"]
    t.add_row("cost (estimate)", "unknown: no price for this model (--price-table)" if cost is None
              else f"${cost:.4f} (list prices, see --price-table)")
    console.print(t)
    if len(s["judges"]) > 1:
        pj = Table(title="per judge")
        for col in ("judge", "yes", "no", "unparsed", "failed", "yes rate"):
            pj.add_column(col)
        for m, d in s["per_judge"].items():
            pj.add_row(m, str(d["yes"]), str(d["no"]), str(d["unparsed"]), str(d["failed"]), _pct(d["yes_rate"]))
        console.print(pj)
    agr = s.get("agreement_with_ex")
    if agr is not None:
        at = Table(title=f"Judge vs execution (EX) on {agr['n']} rows: agreement {_pct(agr['accuracy'])}, "
                         f"Cohen's kappa {'-' if agr['kappa'] is None else format(agr['kappa'], '.3f')}")
        at.add_column("")
        at.add_column("EX correct", justify="right")
        at.add_column("EX wrong", justify="right")
        at.add_row("judge yes", str(agr["both_yes"]), str(agr["judge_yes_ex_no"]))
        at.add_row("judge no", str(agr["judge_no_ex_yes"]), str(agr["both_no"]))
        console.print(at)
        dis = agr["disagreements"]
        if dis:
            shown = ", ".join(f"{d['id']} (judge {d['judge']}, EX {'ok' if d['ex'] else 'wrong'})" for d in dis[:10])
            console.print(f"disagreements ({len(dis)}): {shown}{' ...' if len(dis) > 10 else ''}")
        if agr["no_ex"]:
            console.print(f"{agr['no_ex']} judged row(s) have no EX verdict.")
    console.print(f"results: {out}/judgments.jsonl, {csv_path}, {summary_path}")
