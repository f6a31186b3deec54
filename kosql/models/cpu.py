"""What the CPU offers torch: usable cores, the thread count kosql uses, native bf16."""

from __future__ import annotations

import os


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def default_threads() -> int:
    """Threads for torch on the CPU: ``KOSQL_THREADS`` when set, else the cores this process may use.

    On a shared machine with more runnable processes than cores, OpenMP threads wait on each other
    (one thread decoded ~7x faster than two on a loaded 2-core machine, see bench/generation.py):
    set ``KOSQL_THREADS=1`` there. The load average is not used to guess: it counts this process's
    own recent work too (right after training it would halve generation speed).
    """
    env = os.environ.get("KOSQL_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return cpu_count()


def cpu_supports_bf16() -> bool:
    """Whether this CPU has native bf16 arithmetic (AVX512-BF16 or AMX)."""
    import torch

    probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool((probe and probe()) or (amx and amx()))
