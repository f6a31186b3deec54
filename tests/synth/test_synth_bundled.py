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
                    per_domain=10, comments=bool(kw.get("comments")))

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


def test_comments_variant_same_rows_with_commented_ddl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from kosql.train.data import resolve_dataset

    monkeypatch.setattr(build, "_cache_root", lambda: tmp_path)
    monkeypatch.setattr(build, "SIZES", {**build.SIZES, "small": (6, 1, 1, 4)})
    plain = resolve_dataset("bundled:small", "test")
    commented = resolve_dataset("bundled:small+comments", "test")
    assert plain.parent != commented.parent and commented.parent.name.endswith("-comments")
    a = [json.loads(line) for line in plain.read_text(encoding="utf-8").splitlines()]
    b = [json.loads(line) for line in commented.read_text(encoding="utf-8").splitlines()]
    assert [(r["question"], r["answer"]) for r in a] == [(r["question"], r["answer"]) for r in b]
    assert all("COMMENT" not in r["context"] for r in a) and all("COMMENT '" in r["context"] for r in b)
    with pytest.raises(UserError, match=r"\+typo"):
        resolve_dataset("bundled:small+typo", "test")
