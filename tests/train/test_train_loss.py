"""The completion-only loss (logits only at labelled positions) equals the model's own loss."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def _tiny_llama() -> object:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
    return LlamaForCausalLM(cfg).eval()


def _batch() -> dict[str, object]:
    ids = torch.tensor([[1, 5, 6, 7, 8, 9, 2, 0], [1, 11, 12, 13, 14, 15, 16, 2]])
    att = torch.tensor([[1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1, 1]])
    labels = torch.tensor([[-100, -100, -100, -100, 8, 9, 2, -100], [-100, -100, -100, 14, 15, 16, 2, -100]])
    labels[1, 7] = 2
    return {"input_ids": ids, "attention_mask": att, "labels": labels}


def test_shifted_label_mask_marks_the_predicting_positions() -> None:
    from kosql.train.loss import shifted_label_mask

    keep, targets = shifted_label_mask(_batch()["labels"])
    assert keep[0].tolist() == [False, False, False, True, True, True, False, False]
    assert keep[1].tolist() == [False, False, True, True, True, True, True, False]
    assert targets.tolist() == [8, 9, 2, 14, 15, 16, 2, 2]


def test_completion_loss_matches_full_logits_loss_and_gradients() -> None:
    from kosql.train.loss import completion_loss

    model = _tiny_llama()
    batch = _batch()
    ours, stats = completion_loss(model, dict(batch))
    ours.backward()
    g_ours = model.model.layers[0].mlp.up_proj.weight.grad.clone()
    model.zero_grad()
    ref = model(**batch).loss  # transformers' shifted, token-averaged cross-entropy over all logits
    ref.backward()
    g_ref = model.model.layers[0].mlp.up_proj.weight.grad
    assert stats["n"] == 8
    assert torch.allclose(ours, ref, atol=1e-5)
    assert torch.allclose(g_ours, g_ref, atol=1e-6)


def test_completion_loss_uses_num_items_in_batch() -> None:
    from kosql.train.loss import completion_loss

    model = _tiny_llama()
    loss_mean, _ = completion_loss(model, _batch())
    loss_16, _ = completion_loss(model, _batch(), num_items_in_batch=torch.tensor(16))
    assert torch.allclose(loss_16 * 2, loss_mean, atol=1e-6)
