"""A deterministic backend for tests: no model, instant, scriptable."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kosql.models.base import Generation, GenerationParams

_TABLE_RE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[`\"\[]?(\w+)", re.IGNORECASE)


def _default_reply(prompt: str) -> str:
    """``SELECT * FROM <first table in the prompt>;`` followed by the seed model's chatter."""
    match = _TABLE_RE.search(prompt)
    table = match.group(1) if match else "t"
    return f"SELECT * FROM {table};\n\n### SQL 봇:\nSELECT 1;"


@dataclass
class FakeBackend:
    """Answers every prompt with ``reply(prompt)``; counts calls and prompts it has seen.

    ``fail_after`` raises ``KeyboardInterrupt`` once that many prompts were answered (to test
    interruption); ``seconds_per_token`` is only reported, never slept.
    """

    name: str = "fake"
    reply: Callable[[str], str] = _default_reply
    fail_after: int | None = None
    seconds_per_token: float = 0.001
    calls: int = 0
    seen: list[str] = field(default_factory=list)

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        out: list[Generation] = []
        self.calls += 1
        for prompt in prompts:
            if self.fail_after is not None and len(self.seen) >= self.fail_after:
                raise KeyboardInterrupt
            self.seen.append(prompt)
            for k in range(params.num_return_sequences):
                text = self.reply(prompt)
                if k and not params.greedy:
                    text += f" -- {hashlib.sha1(f'{params.seed}{k}'.encode()).hexdigest()[:6]}"
                words = text.split()
                completion = min(len(words), params.max_new_tokens)
                out.append(Generation(
                    text=" ".join(words[:completion]) if completion < len(words) else text,
                    prompt_tokens=len(prompt.split()),
                    completion_tokens=completion,
                    seconds=completion * self.seconds_per_token,
                ))
        return out
