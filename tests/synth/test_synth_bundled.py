"""bundled_dataset(): generated once into the cache, reused, redone when incomplete."""

from __future__ import annotations

from pathlib import Path

import pytest

import kosql.data.synth.build as build
from kosql.data.synth import GENERATOR_VERSION, bundled_dataset
from kosql.errors import UserError


def test_bundled_dataset_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "_cache_root", lambda: tmp_path)
    calls: list[str] = []
    real = build.generate_dataset

    def counting(out_dir: Path, **kw: object) -> build.SynthSummary:
        calls.append(str(out_dir))
        return real(out_dir, seed=int(kw.get("seed", 0)), size=str(kw.get("size", "small")),  # type: ignore[arg-type]
                    per_domain=10)

    monkeypatch.setattr(build, "generate_dataset", counting)
    folder = bundled_dataset("small", seed=5)
    from kosql.data.synth.build import generator_fingerprint

    assert folder == tmp_path / f"synth-small-seed5-v{GENERATOR_VERSION}-{generator_fingerprint()}"
    assert (folder / "train.jsonl").is_file() and (folder / "dbs" / "game.sqlite").is_file()
    assert bundled_dataset("small", seed=5) == folder and len(calls) == 1  # reused
    (folder / build.MARKER).unlink()  # an interrupted generation is redone
    assert bundled_dataset("small", seed=5) == folder and len(calls) == 2
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_bundled_dataset_bad_size() -> None:
    with pytest.raises(UserError):
        bundled_dataset("huge")
