"""`kosql data ...`: the data subcommands, each in its own module, imported lazily."""

from __future__ import annotations

import importlib
import importlib.util

import click

_SUBCOMMANDS: dict[str, str] = {
    "validate": "kosql.cli.data_validate",
    "clean": "kosql.cli.data_clean",
    "split": "kosql.cli.data_split",
    "stats": "kosql.cli.data_stats",
    "import-spider": "kosql.cli.data_spider",
    "synth": "kosql.cli.data_synth",
    "noise": "kosql.cli.data_noise",
}


class _DataGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n, m in _SUBCOMMANDS.items() if importlib.util.find_spec(m) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = _SUBCOMMANDS.get(cmd_name)
        if module_name is None or importlib.util.find_spec(module_name) is None:
            return None
        cmd: click.Command = importlib.import_module(module_name).command
        return cmd


@click.group(cls=_DataGroup)
def command() -> None:
    """Load, validate, clean, split, describe and synthesize Text2SQL datasets."""
