"""Completion-only loss that sends only the SQL positions through the LM head.

TRL's SFTTrainer computes the loss with a tiled, fused LM head that is built for GPUs: profiled on
2 CPU cores it took 42 % of each training step (the backbone and its backward the rest). The
models of transformers 5 take ``logits_to_keep`` as a boolean ``(batch, seq)`` mask, so the loss
here asks the model for the logits of the ~35 labelled positions of a row instead of all ~400,
through the model's own forward (autocast, DDP and PEFT wrappers keep working). Same objective,
same token-weighted mean; ``bench/training.py`` measures the speed-up.
"""

from __future__ import annotations

from typing import Any


def shifted_label_mask(labels: Any) -> tuple[Any, Any]:
    """``(keep, targets)``: ``keep[b, t]`` is True where position t predicts a labelled token t+1,
    and ``targets`` holds those labels in the same (row-major) order."""
    import torch

    shifted = labels[:, 1:]
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = shifted != -100
    return keep, shifted[shifted != -100]


def completion_loss(model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None) -> tuple[Any, dict[str, Any]]:
    """Summed cross-entropy over the labelled positions / the number of labelled tokens.

    Returns the loss and detached statistics (``n``, ``correct``, ``entropy_sum``) for the logs.
    """
    import torch
    import torch.nn.functional as F

    labels = inputs["labels"]
    keep, targets = shifted_label_mask(labels)
    forward = {k: v for k, v in inputs.items() if k not in ("labels", "completion_mask", "token_count")}
    outputs = model(**forward, use_cache=False, logits_to_keep=keep)
    logits = outputs.logits.float()
    if logits.dim() == 3:  # a model that ignores a mask-valued logits_to_keep returns every position
        logits = logits[keep]
    n = targets.numel()
    denom = num_items_in_batch if num_items_in_batch is not None else n
    loss = F.cross_entropy(logits, targets, reduction="sum") / torch.as_tensor(denom).clamp(min=1)
    with torch.no_grad():
        logp = torch.log_softmax(logits, dim=-1)
        stats = {"n": n, "correct": int((logits.argmax(-1) == targets).sum()),
                 "entropy_sum": float(-(logp.exp() * logp).sum())}
    return loss, stats


def real_tokens(inputs: dict[str, Any]) -> int:
    """Non-padding tokens of a batch: ``token_count`` (shared-prefix batches, whose attention mask is
    4D), else the 2D attention mask's sum, else every position."""
    if "token_count" in inputs:
        return int(inputs["token_count"])
    mask = inputs.get("attention_mask")
    if mask is not None and mask.dim() == 2:
        return int(mask.sum())
    return int(inputs["input_ids"].numel())


def trainer_class() -> type:
    """TRL's SFTTrainer with :func:`completion_loss` as its training loss (TRL imported lazily)."""
    from trl import SFTTrainer

    class KosqlSFTTrainer(SFTTrainer):  # type: ignore[misc]
        """SFTTrainer whose loss projects only the completion positions through the LM head."""

        def compute_loss(self, model: Any, inputs: Any, return_outputs: bool = False,
                         num_items_in_batch: Any = None) -> Any:
            if return_outputs or "labels" not in inputs or getattr(self, "aux_loss_enabled", False):
                return super().compute_loss(model, inputs, return_outputs=return_outputs,
                                            num_items_in_batch=num_items_in_batch)
            mode = "train" if model.training else "eval"
            loss, stats = completion_loss(model, inputs, num_items_in_batch)
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                loss = loss * self.accelerator.num_processes
            n = max(int(stats["n"]), 1)
            self._metrics[mode]["entropy"].append(stats["entropy_sum"] / n)
            self._metrics[mode]["mean_token_accuracy"].append(stats["correct"] / n)
            if mode == "train":
                self._total_train_tokens += real_tokens(inputs)
                self._metrics[mode]["num_tokens"] = [self._total_train_tokens]
            return loss

    return KosqlSFTTrainer
