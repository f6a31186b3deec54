"""Error types shared by the whole package.

A :class:`UserError` is something the user can fix (bad file, bad column, bad DDL, unknown
model). The CLI prints its message as one sentence and exits with code 2, without a traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """An error caused by the user's input; the CLI reports it in one sentence, exit code 2."""

    exit_code = 2


class DependencyError(UserError):
    """An optional dependency (torch, vllm, ...) is needed but not installed."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the '{package}' package: install it with "
            f"pip install 'kosql[{extra}]'."
        )
        self.package = package
        self.extra = extra
