"""kosql.progress.ProgressBar: the one progress bar of every long loop."""

from __future__ import annotations

import io

from rich.console import Console

from kosql.progress import ProgressBar


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=True, width=100, color_system=None), buf


def test_a_disabled_or_empty_bar_shows_nothing() -> None:
    con, buf = _console()
    for bar in (ProgressBar("scoring", 10, enabled=False, console=con), ProgressBar("scoring", 0, console=con)):
        with bar:
            bar.advance(3, rate="1.0")
        assert bar._progress is None
    assert buf.getvalue() == ""


def test_the_bar_shows_label_counts_and_rate() -> None:
    con, buf = _console()
    with ProgressBar("generating", 4, completed=1, transient=False, unit="tok/s", console=con) as bar:
        bar.advance(2, rate="12.5")
        bar.advance(1, description="generated hotel")
    out = buf.getvalue()
    assert "generated hotel" in out and "4/4" in out and "12.5 tok/s" in out


def test_a_lazy_bar_starts_at_its_first_update() -> None:
    con, _ = _console()
    bar = ProgressBar("scoring", 5, lazy=True, console=con)
    with bar:
        assert bar._progress is None
        bar.advance()
        assert bar._progress is not None
    assert bar._progress is None
    bar.stop()  # stopping twice is harmless
