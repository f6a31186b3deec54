"""The one progress bar behind every long loop in kosql (generation, scoring, judging, data commands).

``ProgressBar`` shows a rich bar with a label, ``done/total`` and the time left (or the time spent),
optionally a rate such as ``tok/s``; when it is disabled (``enabled=False``, or nothing to do) every
call is a no-op, so callers never branch on it. rich is imported only when a bar is shown. A bar
made with ``lazy=True`` starts at its first update, which lets a caller fork worker processes before
rich starts its refresh thread.
"""

from __future__ import annotations

from typing import Any


class ProgressBar:
    """A rich progress bar, or nothing when disabled. Use as a context manager or start/stop it."""

    def __init__(self, label: str, total: int, *, enabled: bool = True, completed: int = 0,
                 transient: bool = True, unit: str | None = None, elapsed: bool = False,
                 lazy: bool = False, console: Any = None) -> None:
        self.label, self.total, self.completed = label, total, completed
        self.enabled = enabled and total > 0
        self.transient, self.unit, self.elapsed, self.lazy, self.console = transient, unit, elapsed, lazy, console
        self._progress: Any = None
        self._task: Any = None

    def start(self) -> None:
        """Show the bar (once); a no-op when disabled."""
        if not self.enabled or self._progress is not None:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns: list[str | ProgressColumn] = [TextColumn("[progress.description]{task.description}"),
                                               BarColumn(), MofNCompleteColumn()]
        if self.unit:
            columns.append(TextColumn("{task.fields[rate]} " + self.unit))
        columns.append(TimeElapsedColumn() if self.elapsed else TimeRemainingColumn())
        self._progress = Progress(*columns, console=self.console, transient=self.transient)
        self._progress.start()
        self._task = self._progress.add_task(self.label, total=self.total, completed=self.completed, rate="-")

    def advance(self, n: int = 1, *, description: str | None = None, rate: str | None = None) -> None:
        """Count ``n`` more items done; optionally change the label or the rate shown."""
        if not self.enabled:
            return
        self.start()
        fields: dict[str, Any] = {}
        if description is not None:
            fields["description"] = description
        if rate is not None:
            fields["rate"] = rate
        self._progress.update(self._task, advance=n, **fields)

    def stop(self) -> None:
        """Remove (transient) or leave the bar; safe to call more than once."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> ProgressBar:
        if not self.lazy:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
