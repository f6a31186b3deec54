"""The backend protocol: prompts in, generations (text, token counts, timing) out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from kosql.prompts import STOP_STRINGS


@dataclass(frozen=True)
class GenerationParams:
    """How to generate. ``temperature == 0`` means greedy decoding."""

    max_new_tokens: int = field(default=128, metadata={"help": "Most tokens generated per prompt."})
    temperature: float = field(default=0.0, metadata={"help": "0 = greedy; > 0 samples."})
    top_p: float = field(default=1.0, metadata={"help": "Nucleus sampling mass (sampling only)."})
    num_return_sequences: int = field(default=1, metadata={"help": "Generations per prompt."})
    num_beams: int = field(default=1, metadata={"help": "Beam search width (greedy only; 1 = no beams); "
                                                        "backends without beam search ignore it."})
    stop: tuple[str, ...] = field(default=STOP_STRINGS, metadata={"help": "Strings that end a generation."})
    batch_size: int = field(default=8, metadata={"help": "Prompts per forward batch."})
    seed: int = field(default=0, metadata={"help": "Random seed for sampling."})

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


@dataclass
class Generation:
    """One generated text with its token counts and its share of the wall time."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    error: str | None = None  # set when no text could be generated (e.g. an API out of retries)


class ModelCallFailed(Exception):
    """The model gave no text (e.g. an upstream API out of retries). Said as such, never shown as an
    empty answer: ``kosql ask`` exits 1 with the reason, ``kosql serve`` answers HTTP 502."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The model call failed: {reason}")
        self.reason = reason


def check_generated(gens: Sequence[Generation]) -> list[Generation]:
    """``gens`` when every one has text; :class:`ModelCallFailed` with the first failure's reason otherwise."""
    for gen in gens:
        if gen.error is not None:
            raise ModelCallFailed(gen.error)
    return list(gens)


@runtime_checkable
class Backend(Protocol):
    """A text generator.

    ``generate`` returns ``len(prompts) * params.num_return_sequences`` generations, prompt-major:
    the generations of ``prompts[i]`` are ``out[i * n:(i + 1) * n]``. ``name`` is recorded in the
    predictions file. A backend may expose ``tokenizer`` (for the chat prompt format) and
    ``prefix_cache = True`` when it computes a prompt prefix shared by a batch once (the runner then
    batches prompts on one schema together; see :func:`backend_prefix_cache`).
    """

    name: str

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]: ...


def backend_tokenizer(backend: Backend) -> Any | None:
    """The backend's tokenizer when it has one (hf, vllm), else None (openai, fake)."""
    return getattr(backend, "tokenizer", None)


def backend_beam_search(backend: Backend) -> bool:
    """False for a backend that declares ``beam_search = False`` (openai, vllm: N candidates at
    temperature 0 would be N copies of the greedy answer); True otherwise (hf)."""
    return bool(getattr(backend, "beam_search", True))


def backend_prefix_cache(backend: Backend) -> bool:
    """True when the backend computes a batch's shared prompt prefix once (hf), so prompts that share
    a schema are best batched together; False for backends without the attribute."""
    return bool(getattr(backend, "prefix_cache", False))
