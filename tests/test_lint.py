"""The code base stays ruff- and mypy-clean (the house rules)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    """The tool next to this Python, else on PATH; missing is a failure, since the dev extra
    (``bash scripts/setup.sh --dev``) installs it."""
    exe = Path(sys.executable).with_name(name)
    if exe.exists():
        return str(exe)
    found = shutil.which(name)
    assert found is not None, f"{name} is not installed; run bash scripts/setup.sh --dev"
    return found


def test_ruff_clean() -> None:
    proc = subprocess.run([_tool("ruff"), "check", "kosql", "tests", "bench"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_clean() -> None:
    proc = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_version_and_help() -> None:
    from kosql.cli.main import main

    assert main(["--version"]) == 0
    assert main(["--help"]) == 0


def test_the_cli_hides_foreign_deprecation_notices_only() -> None:
    import warnings

    from kosql.cli.main import main

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["--version"]) == 0
        warnings.warn("`is_gradient_checkpointing` is deprecated and will be removed in v6.", FutureWarning, stacklevel=1)
        warnings.warn("something else is deprecated", FutureWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["something else is deprecated"]


def test_kosql_silences_foreign_deprecation_notices_around_its_calls_only() -> None:
    import warnings

    from kosql.compat import quiet_foreign_deprecations

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet_foreign_deprecations():
            warnings.warn("`is_gradient_checkpointing` is deprecated and will be removed in v6.", FutureWarning, stacklevel=1)
            warnings.warn("something else is deprecated", FutureWarning, stacklevel=1)
        warnings.warn("`is_gradient_checkpointing` is deprecated and will be removed in v6.", FutureWarning, stacklevel=1)
    assert [str(w.message)[:27] for w in caught] == ["something else is deprecate", "`is_gradient_checkpointing`"]
