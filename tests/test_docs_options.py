"""What the README and docs/ say about an option's choices (`--opt a|b`) and default (`--opt a`
(default)) is what the kosql command with that option does."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import click
import pytest

from kosql.cli.data import _SUBCOMMANDS
from kosql.cli.main import _COMMANDS

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CHOICES = re.compile(r"`(--[a-z][a-z0-9-]*) ([\w.-]+(?:\\?\|[\w.-]+)+)`")
DEFAULT = re.compile(r"`(--[a-z][a-z0-9-]*) ([\w.-]+)` \(default\)")


def _options() -> dict[str, list[click.Option]]:
    """Every option of every kosql command, by its long name."""
    modules = [m for m, _ in _COMMANDS.values() if m != "kosql.cli.data"] + list(_SUBCOMMANDS.values())
    out: dict[str, list[click.Option]] = {}
    for module in modules:
        command = importlib.import_module(module).command
        for param in command.params:
            if isinstance(param, click.Option):
                for name in param.opts:
                    out.setdefault(name, []).append(param)
    return out


def _found(pattern: re.Pattern[str]) -> list[tuple[str, str, str]]:
    return [(md.name, m.group(1), m.group(2)) for md in DOCS for m in pattern.finditer(md.read_text(encoding="utf-8"))]


@pytest.fixture(scope="module")
def options() -> dict[str, list[click.Option]]:
    return _options()


def test_documented_choices_are_the_options_choices(options: dict[str, list[click.Option]]) -> None:
    wrong = []
    for doc, name, listed in _found(CHOICES):
        choices = [set(map(str, o.type.choices)) for o in options.get(name, []) if isinstance(o.type, click.Choice)]
        if choices and set(listed.replace("\\", "").split("|")) not in choices:
            wrong.append(f"{doc}: {name} {listed} (the command takes {sorted(choices[0])})")
    assert wrong == []


def _defaults(option: click.Option) -> set[str]:
    """The option's default, or the one its help names (``[default: x]``) when it is decided later."""
    return {str(option.default), *re.findall(r"\[default: ([\w.-]+)", option.help or "")}


def test_documented_defaults_are_the_options_defaults(options: dict[str, list[click.Option]]) -> None:
    wrong = [f"{doc}: {name} {value} (default)" for doc, name, value in _found(DEFAULT)
             if options.get(name) and not any(value in _defaults(o) for o in options[name])]
    assert wrong == []
