"""Options shared by the commands that load a model (``generate``, ``ask``, ``serve``): one definition
of the backend options (:func:`backend_options`) and one place that turns them into a backend and a
prompt format (:class:`BackendOptions`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from kosql.models.base import Backend
from kosql.models.registry import BACKEND_CHOICES
from kosql.models.resolve import DEFAULT_MODEL, SERVING_MODEL
from kosql.pipeline.verbalize import DEFAULT_LIMIT as VERBALIZE_LIMIT

F = TypeVar("F", bound=Callable[..., Any])

# The settings only the openai backend takes.
_API_FIELDS: tuple[str, ...] = ("base_url", "api_key_env", "endpoint", "rpm", "concurrency")


@dataclass(frozen=True)
class BackendOptions:
    """What a command's backend options asked for (``backend`` as given: 'auto' or a kind), and how
    the command names its API-key and endpoint options (``kosql serve`` has its own ``--api-key-env``)."""

    model: str = DEFAULT_MODEL
    backend: str = "auto"
    adapter: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    endpoint: str | None = None
    rpm: float | None = None
    concurrency: int | None = None
    key_option: str = "--api-key-env"
    endpoint_option: str = "--endpoint"
    endpoint_default: str | None = None  # the command's endpoint when none is given (None: the backend's)
    adapter_note: str = ""  # why this adapter (--adapter auto), said on stderr when the model loads

    @property
    def kind(self) -> str:
        """The concrete backend kind (:func:`kosql.models.registry.resolve_kind`: 'auto' is openai with
        a --base-url, llama.cpp for the embedded Qwen models, else hf)."""
        from kosql.models.registry import resolve_kind

        return resolve_kind(self.backend, self.model, self.adapter, self.base_url)

    def api_options(self) -> dict[str, Any]:
        """The openai backend's settings that were given; a UserError names one given to another backend."""
        from kosql.errors import UserError

        given = {name: getattr(self, name) for name in _API_FIELDS if getattr(self, name) is not None}
        kind = self.kind
        if kind != "openai" and given:
            raise UserError(f"{self._option(next(iter(given)))} works with the openai backend only.")
        if kind == "openai" and self.endpoint is None and self.endpoint_default is not None:
            given["endpoint"] = self.endpoint_default
        return given

    def load(self, *, require_base_url: bool = False, **extra: Any) -> Backend:
        """The backend (:func:`kosql.models.registry.load_backend`) with the API settings and ``extra``."""
        from kosql.errors import UserError
        from kosql.models.registry import load_backend

        opts = self.api_options()
        kind = self.kind
        if kind == "openai" and require_base_url and not self.base_url:
            raise UserError("--backend openai needs --base-url (the external server's API root).")
        if self.adapter_note:
            click.echo(self.adapter_note, err=True)
        return load_backend(kind, self.model, adapter=self.adapter, **opts, **extra)

    def prompt_format(self, backend: Backend | None, asked: str | None = None) -> str:
        """``asked``, else :func:`kosql.models.prompting.default_prompt_format` for this model, adapter
        and ``backend``."""
        from kosql.models.prompting import default_prompt_format

        return asked or default_prompt_format(self.model, self.adapter, backend)

    def _option(self, name: str) -> str:
        return {"api_key_env": self.key_option, "endpoint": self.endpoint_option}.get(
            name, "--" + name.replace("_", "-"))


def resolve_adapter(asked: str | None, model: str, backend: str, base_url: str | None) -> tuple[str | None, str]:
    """The adapter a serving command uses and a note saying why: a folder as given; 'none' = the
    untrained model; 'auto' = the newest finished ``kosql quickstart`` run's adapter for ``model`` under
    ``runs/`` (:func:`kosql.runinfo.latest_quickstart_adapter`) when the model runs locally, else none."""
    from kosql.runinfo import latest_quickstart_adapter

    if asked not in ("auto", "none"):
        return asked, ""
    if asked == "none" or backend in ("openai", "fake") or base_url:
        return None, ""
    found = latest_quickstart_adapter(model)
    if found is not None:
        return str(found), (f"using {model} with the fine-tuned adapter {found} (from `kosql quickstart`; "
                            "--adapter none for the untrained model)")
    other = latest_quickstart_adapter(DEFAULT_MODEL) if model == SERVING_MODEL else None
    if other is not None:
        return None, (f"using {model} untrained: it answers Korean questions kosql did not write better than the "
                      f"main job's fine-tuned {DEFAULT_MODEL} (docs/results/generalization.md); "
                      f"--model {DEFAULT_MODEL} uses that adapter ({other})")
    return None, (f"using {model} untrained (no finished `kosql quickstart` run for it under runs/; "
                  "pass --adapter to use one)")


def backend_options(*, key_option: str = "--api-key-env", endpoint_option: str = "--endpoint",
                    endpoint_default: str | None = None, serving: bool = False) -> Callable[[F], F]:
    """Click options --model, --backend, --adapter, --base-url, ``key_option``, ``endpoint_option``,
    --rpm and --concurrency, handed to the command as one ``backend_options: BackendOptions``.
    ``serving`` (``kosql ask``, ``kosql serve``): --model defaults to
    :data:`~kosql.models.resolve.SERVING_MODEL` and --adapter to 'auto' (:func:`resolve_adapter`), said on stderr."""
    endpoint_help = "API of the --base-url server (openai backend): chat sends the prompt as a user message, " \
                    "completions continues it verbatim"
    endpoint_help += f" [default: {endpoint_default or 'chat'}]."
    options = [
        click.option("--model", "bo_model", default=SERVING_MODEL if serving else DEFAULT_MODEL, show_default=True,
                     help="An embedded model (`kosql models list`), a local folder or a hub id; with --backend "
                          "openai, the server's model name."),
        click.option("--backend", "bo_backend", type=click.Choice(BACKEND_CHOICES), default="auto",
                     show_default=True,
                     help="Where generation runs: auto (openai with --base-url, llama.cpp for the embedded Qwen "
                          "models, else hf), hf, llamacpp or vllm (in this process), openai (an OpenAI-compatible "
                          "server at --base-url), fake (a fixed answer, for trying things out)."),
        click.option("--adapter", "bo_adapter", default="auto" if serving else None,
                     show_default=serving,
                     help="LoRA adapter folder applied on top of the model (hf, llamacpp and vllm backends)" + (
                         "; 'auto' = the newest finished `kosql quickstart` run's adapter under runs/ for --model, "
                         "'none' = the untrained model." if serving else ".")),
        click.option("--base-url", "bo_base_url", default=None,
                     help="OpenAI-compatible API root (openai backend), e.g. http://gpu-host:8000/v1."),
        click.option(key_option, "bo_api_key_env", default=None,
                     help="Environment variable holding the --base-url server's API key (openai backend; "
                          "optional for localhost)."),
        click.option(endpoint_option, "bo_endpoint", type=click.Choice(["chat", "completions"]), default=None,
                     help=endpoint_help),
        click.option("--rpm", "bo_rpm", type=click.FloatRange(min=0.1), default=None,
                     help="Requests per minute at most (openai backend) [default: 300]."),
        click.option("--concurrency", "bo_concurrency", type=click.IntRange(min=1), default=None,
                     help="Requests in flight at most (openai backend) [default: 16]."),
    ]

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            model, backend, base_url = kwargs.pop("bo_model"), kwargs.pop("bo_backend"), kwargs["bo_base_url"]
            adapter, note = resolve_adapter(kwargs.pop("bo_adapter"), model, backend, base_url)
            spec = BackendOptions(adapter_note=note,
                model=model, backend=backend, adapter=adapter,
                base_url=kwargs.pop("bo_base_url"), api_key_env=kwargs.pop("bo_api_key_env"),
                endpoint=kwargs.pop("bo_endpoint"), rpm=kwargs.pop("bo_rpm"),
                concurrency=kwargs.pop("bo_concurrency"), key_option=key_option, endpoint_option=endpoint_option,
                endpoint_default=endpoint_default)
            return func(*args, backend_options=spec, **kwargs)

        decorated: Any = wrapper
        for option in reversed(options):
            decorated = option(decorated)
        return decorated  # type: ignore[no-any-return]

    return decorate


def verbalizer_options(fn: F) -> F:
    """``--verbalizer-model``, ``--verbalizer-url`` and ``--verbalize`` of the commands that synthesize rows
    for a user's database (``kosql data synth --db``, ``kosql adapt``): see :mod:`kosql.pipeline.verbalize`."""
    options = [
        click.option("--verbalizer-model", default=None,
                     help="A model that rewrites generated questions as people ask them (an embedded model, or the "
                          "model served at --verbalizer-url); a rewrite joins the training rows only when the same "
                          "model's SQL for it returns the query's result."),
        click.option("--verbalizer-url", default=None,
                     help="With --verbalizer-model: the OpenAI-compatible endpoint (.../v1) that serves it."),
        click.option("--verbalize", type=click.IntRange(min=1), default=VERBALIZE_LIMIT, show_default=True,
                     help="With --verbalizer-model: training queries to rewrite (one question each)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn
