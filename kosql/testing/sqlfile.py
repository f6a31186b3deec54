"""Read golden SQL files of the tests: entries separated by blank lines, '##' lines are comments."""

from __future__ import annotations

from pathlib import Path


def read_blocks(path: str | Path) -> list[str]:
    """The entries of ``path`` (each may span several lines), in file order."""
    out: list[str] = []
    block: list[str] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith("##"):
            continue
        if line.strip():
            block.append(line)
        elif block:
            out.append("\n".join(block))
            block = []
    return out
