"""Entry point of the `kosql` command.

Subcommands live in their own modules and are imported lazily, so `kosql eval --help` never
imports torch. Each module named in ``_COMMANDS`` exposes a click command called ``command``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from kosql import __version__
from kosql.compat import ignore_foreign_deprecations
from kosql.errors import UserError

# name -> (module, one-line help)
_COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("kosql.cli.data", "Load, validate, clean, split, describe and synthesize datasets."),
    "eval": ("kosql.cli.eval", "Score predictions by execution (EX), test-suite EX and exact match."),
    "generate": ("kosql.cli.generate", "Generate SQL for a dataset with a model backend."),
    "train": ("kosql.cli.train", "Fine-tune a model with LoRA / QLoRA / full SFT."),
    "dpo": ("kosql.cli.dpo", "Preference-tune an SFT adapter with DPO from execution feedback."),
    "merge": ("kosql.cli.merge", "Merge a LoRA adapter into its base model."),
    "judge": ("kosql.cli.judge", "Judge predictions with an LLM over an OpenAI-compatible API."),
    "quickstart": ("kosql.cli.quickstart", "Run the whole pipeline on the embedded defaults."),
    "adapt": ("kosql.cli.adapt", "Fine-tune a LoRA adapter for your own database and measure it."),
    "sweep": ("kosql.cli.sweep", "Run a grid of train -> generate -> eval experiments."),
    "models": ("kosql.cli.models", "List the embedded models and prepare them once."),
    "analyze": ("kosql.cli.analyze", "Show where a model fails most, with examples."),
    "guard": ("kosql.cli.guard", "Check SQL against a guard policy (read-only, denied columns, LIMIT)."),
    "ask": ("kosql.cli.ask", "Ask a SQLite or PostgreSQL database a question in Korean, safely."),
    "serve": ("kosql.cli.serve", "Serve a model: OpenAI-compatible API, ask API and a web page."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, (mod, _) in _COMMANDS.items() if _module_exists(mod))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        module_name, short_help = _COMMANDS[cmd_name]
        if not _module_exists(module_name):
            return None
        module = importlib.import_module(module_name)
        cmd: click.Command = module.command
        cmd.short_help = cmd.short_help or short_help
        return cmd


def _module_exists(module_name: str) -> bool:
    return importlib.util.find_spec(module_name) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="kosql")
def cli() -> None:
    """kosql: build, measure and serve your own Korean Text-to-SQL small LLM."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit code (0 ok, 1 problems found, 2 user error)."""
    ignore_foreign_deprecations()  # kosql's own calls silence them too (kosql.compat)
    try:
        result = cli.main(args=argv, prog_name="kosql", standalone_mode=False)
    except UserError as exc:
        click.echo(f"Error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    return int(result) if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main(sys.argv[1:]))


if __name__ == "__main__":
    run()
