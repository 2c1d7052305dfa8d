#!/usr/bin/env bash
# Sets up a virtualenv in .venv, installs assistant, indexes seeds/ and asks a question offline.
# Usage: bash scripts/quickstart.sh ["your question"]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
.venv/bin/assistant ingest seeds/
.venv/bin/assistant ask "${1:-How much has Microsoft invested in OpenAI?}"
