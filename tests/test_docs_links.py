"""Every relative link and image in the README and docs/ points at a file the repository has."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _broken_links() -> list[str]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "bench").rglob("*.md"))]
    broken = []
    for md in files:
        for match in LINK.finditer(md.read_text(encoding="utf-8")):
            target = match.group(1).split("#", 1)[0]
            if target and not target.startswith(("http://", "https://", "mailto:")) \
                    and not (md.parent / target).exists():
                broken.append(f"{md.relative_to(ROOT)} -> {match.group(1)}")
    return broken


def test_relative_links_and_images_resolve() -> None:
    assert _broken_links() == []
