"""One timed pass of ``generate_predictions`` over benchmark rows (shared by the generation benchmarks)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def timed_generation(rows: list[Any], backend: Any, out: Path, way: str, *, batch_size: int,
                     params: Any) -> tuple[list[str], dict[str, Any]]:
    """Generate for ``rows`` into ``out`` (compact prompt, no progress bar); the SQL of each row and the
    pass's seconds, rows/s and completion tokens."""
    from kosql.models.runner import generate_predictions

    print(f"[{way}] running ...", flush=True)
    t0 = time.perf_counter()
    got = generate_predictions(rows, backend, out, prompt_format="compact", batch_size=batch_size,
                               progress=False, params=params)
    seconds = time.perf_counter() - t0
    print(f"[{way}] {seconds:.1f} s", flush=True)
    return [r["pred"] for r in got], {"seconds": round(seconds, 2), "rows_per_s": round(len(rows) / seconds, 3),
                                      "completion_tokens": sum(int(r["completion_tokens"]) for r in got)}
