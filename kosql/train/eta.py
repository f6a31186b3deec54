"""Honest training time: the time left re-projected from measured step times, and why a run is slow.

:func:`project_seconds` and :func:`slow_causes` are pure; :class:`StepClock` keeps the step times of a
run and says (through a printer) the projection after the first few steps and when it moves, with a
warning naming the likely causes when the projection exceeds the plan by more than half.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

WARM_STEPS = 3  # steps measured before the first projection (the first one pays for warm-up)
SLOW_FACTOR = 1.5  # a projection over the plan by more than half is called out
EXPECTED_CORES = 2  # the shipped CPU recipes were measured on 2 cores


def project_seconds(step_seconds: list[float], total_steps: int, done_steps: int) -> float | None:
    """Seconds left: the median of the measured steps (the first dropped once there are others) times
    the steps left; None before :data:`WARM_STEPS` steps."""
    if len(step_seconds) < WARM_STEPS:
        return None
    steady = step_seconds[1:] if len(step_seconds) > 1 else step_seconds
    return statistics.median(steady[-20:]) * max(total_steps - done_steps, 0)


@dataclass(frozen=True)
class MachineState:
    """What can make a run slower than planned (read by :func:`read_machine_state`)."""

    precision: str  # "bf16" | "fp16" | "fp32"
    native_bf16: bool
    cores: int
    load: float  # 1-minute load average
    own_threads: int  # busy threads this run itself uses


def slow_causes(state: MachineState, *, planned_precision: str = "bf16",
                expected_cores: int = EXPECTED_CORES) -> list[str]:
    """Likely causes of a run slower than its plan, most likely first (pure)."""
    causes: list[str] = []
    if state.precision == "bf16" and not state.native_bf16:
        causes.append("bf16 on a CPU without native bf16 (set train.precision=fp32)")
    elif state.precision == "fp32" and planned_precision == "bf16" and not state.native_bf16:
        causes.append("this CPU has no native bf16, so training runs in fp32, slower than the bf16 the "
                      "estimate was measured with")
    if state.cores < expected_cores:
        causes.append(f"{state.cores} core(s) usable, the plan assumed {expected_cores}")
    if state.load > state.own_threads + 0.75:
        causes.append(f"another process is busy on the cores (load {state.load:.1f} with {state.own_threads} "
                      "thread(s) of this run; KOSQL_THREADS=1 helps on a shared machine)")
    return causes or ["no cause found on this machine (slower cores than the estimate's?)"]


def read_machine_state(precision: str) -> MachineState:
    """This machine's :class:`MachineState` for a run in ``precision``."""
    from kosql.models.cpu import cpu_count, cpu_supports_bf16, default_threads

    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - not Unix
        load = 0.0
    return MachineState(precision=precision, native_bf16=cpu_supports_bf16(), cores=cpu_count(),
                        load=load, own_threads=min(default_threads(), cpu_count()))


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


@dataclass
class StepClock:
    """Step times of one training run and what to say about them.

    ``planned_seconds`` (the whole training's plan, when a pipeline has one) turns on the comparison;
    ``state`` reads the machine when a warning is due (tests pass a fixed one).
    """

    total_steps: int
    say: Callable[[str], None]
    planned_seconds: float | None = None
    planned_precision: str = "bf16"
    precision: str = "fp32"
    state: Callable[[], MachineState] | None = None
    clock: Callable[[], float] = time.monotonic
    steps: list[float] = field(default_factory=list)
    _last: float | None = None
    _said: float | None = None
    _warned: bool = False

    def begin(self) -> None:
        self._last = self.clock()

    def step_done(self, step: int) -> float | None:
        """Record a finished step; returns the projection of the seconds left (None while warming up)."""
        now = self.clock()
        if self._last is not None:
            self.steps.append(now - self._last)
        self._last = now
        left = project_seconds(self.steps, self.total_steps, step)
        if left is None:
            return None
        if self._said is None or abs(left - self._said) > 0.25 * max(self._said, 60.0) or step % 25 == 0:
            self._report(step, left)
        return left

    def _report(self, step: int, left: float) -> None:
        per = statistics.median(self.steps[1:] or self.steps)
        total = sum(self.steps) + left
        plan = f" (planned {_minutes(self.planned_seconds)})" if self.planned_seconds else ""
        self.say(f"training: step {step}/{self.total_steps}, {per:.1f} s a step -> about {_minutes(left)} left, "
                 f"{_minutes(total)} in all{plan}")
        self._said = left
        if self.planned_seconds and total > SLOW_FACTOR * self.planned_seconds and not self._warned:
            self._warned = True
            state = (self.state or (lambda: read_machine_state(self.precision)))()
            causes = slow_causes(state, planned_precision=self.planned_precision)
            self.say(f"warning: training will take {total / self.planned_seconds:.1f}x its plan; likely "
                     f"cause: {'; '.join(causes)}.")

    def summary(self) -> dict[str, Any]:
        return {"steps_timed": len(self.steps), "median_step_seconds":
                round(statistics.median(self.steps[1:] or self.steps), 3) if self.steps else None}
