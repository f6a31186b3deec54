"""Partial freezing for full fine-tuning (model.freeze_embeddings / model.freeze_layers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kosql.config import load_config
from kosql.errors import UserError
from kosql.train.config import SFTConfig

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def tiny_llama(layers: int = 4) -> object:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=layers,
                                   num_attention_heads=2, num_key_value_heads=2, tie_word_embeddings=True)
    return transformers.LlamaForCausalLM(cfg)


def test_freeze_lower_layers_and_embeddings() -> None:
    from kosql.train.modeling import freeze

    model = tiny_llama()
    total = sum(p.numel() for p in model.parameters())  # type: ignore[attr-defined]
    emb = model.get_input_embeddings().weight.numel()  # type: ignore[attr-defined]
    per_layer = sum(p.numel() for p in model.model.layers[0].parameters())  # type: ignore[attr-defined]
    left = freeze(model, embeddings=True, layers=2)
    assert left == total - emb - 2 * per_layer
    layers = model.model.layers  # type: ignore[attr-defined]
    assert not any(p.requires_grad for p in layers[1].parameters())
    assert all(p.requires_grad for p in layers[2].parameters())
    assert not model.get_input_embeddings().weight.requires_grad  # type: ignore[attr-defined]


def test_frozen_layers_get_no_gradient_and_the_rest_do() -> None:
    import torch

    from kosql.train.modeling import freeze

    model = tiny_llama()
    freeze(model, embeddings=True, layers=3)
    ids = torch.randint(0, 64, (1, 8))
    model(input_ids=ids, labels=ids).loss.backward()  # type: ignore[operator]
    layers = model.model.layers  # type: ignore[attr-defined]
    assert all(p.grad is None for p in layers[0].parameters())
    assert all(p.grad is not None for p in layers[3].parameters())


def test_freezing_every_layer_is_a_user_error() -> None:
    from kosql.train.modeling import freeze

    with pytest.raises(UserError, match="model.freeze_layers: 4 frozen layers"):
        freeze(tiny_llama(), embeddings=False, layers=4)


@pytest.mark.parametrize("override", ["model.freeze_layers=3", "model.freeze_embeddings=true"])
def test_freezing_needs_full_fine_tuning(override: str) -> None:
    field = override.split("=")[0]
    with pytest.raises(UserError, match=f"{field} applies to model.method=full only"):
        load_config(SFTConfig, CONFIGS / "sft-cpu-smollm2.yaml", [override])
    cfg = load_config(SFTConfig, CONFIGS / "sft-cpu-smollm2-full.yaml", [override])
    assert cfg.model.method == "full"
