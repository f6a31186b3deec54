"""Which prompt format a model gets when none is asked for, and the prompt text a backend is sent.

The one decision behind ``kosql generate``, ``kosql ask``, ``kosql serve`` and the pipelines'
generation steps (:func:`default_prompt_format`), and the one renderer of a question's prompt for a
given backend (:func:`render_prompt`), used by the predictions runner and by ``kosql.ask.Asker``.
"""

from __future__ import annotations

from kosql.errors import UserError
from kosql.models.base import Backend, backend_tokenizer
from kosql.prompts import PROMPT_FORMATS, build_prompt, make_prompt


def takes_chat_prompt(backend: Backend) -> bool:
    """Whether ``backend`` can be sent a chat-format prompt: it has a tokenizer with a chat template
    (hf, vllm, llama.cpp on a GGUF that carries one) or an API that applies the model's template
    itself (``chat_api``: the openai backend on ``/chat/completions``). The fake backend and an
    OpenAI-compatible ``/completions`` endpoint cannot."""
    tokenizer = backend_tokenizer(backend)
    if tokenizer is not None:
        return bool(getattr(tokenizer, "chat_template", None))
    return bool(getattr(backend, "chat_api", False))


def default_prompt_format(model: str, adapter: str | None = None, backend: Backend | None = None) -> str:
    """The prompt format used when none is asked for:

    1. the format the ``adapter`` was trained with (its kosql run's manifest), else the one a
       kosql-trained ``model`` folder was trained with;
    2. else the model's own: 'chat' for the embedded Qwen2.5-Coder instruction models, 'seed' for
       any other model (an adapter without a kosql record counts as its base model);
    3. 'chat' becomes 'seed' for a ``backend`` that cannot take a chat prompt
       (:func:`takes_chat_prompt`), so every request it gets can be built.
    """
    from kosql.models.embedded import untrained_prompt_format
    from kosql.runinfo import trained_prompt_format

    fmt = (trained_prompt_format(adapter) if adapter else None) or trained_prompt_format(model) \
        or untrained_prompt_format(model)
    if fmt == "chat" and backend is not None and not takes_chat_prompt(backend):
        return "seed"
    return fmt


def render_prompt(ddl: str, question: str, prompt_format: str, backend: Backend | None) -> str:
    """The text ``backend`` is sent for ``question`` over ``ddl`` in ``prompt_format``.

    The chat format uses the backend's tokenizer chat template; a backend without a tokenizer (an
    API) is sent the plain user message and applies the chat format itself. A tokenizer without a
    chat template cannot take the chat format (UserError)."""
    if prompt_format not in PROMPT_FORMATS:
        raise UserError(f"Unknown prompt format '{prompt_format}': choose {', '.join(PROMPT_FORMATS)}.")
    tokenizer = backend_tokenizer(backend) if backend is not None else None
    if prompt_format == "chat":
        if tokenizer is None:
            return make_prompt(ddl, question).rstrip()
        if not getattr(tokenizer, "chat_template", None):
            name = getattr(backend, "name", "")
            raise UserError(f"Model '{name}' has no chat template: use --prompt-format seed.")
    return build_prompt(ddl, question, prompt_format, tokenizer)
