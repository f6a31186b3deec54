"""scripts/setup.sh picks where torch comes from: the default build with an NVIDIA GPU, a local CPU
wheel when pip finds one without an index, else PyTorch's CPU wheel index (never the CUDA build on a
machine without a GPU); a CPU build is installed alone and its dependencies then come from pip's
configured index. Run against a stand-in python that records each pip call."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

import kosql

REPO = Path(kosql.__file__).resolve().parent.parent
CPU_INDEX = "--index-url https://download.pytorch.org/whl/cpu"

FAKE_PYTHON = """#!/usr/bin/env bash
echo "$* CMAKE_ARGS=${CMAKE_ARGS:-}" >> "$FAKE_LOG"
if [[ "$*" == *"--no-index"* && "$FAKE_LOCAL_TORCH" != 1 ]]; then exit 1; fi
if [[ "$*" == *"llamacpp_check.py"* && -n "${FAKE_CRASHES:-}" ]]; then
  # the first check crashes (a signal's exit status), the one after a rebuild passes
  if [[ ! -e "$FAKE_CRASHES" ]]; then touch "$FAKE_CRASHES"; exit 139; fi
fi
exit 0
"""


def _executable(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _run(tmp_path: Path, gpu: str, local_wheel: bool, *, crashes: bool = False, match: str = "torch==") -> list[str]:
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "setup.sh", root / "scripts" / "setup.sh")
    (root / ".venv" / "bin").mkdir(parents=True)
    _executable(root / ".venv" / "bin" / "python", FAKE_PYTHON)
    _executable(root / ".venv" / "bin" / "kosql", "#!/usr/bin/env bash\necho kosql 0.0\n")
    fakebin = tmp_path / "bin"
    fakebin.mkdir()
    if gpu != "absent":
        _executable(fakebin / "nvidia-smi", f"#!/usr/bin/env bash\nexit {0 if gpu == 'works' else 9}\n")
    log = tmp_path / "pip.log"
    env = {"PATH": f"{fakebin}:/usr/bin:/bin", "FAKE_LOG": str(log), "FAKE_LOCAL_TORCH": "1" if local_wheel else "0",
           "HOME": os.environ.get("HOME", str(tmp_path))}
    if crashes:
        env["FAKE_CRASHES"] = str(tmp_path / "crashed-once")
    done = subprocess.run(["bash", str(root / "scripts" / "setup.sh")], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in log.read_text(encoding="utf-8").splitlines() if match in line]


@pytest.mark.parametrize("gpu", ["absent", "fails"])
def test_without_a_gpu_or_local_wheel_torch_comes_from_the_cpu_index(tmp_path: Path, gpu: str) -> None:
    if gpu == "absent" and shutil.which("nvidia-smi", path="/usr/bin:/bin"):
        pytest.skip("this machine has an nvidia-smi on /usr/bin")
    calls = _run(tmp_path, gpu, local_wheel=False)
    from_index = [c for c in calls if CPU_INDEX in c]
    assert len(from_index) == 1 and "--no-deps" in from_index[0] and "--extra-index-url" not in from_index[0]
    assert calls.index(from_index[0]) == len(calls) - 2
    deps = calls[-1]  # then its dependencies, from pip's configured index
    assert "--no-deps" not in deps and "--index-url" not in deps and "--no-index" not in deps


def test_the_script_names_no_package_index_but_pytorchs() -> None:
    text = (REPO / "scripts" / "setup.sh").read_text(encoding="utf-8")
    hosts = set(re.findall(r"https?://([^/\s\"']+)", text))
    assert hosts == {"download.pytorch.org"}
    assert "--extra-index-url" not in text


def test_a_local_cpu_wheel_is_used_as_it_is(tmp_path: Path) -> None:
    calls = _run(tmp_path, "fails", local_wheel=True)
    assert any("--no-index" in c for c in calls) and not any(CPU_INDEX in c for c in calls)
    assert "--no-deps" not in calls[-1] and "--no-index" not in calls[-1]


def test_with_a_gpu_the_plain_pinned_install(tmp_path: Path) -> None:
    calls = _run(tmp_path, "works", local_wheel=False)
    assert len(calls) == 1 and CPU_INDEX not in calls[0] and "--no-index" not in calls[0]


def test_llama_cpp_that_runs_the_default_model_is_kept(tmp_path: Path) -> None:
    calls = _run(tmp_path, "absent", local_wheel=True, match="llama")
    assert [c for c in calls if "llamacpp_check.py" in c] == [calls[-1]]
    builds = [c for c in calls if "llama-cpp-python==" in c]
    assert len(builds) == 1 and "--force-reinstall" not in builds[0] and "GGML_NATIVE=OFF" not in builds[0]


def test_llama_cpp_that_crashes_on_this_cpu_is_rebuilt_without_amx(tmp_path: Path) -> None:
    calls = _run(tmp_path, "absent", local_wheel=True, crashes=True, match="llama")
    builds = [c for c in calls if "llama-cpp-python==" in c]
    assert len(builds) == 2
    rebuild = builds[1]
    assert "--force-reinstall" in rebuild and "--no-cache-dir" in rebuild  # pip's cached wheel is the crashing one
    assert "-DGGML_NATIVE=OFF" in rebuild and "AMX" not in rebuild
    if Path("/proc/cpuinfo").exists() and " avx2 " in Path("/proc/cpuinfo").read_text(encoding="utf-8"):
        assert "-DGGML_AVX2=ON" in rebuild
    checks = [i for i, c in enumerate(calls) if "llamacpp_check.py" in c]
    assert len(checks) == 2 and checks[0] < calls.index(rebuild) < checks[1]
