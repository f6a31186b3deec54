"""Notices one library raises about another's internals: nothing a kosql user can act on.

:func:`quiet_foreign_deprecations` silences them around the calls of kosql's that trigger them (peft
wrapping a transformers model), so library callers do not see them either; the CLI also filters
them for the whole run.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

FOREIGN_DEPRECATIONS: tuple[str, ...] = (
    r"`is_gradient_checkpointing` is deprecated",  # peft's PeftModel reads it from transformers >= 5.2x models
)


def ignore_foreign_deprecations() -> None:
    """Add a warnings filter that hides :data:`FOREIGN_DEPRECATIONS` (FutureWarnings) from now on."""
    for message in FOREIGN_DEPRECATIONS:
        warnings.filterwarnings("ignore", message=message, category=FutureWarning)


@contextmanager
def quiet_foreign_deprecations() -> Iterator[None]:
    """Hide :data:`FOREIGN_DEPRECATIONS` inside the block only; other warnings still show."""
    with warnings.catch_warnings():
        ignore_foreign_deprecations()
        yield
