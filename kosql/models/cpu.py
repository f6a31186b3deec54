"""What the CPU offers torch: usable cores, the thread count kosql uses, native bf16."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def cpu_model_name() -> str:
    """The CPU's model name as /proc/cpuinfo gives it (e.g. 'AMD EPYC 9B14'), else the platform's word
    for the processor: what every measured time names its machine by."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def default_threads() -> int:
    """Threads for torch on the CPU: ``KOSQL_THREADS`` when set, else the cores this process may use.

    On a shared machine with more runnable processes than cores, OpenMP threads wait on each other
    (one thread decoded ~7x faster than two on a loaded 2-core machine, see bench/generation.py):
    set ``KOSQL_THREADS=1`` there. The load average is not used to guess: it counts this process's
    own recent work too (right after training it would halve generation speed).
    """
    return env_threads() or cpu_count()


def env_threads() -> int | None:
    """The thread count ``KOSQL_THREADS`` asks for (a positive integer), else None: the one reader of
    the variable, for inference (:func:`default_threads`) and training."""
    env = os.environ.get("KOSQL_THREADS", "").strip()
    return int(env) if env.isdigit() and int(env) > 0 else None


# oneDNN ISA caps (ONEDNN_MAX_CPU_ISA) under which oneDNN still runs bf16 matrix products natively.
_BF16_ISAS = ("AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX", "AVX512_CORE_AMX_FP16",
              "AVX10_1_512", "AVX10_1_512_AMX", "AVX10_1_512_AMX_FP16", "AVX10_2_512", "AVX10_2_512_AMX_2", "ALL",
              "DEFAULT")


@dataclass(frozen=True)
class Bf16Probe:
    """Whether torch can run bf16 matrix products natively on this CPU, and why (one sentence)."""

    native: bool
    reason: str


def probe_cpu_bf16(*, hardware: bool | None = None, capability: str | None = None,
                   onednn_isa: str | None = None) -> Bf16Probe:
    """Native bf16 needs the instructions (AVX512-BF16 or AMX), torch's kernels dispatched at AVX512
    (``ATEN_CPU_CAPABILITY``) and oneDNN allowed to use them (``ONEDNN_MAX_CPU_ISA``). Without any of
    them torch falls back to a reference bf16 GEMM ~90x slower than fp32. Arguments override the
    probes (tests); None reads this machine."""
    import torch

    if hardware is None:
        bf16 = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
        amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
        hardware = bool((bf16 and bf16()) or (amx and amx()))
    if capability is None:
        capability = str(torch.backends.cpu.get_cpu_capability())
    if onednn_isa is None:
        onednn_isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "")
    if not hardware:
        return Bf16Probe(False, f"this CPU has no native bf16 (no AVX512-BF16/AMX; torch dispatch {capability})")
    if not capability.upper().startswith("AVX512"):
        return Bf16Probe(False, f"torch dispatches at {capability} here (ATEN_CPU_CAPABILITY), without native bf16")
    if onednn_isa and onednn_isa.strip().upper() not in _BF16_ISAS:
        return Bf16Probe(False, f"ONEDNN_MAX_CPU_ISA={onednn_isa} keeps oneDNN from bf16 instructions")
    return Bf16Probe(True, f"this CPU has native bf16 (torch dispatch {capability})")


def cpu_supports_bf16() -> bool:
    """Whether this CPU runs bf16 arithmetic natively (see :func:`probe_cpu_bf16`)."""
    return probe_cpu_bf16().native


@dataclass(frozen=True)
class Precision:
    """The mixed precision of a torch run: the trainer's flags and the reason, for the console and records."""

    name: str  # "bf16" | "fp16" | "fp32"
    reason: str

    @property
    def flags(self) -> dict[str, bool]:
        return {"bf16": self.name == "bf16", "fp16": self.name == "fp16"}


def decide_precision(precision: str, *, cuda: bool, gpu_bf16: bool = False, cpu_bf16: Bf16Probe | None = None,
                     field_name: str = "train.precision") -> Precision:
    """The one decision of mixed precision for every torch path (SFT, DPO, dev EX, merge, generation).

    'auto' = bf16 where the hardware has it (a bf16 GPU; a CPU per :func:`probe_cpu_bf16`), fp16 on other
    GPUs, fp32 on a CPU without native bf16. Pure when ``cpu_bf16`` is given; raises UserError naming
    ``field_name`` for a choice the hardware cannot run.
    """
    from kosql.errors import UserError

    if precision == "fp32":
        return Precision("fp32", "fp32 was asked for")
    if cuda:
        if precision == "auto":
            return (Precision("bf16", "auto: this GPU supports bf16") if gpu_bf16
                    else Precision("fp16", "auto: this GPU has no bf16"))
        if precision == "fp16":
            return Precision("fp16", "fp16 was asked for")
        if precision == "bf16":
            if not gpu_bf16:
                raise UserError(f"{field_name}: this GPU does not support bf16; use fp16 or fp32.")
            return Precision("bf16", "bf16 was asked for")
        raise UserError(f"{field_name}: unknown precision {precision!r}.")
    if precision == "fp16":
        raise UserError(f"{field_name}: fp16 mixed precision needs a CUDA GPU; use bf16 or fp32 on CPU.")
    if precision not in ("auto", "bf16"):
        raise UserError(f"{field_name}: unknown precision {precision!r}.")
    probe = cpu_bf16 if cpu_bf16 is not None else probe_cpu_bf16()
    if precision == "bf16":
        note = "" if probe.native else f" although {probe.reason} (expect it to be very slow)"
        return Precision("bf16", "bf16 was asked for" + note)
    return Precision("bf16", f"auto: {probe.reason}") if probe.native else Precision("fp32", f"auto: {probe.reason}")


def torch_precision(precision: str, field_name: str = "train.precision") -> Precision:
    """:func:`decide_precision` for this machine (torch imported here)."""
    import torch

    cuda = bool(torch.cuda.is_available())
    gpu_bf16 = bool(cuda and torch.cuda.is_bf16_supported())
    return decide_precision(precision, cuda=cuda, gpu_bf16=gpu_bf16,
                            cpu_bf16=None if not cuda else Bf16Probe(False, "not used on a GPU"),
                            field_name=field_name)
