"""Real fine-tuning of the default model for a few steps: interrupted + resumed SFT, loss, adapter,
merge equivalence and DPO from (fake) generations judged by execution."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("trl")

from kosql.config import build_config  # noqa: E402
from kosql.data.load import load_examples  # noqa: E402
from kosql.errors import UserError  # noqa: E402
from kosql.train.config import DPOConfig, SFTConfig  # noqa: E402

from .conftest import write_dataset  # noqa: E402

pytestmark = pytest.mark.slow

STEPS, STOP_AT = 6, 3


def _sft_cfg(data: Path, out: Path, model: str) -> SFTConfig:
    return build_config(SFTConfig, {
        "data": {"train": str(data), "dev": str(data), "max_length": 256},
        "output_dir": str(out),
        "model": {"name": model},
        "train": {"max_steps": STEPS, "batch_size": 2, "learning_rate": 2e-3, "warmup_ratio": 0.0,
                  "lr_scheduler": "constant", "logging_steps": 1, "save_steps": STOP_AT},
        "eval": {"dev_rows": 2, "max_new_tokens": 24},
    })


def _stop_at(step: int) -> Any:
    from transformers import TrainerCallback

    class Interrupt(TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.global_step == step:
                control.should_save = True
                control.should_training_stop = True

    return Interrupt()


@pytest.fixture(scope="module")
def sft_run(tmp_path_factory: pytest.TempPathFactory, base_model_dir: str) -> dict[str, Any]:
    """One SFT run interrupted at step STOP_AT, then resumed to STEPS."""
    from kosql.train.sft import train_sft

    root = tmp_path_factory.mktemp("sft")
    data = write_dataset(root / "data", n_train=16, n_dev=4)
    cfg = _sft_cfg(data, root / "run", "smollm2-135m")
    run = train_sft(cfg, progress=False, callbacks=[_stop_at(STOP_AT)])
    first_log = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    interrupted = {"metrics": (run / "metrics.json").exists(), "adapter": (run / "adapter").exists(),
                   "checkpoints": sorted(p.name for p in (run / "checkpoints").glob("checkpoint-*"))}
    with pytest.raises(UserError, match="interrupted run; pass --resume"):
        train_sft(cfg, progress=False)
    train_sft(cfg, resume=True, progress=False)
    return {"run": run, "data": data, "cfg": cfg, "first_log": first_log, "interrupted": interrupted,
            "root": root}


def _losses(log: list[dict[str, Any]]) -> dict[int, float]:
    return {e["step"]: e["loss"] for e in log if "loss" in e}


def test_interrupted_run_resumes_from_its_checkpoint(sft_run: dict[str, Any]) -> None:
    assert sft_run["interrupted"] == {"metrics": False, "adapter": False, "checkpoints": [f"checkpoint-{STOP_AT}"]}
    assert sorted(_losses(sft_run["first_log"])) == list(range(1, STOP_AT + 1))
    run: Path = sft_run["run"]
    log = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    steps = [e["step"] for e in log if "loss" in e]
    assert steps == list(range(1, STEPS + 1))  # steps 1..3 once, then 4..6 after the resume (no restart)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["global_step"] == STEPS
    assert metrics["rows_trained"] == 16 and metrics["rows_seen"] == STEPS * 2  # 6 steps of 2 rows
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["resumed_from"].endswith(f"checkpoint-{STOP_AT}")


def test_loss_falls_and_adapter_changes(sft_run: dict[str, Any]) -> None:
    from safetensors.torch import load_file

    run: Path = sft_run["run"]
    losses = _losses([json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()])
    first, last = (losses[1] + losses[2]) / 2, (losses[STEPS - 1] + losses[STEPS]) / 2
    assert last < 0.8 * first, losses
    weights = load_file(str(run / "adapter" / "adapter_model.safetensors"))
    lora_b = [t for name, t in weights.items() if "lora_B" in name]
    assert len(lora_b) >= 7 * 30  # all linear layers of the 30 blocks got adapters
    assert all(float(t.abs().max()) > 0 for t in lora_b)  # B starts at zero: every adapter was trained


def test_run_folder_files(sft_run: dict[str, Any]) -> None:
    from kosql.prompts import prompt_hash

    run: Path = sft_run["run"]
    for name in ("config.yaml", "manifest.json", "train_log.jsonl", "metrics.json", "adapter/adapter_config.json"):
        assert (run / name).exists(), name
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["prompt_hash"] == prompt_hash("seed") and manifest["seed"] == 42
    assert manifest["data"]["rows_trained"] == 16 and len(manifest["data"]["hash"]) == 16
    assert manifest["versions"]["torch"] and manifest["versions"]["trl"]
    assert manifest["data"]["gold_sql_checked"] == 16 and manifest["data"]["gold_sql_failures"] == []
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["dev_ex_rows"] == 2 and metrics["dev_ex"] is not None
    assert metrics["tokens_seen"] > 0


def test_merged_model_generates_like_base_plus_adapter(sft_run: dict[str, Any], base_model_dir: str) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from kosql.compat import quiet_foreign_deprecations
    from kosql.prompts import make_prompt
    from kosql.train.ex import generate_texts
    from kosql.train.merge import merge_run

    out = merge_run(sft_run["run"], sft_run["root"] / "merged")
    assert (out / "model.safetensors").exists() and (out / "tokenizer.json").exists()
    rows = load_examples(sft_run["data"] / "dev.jsonl")[:3]
    prompts = [make_prompt(r.context, r.question) for r in rows]
    tok = AutoTokenizer.from_pretrained(str(out))
    merged = AutoModelForCausalLM.from_pretrained(str(out))
    merged_text = generate_texts(merged, tok, prompts, max_new_tokens=32)
    base = AutoModelForCausalLM.from_pretrained(base_model_dir)
    with quiet_foreign_deprecations():
        adapted = PeftModel.from_pretrained(base, str(sft_run["run"] / "adapter"))
    assert generate_texts(adapted, tok, prompts, max_new_tokens=32) == merged_text
    assert any("SELECT" in t[0] for t in merged_text)
    with pytest.raises(UserError, match="is not empty"):
        merge_run(sft_run["run"], out)


def test_dpo_from_fake_generations(sft_run: dict[str, Any]) -> None:
    from safetensors.torch import load_file

    from kosql.train.dpo import train_dpo

    root: Path = sft_run["root"]
    cfg = build_config(DPOConfig, {
        "sft_run": str(sft_run["run"]), "output_dir": str(root / "dpo"),
        "data": {"train": str(sft_run["data"]), "dev": str(sft_run["data"]), "max_length": 256},
        "sampling": {"questions": 4, "k": 3},
        "dpo": {"max_steps": 2, "batch_size": 2, "learning_rate": 1e-4, "logging_steps": 1},
        "eval": {"dev_rows": 1, "max_new_tokens": 24},
    })

    def fake_sampler(model: Any, tokenizer: Any, rows: list[Any]) -> dict[str, list[str]]:
        return {r.id: [r.answer, "SELECT name FROM employees;", "SELECT nope FROM employees;"] for r in rows}

    run = train_dpo(cfg, progress=False, sampler=fake_sampler)
    metrics = json.loads((run / "metrics.json").read_text())
    pairs = [json.loads(line) for line in (run / "pairs.jsonl").read_text().splitlines()]
    assert metrics["pairs"] == len(pairs) == 4
    assert all(p["rejected"] == "SELECT name FROM employees;" and p["rejected_kind"] == "wrong_result"
               for p in pairs)
    assert metrics["global_step"] == 2
    assert metrics["first_loss"] == pytest.approx(0.6931, abs=0.01)  # policy == reference at step 1
    assert metrics["dev_ex_before"] is not None and metrics["dev_ex_after"] is not None
    assert not (run / "adapter" / "ref").exists()
    before = load_file(str(sft_run["run"] / "adapter" / "adapter_model.safetensors"))
    after = load_file(str(run / "adapter" / "adapter_model.safetensors"))
    assert before.keys() == after.keys()
    assert any(not before[k].equal(after[k]) for k in before)


def test_training_decodes_like_kosql_generate(sft_run: dict[str, Any]) -> None:
    """Dev EX and DPO sampling decode with kosql generate's own code (stop strings, prefix cache):
    the in-memory model's texts equal those of HFBackend loading the same weights from disk."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from kosql.models.base import GenerationParams
    from kosql.models.hf import HFBackend
    from kosql.prompts import make_prompt
    from kosql.train.ex import generate_texts
    from kosql.train.merge import merge_run

    out = merge_run(sft_run["run"], sft_run["root"] / "merged-decoder")
    rows = load_examples(sft_run["data"] / "dev.jsonl")[:3]
    prompts = [make_prompt(r.context, r.question) for r in rows]
    model = AutoModelForCausalLM.from_pretrained(str(out))
    in_training = generate_texts(model, AutoTokenizer.from_pretrained(str(out)), prompts, max_new_tokens=32)
    generated = HFBackend(str(out)).generate(prompts, GenerationParams(max_new_tokens=32))
    assert [t[0] for t in in_training] == [g.text for g in generated]
