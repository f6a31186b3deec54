"""The re-projected training time and the causes named when a run is slower than its plan (pure)."""

from __future__ import annotations

from kosql.train.eta import MachineState, StepClock, project_seconds, slow_causes


def _clock(times: list[float]) -> tuple[StepClock, list[str]]:
    said: list[str] = []
    ticks = iter(times)
    state = MachineState(precision="fp32", native_bf16=False, cores=2, load=2.1, own_threads=2)
    return StepClock(total_steps=100, say=said.append, planned_seconds=600.0, precision="fp32",
                     planned_precision="bf16", state=lambda: state, clock=lambda: next(ticks)), said


def test_projection_uses_measured_steps_after_warm_up() -> None:
    assert project_seconds([30.0, 6.0], 100, 2) is None
    assert project_seconds([30.0, 6.0, 6.0], 100, 3) == 6.0 * 97  # the first, warm-up step is left out


def test_a_run_at_its_plan_says_the_time_left_without_warning() -> None:
    clock, said = _clock([0.0, 8.0, 14.0, 20.0, 26.0])
    clock.begin()
    for step in range(1, 5):
        clock.step_done(step)
    assert said and said[0].startswith("training: step 3/100, 6.0 s a step -> about 9.7 min left")
    assert not any(s.startswith("warning") for s in said)


def test_a_slow_run_is_called_out_with_its_cause() -> None:
    clock, said = _clock([0.0, 15.0, 27.0, 39.0])
    clock.begin()
    for step in range(1, 4):
        clock.step_done(step)
    warning = [s for s in said if s.startswith("warning")]
    assert len(warning) == 1 and "2.0x its plan" in warning[0] and "no native bf16" in warning[0]


def test_slow_causes() -> None:
    base = MachineState(precision="bf16", native_bf16=False, cores=1, load=3.0, own_threads=1)
    causes = slow_causes(base)
    assert "train.precision=fp32" in causes[0] and "1 core(s)" in causes[1] and "another process" in causes[2]
    idle = MachineState(precision="bf16", native_bf16=True, cores=2, load=2.0, own_threads=2)
    assert slow_causes(idle)[0].startswith("no cause found")
