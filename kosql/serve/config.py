"""Settings of `kosql serve`: limits, batching and prompt handling (validated when built)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from kosql.errors import UserError

CHAT_PROMPTS: tuple[str, ...] = ("plain", "template")


@dataclass(frozen=True)
class ServeConfig:
    """How the server batches, bounds and answers requests."""

    host: str = field(default="127.0.0.1", metadata={"help": "Address to bind (127.0.0.1: this machine only)."})
    port: int = field(default=8000, metadata={"help": "TCP port (0 picks a free one)."})
    model_id: str = field(default="kosql", metadata={"help": "Model name served at /v1/models; requests must name it."})
    api_key: str | None = field(default=None, metadata={"help": "Bearer key every /v1 and /api request must send "
                                                                "(read from the --api-key-env variable)."})
    max_batch: int = field(default=8, metadata={"help": "Most prompts per model call (1 = one at a time)."})
    batch_window_ms: float = field(default=10.0, metadata={"help": "How long the first prompt of a batch "
                                                                     "waits for others (milliseconds)."})
    max_queue: int = field(default=64, metadata={"help": "Prompts queued or generating at most; more get 503, "
                                                             "and a request holding more gets 400."})
    max_body_bytes: int = field(default=1_000_000, metadata={"help": "Largest request body accepted (413 above)."})
    max_question_chars: int = field(default=1000, metadata={"help": "Longest question accepted by /api (400 above)."})
    max_prompt_chars: int = field(default=200_000, metadata={"help": "Longest prompt accepted by /v1 (400 above)."})
    max_tokens_limit: int = field(default=1024, metadata={"help": "Largest max_tokens a /v1 request may ask for."})
    default_max_tokens: int = field(default=256, metadata={"help": "max_tokens of a /v1 request that sets none."})
    sql_max_tokens: int = field(default=192, metadata={"help": "Tokens generated for one SQL answer (/api)."})
    max_n: int = field(default=8, metadata={"help": "Largest n (completions per prompt) of a /v1 request."})
    chat_prompt: str = field(default="plain", metadata={"help": "How /v1/chat/completions turns messages into a "
                                                                "prompt: 'plain' joins their text (the format "
                                                                "kosql models are trained on), 'template' applies "
                                                                "the tokenizer's chat template."})
    vote: int = field(default=0, metadata={"help": "Execution-guided voting on /api/ask: the greedy SQL plus K "
                                                   "sampled candidates, the largest group of equal results wins "
                                                   "and its share is the answer's confidence (0 = off)."})
    min_confidence: float = field(default=0.5, metadata={"help": "With vote: below this share the answer is "
                                                                 "marked not sure and the candidates are shown."})
    feedback_path: Path = field(default=Path("kosql-feedback.jsonl"),
                                metadata={"help": "JSONL file the page's feedback buttons append to "
                                                  "(a `kosql train data.train=` file)."})

    def __post_init__(self) -> None:
        positive = ("max_batch", "max_queue", "max_body_bytes", "max_question_chars", "max_prompt_chars",
                    "max_tokens_limit", "default_max_tokens", "sql_max_tokens", "max_n")
        for name in positive:
            if getattr(self, name) < 1:
                raise UserError(f"serve.{name} must be at least 1, not {getattr(self, name)}.")
        if self.vote < 0 or not 0.0 <= self.min_confidence <= 1.0:
            raise UserError("serve.vote must be >= 0 and serve.min_confidence between 0 and 1.")
        if self.batch_window_ms < 0:
            raise UserError(f"serve.batch_window_ms must be >= 0, not {self.batch_window_ms}.")
        if not 0 <= self.port <= 65535:
            raise UserError(f"serve.port must be between 0 and 65535, not {self.port}.")
        if self.chat_prompt not in CHAT_PROMPTS:
            raise UserError(f"serve.chat_prompt must be one of {', '.join(CHAT_PROMPTS)}, not {self.chat_prompt!r}.")
        if self.default_max_tokens > self.max_tokens_limit:
            raise UserError("serve.default_max_tokens must not exceed serve.max_tokens_limit.")


def config_help() -> dict[str, str]:
    """Field name -> help text (for docs and the CLI)."""
    return {f.name: str(f.metadata.get("help", "")) for f in fields(ServeConfig)}
