"""Configuration dataclasses of ``kosql train`` (SFT) and ``kosql dpo`` (loaded by kosql.config)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


def _f(default: Any, help: str, **meta: Any) -> Any:
    """A dataclass field with a default and ``help`` (and optional min/max/choices) metadata."""
    if isinstance(default, list | dict):
        value = default
        return field(default_factory=lambda: type(value)(value), metadata={"help": help, **meta})
    return field(default=default, metadata={"help": help, **meta})


@dataclass
class DataConfig:
    """Which rows to train on and how they become prompt/completion pairs."""

    train: str = field(metadata={"help": "Training rows: a JSONL/CSV file, or 'bundled:small' / 'bundled:<size>' "
                                         "for the bundled synthetic dataset's train split."})
    dev: str | None = _f(None, "Dev rows for EX during/after training: a file or 'bundled:<size>' (its dev split); "
                               "null = no EX.")
    prompt_format: Literal["seed", "compact", "chat"] = _f(
        "seed", "Prompt format: 'seed' (the seed's make_prompt), 'compact' (the same prompt with the schema one "
                "line per table: ~40 % fewer tokens) or 'chat' (the tokenizer's chat template).")
    data_fraction: float = _f(1.0, "Fraction of the training rows to use (the seed's 20-100 % experiment).",
                              min=0.0, max=1.0)
    max_rows: int | None = _f(None, "Use at most this many training rows after data_fraction (null = all).", min=1)
    pool_rows: int | None = _f(None, "Take data_fraction of a fixed seeded pool of this many rows instead of all "
                                     "rows (small-scale data-fraction sweeps; null = all rows).", min=1)
    seed: int = _f(0, "Seed of the row sampling (data_fraction / max_rows).")
    max_length: int = _f(512, "Token limit of prompt + SQL + EOS; longer rows are reported and dropped.", min=16)
    check_sql: bool = _f(True, "Execute every gold SQL on its database (when the row has a db_path) before training "
                               "and report failures.")
    drop_failing_sql: bool = _f(False, "Drop rows whose gold SQL fails to execute (otherwise they are only reported).")


@dataclass
class ModelConfig:
    """The base model and how it is fine-tuned."""

    name: str = _f("smollm2-135m", "Base model: 'smollm2-135m', 'gemma3-270m', a local folder or a hub id.")
    method: Literal["lora", "qlora", "full"] = _f("lora", "'lora' (adapters on a frozen base), 'qlora' (4-bit base "
                                                          "via bitsandbytes, CUDA only) or 'full' fine-tuning.")
    attn_implementation: str | None = _f(None, "Attention kernel passed to from_pretrained ('sdpa', 'eager', "
                                               "'flash_attention_2'); null = transformers' default.")
    freeze_embeddings: bool = _f(False, "Full fine-tuning only: keep the token embeddings (and a tied output head) "
                                        "frozen.")
    freeze_layers: int = _f(0, "Full fine-tuning only: keep the lowest N decoder layers frozen; with "
                               "freeze_embeddings the backward pass then stops above them (faster steps).", min=0)

    def __post_init__(self) -> None:
        if self.method != "full" and (self.freeze_embeddings or self.freeze_layers):
            field = "model.freeze_embeddings" if self.freeze_embeddings else "model.freeze_layers"
            raise ValueError(f"{field} applies to model.method=full only (LoRA already keeps the base frozen).")


@dataclass
class LoraConfig:
    """LoRA adapter settings (ignored when model.method is 'full')."""

    r: int = _f(16, "LoRA rank.", min=1, max=1024)
    alpha: int = _f(32, "LoRA alpha (scale = alpha / r).", min=1)
    dropout: float = _f(0.05, "Dropout on the LoRA input.", min=0.0, max=0.9)
    target_modules: list[str] = _f(["all-linear"], "Modules that get adapters; ['all-linear'] = every linear layer "
                                                   "except the output head.")
    top_layers: int = _f(0, "Adapters on the top N transformer layers only (0 = every layer): the backward pass "
                            "stops at the lowest adapted layer, so training steps are cheaper.", min=0)


@dataclass
class TrainSettings:
    """Optimizer, schedule, batching, precision and checkpoints."""

    learning_rate: float = _f(1e-3, "Peak learning rate.", min=0.0, max=1.0)
    epochs: float = _f(1.0, "Number of passes over the training rows (ignored when max_steps > 0).", min=0.0)
    max_steps: int = _f(-1, "Stop after this many optimizer steps (-1 = use epochs).", min=-1)
    batch_size: int = _f(8, "Rows per device per forward pass.", min=1)
    grad_accum: int = _f(1, "Gradient accumulation steps (effective batch = batch_size x grad_accum x processes).",
                         min=1)
    warmup_ratio: float = _f(0.1, "Fraction of the steps spent warming the learning rate up.", min=0.0, max=1.0)
    weight_decay: float = _f(0.0, "AdamW weight decay.", min=0.0)
    lr_scheduler: str = _f("linear", "Learning-rate schedule (transformers name: linear, cosine, constant, ...).")
    max_grad_norm: float = _f(1.0, "Gradient clipping norm.", min=0.0)
    precision: Literal["auto", "bf16", "fp16", "fp32"] = _f("auto", "Mixed precision: 'auto' = bf16 where the hardware runs "
                                                                    "it natively (a CPU with AVX512-BF16/AMX, a bf16 GPU), fp16 on "
                                                                    "other GPUs, fp32 on other CPUs; 'fp32' = none.")
    gradient_checkpointing: bool = _f(False, "Recompute activations in the backward pass (less memory, ~20 % slower).")
    batching: Literal["shared_prefix", "grouped", "padding_free", "packed", "padded"] = _f(
        "grouped",
        "'shared_prefix' = up to batch_size rows on the same schema in one sequence, the prompt prefix "
        "computed once (exact: block attention mask; ~2x rows/s); 'grouped' = length-grouped batches padded "
        "to the longest row; 'padding_free' = rows concatenated without padding; 'packed' = rows packed into "
        "max_length blocks; 'padded' = random batches (naive).")
    logging_steps: int = _f(5, "Log the loss every N optimizer steps.", min=1)
    save_steps: int = _f(50, "Save a checkpoint every N optimizer steps (for --resume).", min=1)
    save_total_limit: int = _f(2, "Keep at most this many checkpoints.", min=1)
    seed: int = _f(42, "Seed of the trainer (adapter init, shuffling, dropout).")
    report_to: list[str] = _f(["none"], "Experiment trackers passed to transformers: none, tensorboard, mlflow, "
                                        "wandb, ...")
    dataloader_workers: int = _f(0, "Data-loader worker processes.", min=0)
    threads: int | None = _f(None, "torch CPU threads (null = torch's default).", min=1)


@dataclass
class EvalSettings:
    """Execution accuracy (EX) on a few dev rows, at the end and optionally on a schedule."""

    dev_rows: int = _f(0, "Dev rows scored by EX at the end of training (0 = off; needs data.dev).", min=0)
    every_steps: int = _f(0, "Also score EX every N optimizer steps (0 = only at the end).", min=0)
    batch_size: int = _f(8, "Generation batch size for EX.", min=1)
    max_new_tokens: int = _f(128, "Generation limit for EX.", min=1)
    timeout: float = _f(5.0, "Seconds allowed per SQL execution.", min=0.1)


@dataclass
class SFTConfig:
    """``kosql train``: supervised fine-tuning of a base model on Text2SQL rows."""

    data: DataConfig = field(metadata={"help": "Training data."})
    output_dir: str = _f("runs/sft", "Run folder (config.yaml, manifest.json, train_log.jsonl, adapter/, "
                                     "metrics.json, checkpoints/).")
    overwrite: bool = _f(False, "Allow reusing an output_dir that holds a finished run.")
    model: ModelConfig = field(default_factory=ModelConfig, metadata={"help": "Base model."})
    lora: LoraConfig = field(default_factory=LoraConfig, metadata={"help": "LoRA settings."})
    train: TrainSettings = field(default_factory=TrainSettings, metadata={"help": "Trainer settings."})
    eval: EvalSettings = field(default_factory=EvalSettings, metadata={"help": "EX on dev rows."})


@dataclass
class SamplingConfig:
    """How the SFT model's own generations are sampled for preference pairs."""

    questions: int = _f(64, "Training questions to sample (0 = all).", min=0)
    k: int = _f(4, "Generations per question.", min=1, max=64)
    temperature: float = _f(0.9, "Sampling temperature (> 0).", min=0.01, max=5.0)
    top_p: float = _f(0.95, "Nucleus sampling top-p.", min=0.01, max=1.0)
    max_new_tokens: int = _f(128, "Generation limit per sample.", min=1)
    batch_size: int = _f(8, "Prompts per generation batch.", min=1)
    chosen: Literal["gold", "sample"] = _f("gold", "'gold' = the gold SQL is chosen; 'sample' = a correct sample "
                                                   "when there is one, else the gold SQL.")
    timeout: float = _f(5.0, "Seconds allowed per SQL execution.", min=0.1)


@dataclass
class DPOSettings:
    """DPO trainer settings."""

    beta: float = _f(0.1, "DPO beta (strength of the KL anchor to the SFT model).", min=0.0)
    learning_rate: float = _f(5e-5, "Peak learning rate.", min=0.0, max=1.0)
    epochs: float = _f(1.0, "Passes over the pairs (ignored when max_steps > 0).", min=0.0)
    max_steps: int = _f(-1, "Stop after this many optimizer steps (-1 = use epochs).", min=-1)
    batch_size: int = _f(4, "Pairs per device per step.", min=1)
    grad_accum: int = _f(1, "Gradient accumulation steps.", min=1)
    warmup_ratio: float = _f(0.1, "Warm-up fraction.", min=0.0, max=1.0)
    precision: Literal["auto", "bf16", "fp16", "fp32"] = _f("auto", "Mixed precision (see train.precision).")
    logging_steps: int = _f(1, "Log every N steps.", min=1)
    seed: int = _f(42, "Trainer seed.")
    report_to: list[str] = _f(["none"], "Experiment trackers passed to transformers.")
    threads: int | None = _f(None, "torch CPU threads (null = torch's default).", min=1)


@dataclass
class DPOConfig:
    """``kosql dpo``: preference tuning of an SFT run from execution feedback."""

    sft_run: str = field(metadata={"help": "Run folder of `kosql train` whose adapter is tuned further."})
    data: DataConfig = field(metadata={"help": "Questions to sample (data.train) and dev rows for EX (data.dev)."})
    output_dir: str = _f("runs/dpo", "Run folder of the DPO run.")
    overwrite: bool = _f(False, "Allow reusing an output_dir that holds a finished run.")
    sampling: SamplingConfig = field(default_factory=SamplingConfig, metadata={"help": "Sampling of pairs."})
    dpo: DPOSettings = field(default_factory=DPOSettings, metadata={"help": "DPO trainer settings."})
    eval: EvalSettings = field(default_factory=EvalSettings, metadata={"help": "EX before/after on dev rows."})
