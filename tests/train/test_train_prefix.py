"""Shared-prefix batches: grouping, positions, the block mask, and exactness against one row per sequence."""

from __future__ import annotations

import pytest

from kosql.train.data import TrainRecord
from kosql.train.prefix import group_records, position_ids, prefix_length, segment_ids


def _rec(rid: str, prefix: list[int], suffix: list[int], answer: list[int]) -> TrainRecord:
    ids = prefix + suffix + answer
    return TrainRecord(id=rid, prompt="", completion="", input_ids=ids,
                       completion_mask=[0] * (len(prefix) + len(suffix)) + [1] * len(answer))


def test_positions_and_segments() -> None:
    assert segment_ids([3, 2, 1]) == [0, 0, 0, 1, 1, 2]
    assert position_ids([3, 2, 1]) == [0, 1, 2, 3, 4, 3]


def test_group_records_keeps_every_row_once_and_groups_by_prefix() -> None:
    a = [_rec(f"a{i}", [1, 5, 6], [10 + i], [20, 2]) for i in range(5)]
    b = [_rec(f"b{i}", [1, 7], [30 + i], [40, 2]) for i in range(2)]
    lone = _rec("c", [1, 9], [50], [60, 2])
    groups = group_records([*a, *b, lone], [3] * 5 + [2] * 2 + [0], rows_per_group=2, seed=0)
    assert sorted(i for g in groups for i in g.ids) == sorted(r.id for r in [*a, *b, lone])
    assert sorted(len(g.ids) for g in groups) == [1, 1, 2, 2, 2]
    for g in groups:
        assert sum(g.segments) == len(g.input_ids) == len(g.completion_mask)
        assert sum(g.completion_mask) == 2 * len(g.ids)  # each row's SQL + EOS, nothing else
        if g.ids[0].startswith("a"):
            assert g.input_ids[:3] == [1, 5, 6] and g.segments[0] == 3
    assert group_records(a, [3] * 5, rows_per_group=2, seed=0)[0].ids == \
        group_records(a, [3] * 5, rows_per_group=2, seed=0)[0].ids  # seeded


class _Tok:
    """Characters as token ids; a BOS (1) when asked."""

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict[str, list[int]]:
        return {"input_ids": ([1] if add_special_tokens else []) + [ord(c) for c in text]}


def test_prefix_length_splits_at_the_question_marker_only_when_exact() -> None:
    tok = _Tok()
    prompt = "DDL\n### Question:\n q?\n### SQL:\n"
    ids = tok(prompt)["input_ids"]
    rec = TrainRecord("r", prompt, "S", ids + [83, 2], [0] * len(ids) + [1, 1])
    assert prefix_length(rec, tok, True) == len(tok("DDL\n### Question:")["input_ids"])
    no_mark = TrainRecord("r", "DDL only", "S", tok("DDL only")["input_ids"] + [2], [0] * 9 + [1])
    assert prefix_length(no_mark, tok, True) == 0
    differs = TrainRecord("r", prompt, "S", [1, 99] + ids[2:] + [83, 2], [0] * len(ids) + [1, 1])
    assert prefix_length(differs, tok, True) == 0


torch = pytest.importorskip("torch")


def _tiny(attn: str) -> object:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=70, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
    cfg._attn_implementation = attn
    return LlamaForCausalLM(cfg).eval()


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_packed_group_equals_rows_trained_one_by_one(attn: str) -> None:
    from kosql.train.loss import completion_loss
    from kosql.train.prefix import SharedPrefixCollator

    prefix = [1, 5, 6, 7, 8]
    rows = [_rec("x", prefix, [11, 12], [30, 31, 2]), _rec("y", prefix, [13], [32, 2]),
            _rec("z", prefix, [14, 15, 16], [33, 34, 35, 2])]
    model = _tiny(attn)
    collate = SharedPrefixCollator(0, additive_mask=(attn == "eager"))
    # one row per sequence, summed losses (num_items_in_batch=1 -> sum over SQL tokens)
    total = 0.0
    for r in rows:
        batch = collate([{"input_ids": r.input_ids, "completion_mask": r.completion_mask,
                          "segments": [0, len(r.input_ids)]}])
        loss, _ = completion_loss(model, batch, num_items_in_batch=1)
        loss.backward()
        total += float(loss.detach())
    g_rows = model.model.layers[1].self_attn.q_proj.weight.grad.clone()
    model.zero_grad()
    groups = group_records(rows, [len(prefix)] * 3, rows_per_group=3)
    assert len(groups) == 1
    other = _rec("w", [1, 9], [17], [36, 2])  # a shorter sequence padded in the same batch
    batch = collate([groups[0].to_features(), {"input_ids": other.input_ids, "completion_mask": other.completion_mask,
                                                "segments": [0, len(other.input_ids)]}])
    assert batch["attention_mask"].shape == (2, 1, len(groups[0].input_ids), len(groups[0].input_ids))
    assert int(batch["token_count"]) == len(groups[0].input_ids) + len(other.input_ids)
    single, _ = completion_loss(model, collate([{"input_ids": other.input_ids, "completion_mask": other.completion_mask,
                                                 "segments": [0, len(other.input_ids)]}]), num_items_in_batch=1)
    packed, stats = completion_loss(model, batch, num_items_in_batch=1)
    assert stats["n"] == 9 + 2
    assert abs(float(packed.detach()) - (total + float(single.detach()))) < 1e-4
    model.zero_grad()
    packed_rows, _ = completion_loss(model, collate([groups[0].to_features()]), num_items_in_batch=1)
    packed_rows.backward()
    g_packed = model.model.layers[1].self_attn.q_proj.weight.grad
    assert torch.allclose(g_packed, g_rows, atol=1e-5)


def test_prefix_splits_before_a_token_merged_across_the_mark() -> None:
    """A tokenizer that joins the mark's ':' with the newline after it (as Qwen's BPE does) still gets
    a shared prefix: the split falls before the merged token, on the row's own tokens."""
    from kosql.train.data import TrainRecord
    from kosql.train.prefix import prefix_length

    class MergingTokenizer:
        def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
            ids, i = [], 0
            while i < len(text):
                if text.startswith(":\n", i):
                    ids.append(1000)
                    i += 2
                else:
                    ids.append(ord(text[i]))
                    i += 1
            return {"input_ids": ids}

    tok = MergingTokenizer()
    prompt = "DDL t(a)\n### Question:\n질문\n### SQL:\n"
    ids = tok(prompt + "SELECT a FROM t;")["input_ids"]
    n_prompt = len(tok(prompt)["input_ids"])
    rec = TrainRecord(id="r", prompt=prompt, completion="SELECT a FROM t;", input_ids=ids, completion_mask=[0] * n_prompt + [1] * (len(ids) - n_prompt))
    n = prefix_length(rec, tok, False)
    assert n == len(tok("DDL t(a)\n### Question")["input_ids"])  # up to the ':' that merged with '\n'
    assert ids[:n] == tok("DDL t(a)\n### Question")["input_ids"]
