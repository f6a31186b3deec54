"""The real embedded default model (smollm2-135m) on a few prompts. The first run converts it once."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from kosql.cli.main import main
from kosql.data.rows import Example
from kosql.models.base import GenerationParams
from kosql.prompts import build_prompt
from kosql.sql.extract import stop_index

pytestmark = pytest.mark.slow

DDL = "CREATE TABLE players (\n  player_id INT PRIMARY KEY,\n  username VARCHAR(255),\n  level INT\n);"
QUESTIONS = ["모든 플레이어 정보를 조회해 줘", "username이 '김철수'인 플레이어의 레벨을 알려줘", "플레이어 수를 세어줘"]


@pytest.fixture(scope="module")
def backend() -> Any:
    pytest.importorskip("torch")
    from kosql.models.registry import load_backend

    return load_backend("hf", "smollm2-135m")


def test_converted_folder_is_a_plain_float_model(backend: Any) -> None:
    folder = Path(backend.path)
    cfg = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in cfg
    assert (folder / "model.safetensors").exists() and (folder / "kosql_source.json").exists()
    assert backend.tokenizer.chat_template and backend.tokenizer.eos_token_id is not None


def test_batched_generation_equals_one_at_a_time_and_obeys_stops(backend: Any) -> None:
    prompts = [build_prompt(DDL, q) for q in QUESTIONS]
    params = GenerationParams(max_new_tokens=40, batch_size=3)
    batched = backend.generate(prompts, params)
    single = [backend.generate([p], params)[0] for p in prompts]
    assert [g.text for g in batched] == [g.text for g in single]
    for gen in batched:
        assert 0 < gen.completion_tokens <= 40 and gen.prompt_tokens > 20 and gen.seconds > 0
        cut = stop_index(gen.text, params.stop)
        assert cut is None or cut == len(gen.text)  # nothing after a stop string


def test_batch_of_two_schemas_computes_each_schema_once_with_the_same_sql(backend: Any, monkeypatch: Any) -> None:
    cols = ",\n  ".join(f"{name} VARCHAR(100)" for name in ("customer", "status", "city", "street", "phone", "memo"))
    other = f"CREATE TABLE orders (\n  order_id INT PRIMARY KEY,\n  {cols},\n  amount INT\n);"
    players = DDL.replace("level INT", "level INT,\n  " + cols.replace("VARCHAR(100)", "TEXT"))
    prompts = [build_prompt(players, q) for q in QUESTIONS] + [build_prompt(other, "주문 금액의 합계를 알려줘"),
                                                              build_prompt(other, "고객별 주문 수를 세어줘")]
    params = GenerationParams(max_new_tokens=32, batch_size=5)
    seen: list[int] = []
    cached = backend._prefix_cached_inputs
    monkeypatch.setattr(backend, "_prefix_cached_inputs", lambda b, r: seen.append(len(r)) or cached(b, r))
    shared = backend.generate(prompts, params)
    assert seen == [2]  # one batch, two prefixes
    monkeypatch.setattr(backend, "prefix_cache", False)
    plain = backend.generate(prompts, params)
    assert [g.text for g in shared] == [g.text for g in plain]


@pytest.mark.parametrize("prefix_cache", [True, False])
def test_dropping_finished_rows_gives_generates_tokens(backend: Any, monkeypatch: Any, prefix_cache: bool) -> None:
    # rows that end at different steps (EOS, a stop string, the length limit) leave the batch early
    prompts = [build_prompt(DDL, q) for q in QUESTIONS] + ["SELECT 1;\n\n\n", "### SQL:\nSELECT name FROM t"]
    params = GenerationParams(max_new_tokens=30, batch_size=5)
    monkeypatch.setattr(backend, "prefix_cache", prefix_cache)
    steps: list[int] = []
    forward = backend.model.forward

    @functools.wraps(forward)  # generate() reads the forward's signature
    def counting(*args: Any, **kwargs: Any) -> Any:
        if kwargs["input_ids"].shape[1] == 1:  # a decoding step
            steps.append(int(kwargs["input_ids"].shape[0]))
        return forward(*args, **kwargs)

    monkeypatch.setattr(backend.model, "forward", counting)
    dropped = backend.generate(prompts, params)
    assert steps[0] == 5 and steps[-1] < 5 and steps == sorted(steps, reverse=True)  # rows left as they ended
    monkeypatch.setattr(backend.model, "forward", forward)
    monkeypatch.setattr(backend, "drop_finished", False)
    full = backend.generate(prompts, params)
    assert [(g.text, g.completion_tokens) for g in dropped] == [(g.text, g.completion_tokens) for g in full]
    assert len({g.completion_tokens for g in full}) > 1


def test_beam_search_returns_the_candidates_of_each_prompt_in_order(backend: Any) -> None:
    prompts = [build_prompt(DDL, q) for q in QUESTIONS[:2]]
    params = GenerationParams(max_new_tokens=24, batch_size=2, num_beams=3, num_return_sequences=3)
    beams = backend.generate(prompts, params)
    assert len(beams) == 6
    alone = backend.generate(prompts[1:], params)
    assert [g.text for g in alone] == [g.text for g in beams[3:]]  # prompt-major, batch-independent
    for gen in beams:
        cut = stop_index(gen.text, params.stop)
        assert cut is None or cut == len(gen.text)
    with pytest.raises(ValueError, match="num_beams"):
        backend.generate(prompts[:1], GenerationParams(max_new_tokens=4, num_beams=2, num_return_sequences=3))


def test_beam_search_computes_each_prompt_once_with_the_same_candidates(backend: Any, monkeypatch: Any) -> None:
    prompts = [build_prompt(DDL, q) for q in QUESTIONS]
    params = GenerationParams(max_new_tokens=24, batch_size=3, num_beams=3, num_return_sequences=3)
    calls: list[int] = []
    prefill = backend._prefilled_inputs
    monkeypatch.setattr(backend, "_prefilled_inputs", lambda b, e: calls.append(e) or prefill(b, e))
    shared = backend.generate(prompts, params)
    assert calls == [3]  # one batch, its prompts computed once, then repeated for the 3 beams
    monkeypatch.setattr(backend, "prefix_cache", False)
    plain = backend.generate(prompts, params)
    assert [g.text for g in shared] == [g.text for g in plain]


def test_converted_model_generates_like_the_gguf(backend: Any) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from kosql.models.resolve import EMBEDDED_MODELS, locate_gguf

    gguf = locate_gguf(EMBEDDED_MODELS["smollm2-135m"])
    original = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    ids = backend.tokenizer(build_prompt(DDL, QUESTIONS[0]), return_tensors="pt")
    with torch.inference_mode():
        a = original.generate(**ids, max_new_tokens=16, do_sample=False)
        b = backend.model.generate(**ids, max_new_tokens=16, do_sample=False)
    assert torch.equal(a, b)


def test_zero_lora_adapter_changes_nothing_and_foreign_adapter_is_refused(
        backend: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from peft import LoraConfig, get_peft_model

    from kosql.compat import quiet_foreign_deprecations
    from kosql.models.hf import HFBackend

    prompt = build_prompt(DDL, QUESTIONS[2])
    params = GenerationParams(max_new_tokens=12)
    expected = backend.generate([prompt], params)[0].text
    with quiet_foreign_deprecations():
        peft_model = get_peft_model(backend.model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    peft_model.save_pretrained(str(tmp_path / "ad"))  # lora_B starts at zero: same outputs
    backend.model = peft_model.unload()
    with_adapter = HFBackend("smollm2-135m", adapter=str(tmp_path / "ad"))
    assert with_adapter.generate([prompt], params)[0].text == expected

    from safetensors.torch import save_file

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    import torch

    key = "base_model.model.model.layers.0.self_attn.q_proj"
    save_file({f"{key}.lora_A.weight": torch.zeros(4, 640), f"{key}.lora_B.weight": torch.zeros(1024, 4)},
              str(foreign / "adapter_model.safetensors"))
    (foreign / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "google/gemma-3-270m",
                                                             "peft_type": "LORA", "r": 4}))
    data = tmp_path / "t.jsonl"
    data.write_text(json.dumps(Example("1", "d", DDL, QUESTIONS[0], "SELECT 1;").to_dict()) + "\n")
    code = main(["generate", "--data", str(data), "--model", "smollm2-135m", "--adapter", str(foreign),
                 "--out", str(tmp_path / "p.jsonl")])
    err = capsys.readouterr().err
    assert code == 2
    assert "google/gemma-3-270m" in err and "smollm2-135m" in err and len(err.strip().splitlines()) == 1


def test_generate_command_with_the_default_model(tmp_path: Path) -> None:
    data = tmp_path / "test.jsonl"
    rows = [Example(f"q{i}", "d", DDL, q, "SELECT 1;").to_dict() for i, q in enumerate(QUESTIONS[:2])]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "preds.jsonl"
    assert main(["generate", "--data", str(data), "--prompt-format", "chat", "--max-new-tokens", "24",
                 "--out", str(out)]) == 0
    preds = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [p["id"] for p in preds] == ["q0", "q1"] or sorted(p["id"] for p in preds) == ["q0", "q1"]
    from kosql.models.resolve import DEFAULT_MODEL

    assert all(p["model"] == DEFAULT_MODEL and p["completion_tokens"] > 0 for p in preds)
