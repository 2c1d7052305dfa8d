#!/usr/bin/env bash
# Installs assistant with its test extra into .venv and runs the whole test suite (unit + integration).
# llama-cpp-python (for the real OpenAI-compatible server in the integration tests) compiles from
# source the first time (~5-6 min on 2 cores); pip keeps the built wheel in its cache afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
.venv/bin/python -m pytest "$@"
