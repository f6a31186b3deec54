"""Does the installed llama.cpp run the default model on this CPU? scripts/setup.sh runs this in its own
process after building llama-cpp-python: a build for this CPU can compile in instructions the machine
advertises but cannot execute (AMX tiles in some virtual machines: every matrix product then ends
the process), so a crash here makes setup rebuild llama.cpp without them.

    .venv/bin/python scripts/llamacpp_check.py      # prints 'llama.cpp ok: ...' and exits 0
"""

from __future__ import annotations

import sys
import time


def main() -> int:
    from kosql.models.base import GenerationParams
    from kosql.models.llamacpp import LlamaCppBackend
    from kosql.models.resolve import DEFAULT_MODEL

    start = time.perf_counter()
    backend = LlamaCppBackend(DEFAULT_MODEL, num_threads=1, parallel=2)
    prompts = ["SELECT COUNT(*) FROM", "-- SQLite\nSELECT name FROM"]
    out = backend.generate(prompts, GenerationParams(max_new_tokens=4))
    failed = [g.error for g in out if g.error]
    if failed:
        print(f"llama.cpp failed on {DEFAULT_MODEL}: {failed[0]}", file=sys.stderr)
        return 1
    print(f"llama.cpp ok: {DEFAULT_MODEL} generated {sum(g.completion_tokens for g in out)} tokens "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
