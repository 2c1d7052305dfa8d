#!/usr/bin/env bash
# Installs assistant with its test extra into .venv and runs the whole test suite (unit + integration).
# llama-cpp-python (the real OpenAI-compatible server in the integration tests) is compiled first, for
# this CPU's instruction sets (scripts/install_llama_cpp.sh; ~5-6 min on 2 cores, once per venv).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
bash scripts/install_llama_cpp.sh .venv
.venv/bin/python -m pip install -q -e '.[test]'
.venv/bin/python -m pytest "$@"
