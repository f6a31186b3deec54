"""Same seed -> byte-identical files (JSONL, stats.md and the SQLite databases); another seed differs."""

from __future__ import annotations

import hashlib
from pathlib import Path

from kosql.data.synth import generate_dataset


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes(small_dataset: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate_dataset(again, seed=0, size="small")
    first, second = _hashes(small_dataset), _hashes(again)
    assert any(k.endswith(".sqlite") for k in first)
    assert first == second


def test_other_seed_differs(tmp_path: Path) -> None:
    a = generate_dataset(tmp_path / "a", seed=1, per_domain=20, size="small")
    b = generate_dataset(tmp_path / "b", seed=2, per_domain=20, size="small")
    assert a.counts["train"] == b.counts["train"] > 0
    assert (tmp_path / "a" / "train.jsonl").read_bytes() != (tmp_path / "b" / "train.jsonl").read_bytes()
