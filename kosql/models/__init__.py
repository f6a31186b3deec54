"""Model backends (hf, openai, vllm, fake), model resolution and the prediction runner.

Nothing heavy is imported here: torch/transformers/peft/vllm load inside the backend that needs them.
"""

from kosql.models.base import Backend, Generation, GenerationParams

__all__ = ["Backend", "Generation", "GenerationParams"]
