"""A pipeline run's options (:class:`QuickstartOptions`, what the user asked for) and plan: the model,
data, recipe, generation settings and folders of one quickstart run, decided and checked once before anything is written (:func:`kosql.pipeline.quickstart.plan_quickstart`)
and then read by every step."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kosql.models.resolve import DEFAULT_MODEL
from kosql.pipeline.steps import METHOD_LABELS, EvalTarget, GenerationSettings, tuned_model


@dataclass
class QuickstartOptions:
    """What the quickstart runs."""

    out: Path = field(metadata={"help": "Run folder."})
    model: str = field(default=DEFAULT_MODEL, metadata={"help": "Base model."})
    dataset: str | None = field(default=None, metadata={"help": "Dataset spec (default: the training config's "
                                                                 "bundled dataset, see quickstart_dataset)."})
    test_per_split: int = field(default=60, metadata={"help": "Test rows per split."})
    handwritten: int = field(default=60, metadata={"help": "Rows of the hand-written dev set (questions kosql's "
                                                          "generator did not write) evaluated too, spread over its "
                                                          "databases (0 = none)."})
    train_config: str | None = field(default=None, metadata={"help": "SFT config (default: CPU config)."})
    method: str | None = field(default=None, metadata={"help": "Fine-tuning method: 'full' or 'lora' "
                                                                "(default: the model's best measured one)."})
    train_overrides: list[str] = field(default_factory=list, metadata={"help": "key=value for training."})
    batch_size: int = field(default=16, metadata={"help": "Generation batch size."})
    max_new_tokens: int = field(default=96, metadata={"help": "Generation length limit."})
    seed: int = field(default=0, metadata={"help": "Seed of the test subset."})
    skip_base: bool = field(default=False, metadata={"help": "Do not evaluate the base model."})
    repair_beams: int = field(default=0, metadata={"help": "Schema-checked decoding of the fine-tuned model "
                                                             "with N beams (0 = off)."})
    vote: int = field(default=0, metadata={"help": "Execution-guided voting of the fine-tuned model over greedy + "
                                                   "K samples (0 = off); the report pairs it with greedy alone."})


@dataclass(frozen=True)
class RunFolders:
    """Where a run's steps write, all under one run folder."""

    out: Path

    @property
    def test_rows(self) -> Path:
        return self.out / "test_rows.jsonl"

    @property
    def base(self) -> Path:
        """The base model's generations and scores."""
        return self.out / "base"

    @property
    def train(self) -> Path:
        """The fine-tuning run folder (config, manifest, adapter/ or the full model, metrics)."""
        return self.out / "train"

    @property
    def finetuned(self) -> Path:
        """The fine-tuned model's generations and scores."""
        return self.out / "finetuned"

    @property
    def summary(self) -> Path:
        return self.out / "summary.json"


@dataclass(frozen=True)
class RunPlan:
    """Everything a quickstart run does, resolved from its options."""

    model: str  # the base model: an embedded name, a local folder or a hub id
    backend: str  # the base model's generation backend (kosql.models.registry.default_backend)
    dataset: str  # the dataset spec the test rows (and by default the training rows) come from
    test_per_split: int
    seed: int  # of the test subset
    train_config: str | None  # the SFT config file
    train_overrides: list[str]  # every key=value the training run gets on top of the config file
    train: Any  # the resolved SFTConfig (kosql.train.config) the training run will use
    generation: GenerationSettings
    folders: RunFolders
    skip_base: bool
    options: QuickstartOptions  # as given, the dataset filled in (options.json, summary.json)

    @property
    def method(self) -> str:
        """The fine-tuning method the training run uses (model.method)."""
        return str(self.train.model.method)

    @property
    def method_label(self) -> str:
        return METHOD_LABELS.get(self.method, self.method)

    @property
    def prompt_format(self) -> str:
        """The training run's prompt format; the base model gets the same prompt."""
        return str(self.train.data.prompt_format)

    @property
    def steps(self) -> list[str]:
        return ["data", *([] if self.skip_base else ["base"]), "train", "finetuned", "report"]

    def base_target(self) -> EvalTarget:
        return EvalTarget(self.model, backend=self.backend, prompt_format=self.prompt_format, label="base")

    def base_generation(self) -> GenerationSettings:
        """The base model's generation settings: the run's, without the schema check and the vote (the
        fine-tuned model's)."""
        return replace(self.generation, repair_beams=0, vote=0)

    def finetuned_target(self, run_dir: Path) -> EvalTarget:
        """What generates after training in ``run_dir``: the base model + its LoRA adapter, or the fully
        fine-tuned model folder; its backend is resolved now that the folder exists (a full model: 'hf')."""
        from kosql.models.registry import default_backend

        name, adapter = tuned_model(run_dir, self.model)
        return EvalTarget(name, adapter=adapter, backend=default_backend(name, adapter),
                          prompt_format=self.prompt_format, label="fine-tuned")
