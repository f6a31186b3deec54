"""`kosql serve`: an OpenAI-compatible model endpoint, the ask API and the web page."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import click

from kosql.cli.options import BackendOptions, backend_options
from kosql.models.base import Backend
from kosql.serve.config import CHAT_PROMPTS, ServeConfig, config_help

_HELP = config_help()


@click.command(name="serve")
@backend_options(key_option="--upstream-key-env", endpoint_option="--upstream-endpoint",
                 endpoint_default="completions", serving=True)
@click.option("--db", default=None,
              help="Database to ask: a SQLite file, a SQLAlchemy URL, or bundled:<name> (a database of the "
                   "bundled dataset, e.g. bundled:hr). Without it only /v1 and /api/sql with a DDL work.")
@click.option("--comments", "comments_file", default=None,
              help="DDL file with COMMENTs (e.g. Korean column names) merged into the schema's DDL, as in kosql ask.")
@click.option("--policy", default=None, help="Guard policy YAML [default: the built-in read-only policy].")
@click.option("--allow-expensive", is_flag=True, help="Run queries whose cost check is over budget.")
@click.option("--host", default="127.0.0.1", show_default=True, help=_HELP["host"])
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help=_HELP["port"])
@click.option("--api-key-env", default=None,
              help="Environment variable holding the key clients must send (Authorization: Bearer KEY); "
                   "unset = no key needed.")
@click.option("--served-name", default=None, help="Model name at /v1/models [default: --model].")
@click.option("--max-batch", type=click.IntRange(min=1), default=8, show_default=True, help=_HELP["max_batch"])
@click.option("--batch-window-ms", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help=_HELP["batch_window_ms"])
@click.option("--max-queue", type=click.IntRange(min=1), default=64, show_default=True, help=_HELP["max_queue"])
@click.option("--max-question-chars", type=click.IntRange(min=1), default=1000, show_default=True,
              help=_HELP["max_question_chars"])
@click.option("--chat-prompt", type=click.Choice(["auto", *CHAT_PROMPTS]), default="auto", show_default=True,
              help=_HELP["chat_prompt"] + " 'auto': 'template' for a model trained or shipped with the chat "
                                          "prompt (the Qwen models), else 'plain'.")
@click.option("--feedback", "feedback_path", type=click.Path(path_type=Path), default=Path("kosql-feedback.jsonl"),
              show_default=True, help=_HELP["feedback_path"])
@click.option("--vote", type=click.IntRange(min=0), default=0, show_default=True, help=_HELP["vote"])
@click.option("--min-confidence", type=click.FloatRange(min=0.0, max=1.0), default=0.5, show_default=True,
              help=_HELP["min_confidence"])
@click.option("--fake-sql", default="SELECT 1;", show_default=True, help="The fake backend's answer.")
@click.option("--fake-batch-seconds", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Simulated model time per batch of the fake backend (seconds).")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]),
              default="info", show_default=True)
def command(backend_options: BackendOptions, db: str | None, comments_file: str | None, policy: str | None, allow_expensive: bool, host: str,
            port: int, api_key_env: str | None, served_name: str | None, max_batch: int, batch_window_ms: float,
            max_queue: int, max_question_chars: int, chat_prompt: str, feedback_path: Path, vote: int,
            min_confidence: float, fake_sql: str,
            fake_batch_seconds: float, log_level: str) -> int:
    """Serve a model over an OpenAI-compatible API, the ask API and a web page at http://HOST:PORT/.

    Example: kosql serve --db bundled:hr, then open http://127.0.0.1:8000/ and ask in Korean.
    """
    from kosql.errors import UserError
    from kosql.serve.app import build_state, create_app
    from kosql.serve.live import serve_forever

    key = None
    if api_key_env:
        key = os.environ.get(api_key_env, "").strip()
        if not key:
            raise UserError(f"The API key environment variable {api_key_env} is not set; export {api_key_env}=...")
    config = ServeConfig(host=host, port=port, model_id=served_name or backend_options.model, api_key=key,
                         max_batch=max_batch, batch_window_ms=batch_window_ms, max_queue=max_queue,
                         max_question_chars=max_question_chars, chat_prompt="plain" if chat_prompt == "auto"
                         else chat_prompt, feedback_path=feedback_path, vote=vote,
                         min_confidence=min_confidence)  # checked before the model loads
    gen_backend = _backend(backend_options, fake_sql, fake_batch_seconds)
    prompt_format = backend_options.prompt_format(gen_backend)
    if chat_prompt == "auto":
        config = replace(config, chat_prompt="template" if prompt_format == "chat" else "plain")
    from kosql.ask.dbspec import read_comments

    comments = read_comments(comments_file)
    state = build_state(config, gen_backend, db=db, policy=policy, allow_expensive=allow_expensive,
                        prompt_format=prompt_format, comments_ddl=comments)
    shown = "0.0.0.0" if host in ("", "0.0.0.0") else host
    click.echo(f"kosql serve: model {config.model_id} ({gen_backend.name}), "
               f"database {state.db_label or 'none'}; page http://{shown}:{port}/ , API http://{shown}:{port}/v1"
               + (f"; feedback -> {feedback_path}" if state.feedback else ""), err=True)
    serve_forever(create_app(state), host, port, log_level=log_level)
    return 0


def _backend(spec: BackendOptions, fake_sql: str, fake_batch_seconds: float) -> Backend:
    spec.api_options()  # API settings given to another backend are refused before the model loads
    if spec.kind == "fake":
        from kosql.serve.fakes import TimedBackend, fixed_backend

        return TimedBackend(fixed_backend(fake_sql, name=f"fake:{spec.model}"), batch_seconds=fake_batch_seconds)
    return spec.load(require_base_url=True)
