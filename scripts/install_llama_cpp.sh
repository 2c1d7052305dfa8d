#!/usr/bin/env bash
# Builds llama-cpp-python (the test extra's spec, from pyproject.toml) into .venv for this CPU.
#
# The flags come from scripts/llama_cpp_cmake_args.sh (never -march=native: it segfaults on AMX CPUs
# inside VMs). pip caches a built wheel without regard to CMAKE_ARGS, so the build never reads or
# writes pip's cache; a stamp in .venv records the flags, and a later run rebuilds only when they change.
# Usage: bash scripts/install_llama_cpp.sh [VENV]   (default .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv}"
python="$venv/bin/python"
flags="$(bash scripts/llama_cpp_cmake_args.sh)"
spec="$("$python" - <<'PY'
import tomllib
extras = tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["test"]
print(next(r for r in extras if r.startswith("llama-cpp-python")))
PY
)"
stamp="$venv/llama-cpp-build"
wanted="$spec $flags"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && "$python" -c "import llama_cpp" 2>/dev/null; then
  exit 0
fi
echo "building $spec with CMAKE_ARGS=\"$flags\" (a few minutes on 2 cores)"
"$python" -m pip uninstall -q -y llama-cpp-python 2>/dev/null || true
CMAKE_ARGS="$flags" "$python" -m pip install -q --no-cache-dir --no-binary llama-cpp-python "$spec"
echo "$wanted" > "$stamp"
