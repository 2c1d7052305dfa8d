#!/usr/bin/env bash
# Prints the CMAKE_ARGS that build llama-cpp-python for this CPU without -march=native.
#
# llama-cpp-python compiles ggml with -march=native by default. Inside a VM on an Intel CPU with AMX
# (amx_tile in /proc/cpuinfo) that build segfaults on any prompt longer than one token, so the
# instruction sets are chosen here, one by one, from the CPU's flags, and AMX is never enabled.
# With GGML_NATIVE=OFF ggml turns SSE4.2/AVX/AVX2/BMI2/FMA/F16C on unless told otherwise, so each is
# set explicitly: a CPU without AVX2 gets a build it can run. Non-x86 CPUs keep llama.cpp's defaults.
# An explicit CMAKE_ARGS in the environment wins.
set -euo pipefail
if [ -n "${CMAKE_ARGS:-}" ]; then
  echo "$CMAKE_ARGS"
  exit 0
fi
case "$(uname -m)" in
  x86_64|amd64) ;;
  *) echo ""; exit 0 ;;
esac
flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
has() { [[ "$flags" == *" $1 "* ]]; }
onoff() { if has "$1"; then echo ON; else echo OFF; fi; }
args="-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
args+=" -DGGML_SSE42=$(onoff sse4_2) -DGGML_AVX=$(onoff avx) -DGGML_AVX2=$(onoff avx2) -DGGML_BMI2=$(onoff bmi2)"
args+=" -DGGML_FMA=$(onoff fma) -DGGML_F16C=$(onoff f16c) -DGGML_AVX_VNNI=$(onoff avx_vnni)"
args+=" -DGGML_AVX512=$(onoff avx512f) -DGGML_AVX512_VBMI=$(onoff avx512vbmi)"
args+=" -DGGML_AVX512_VNNI=$(onoff avx512_vnni) -DGGML_AVX512_BF16=$(onoff avx512_bf16)"
echo "$args"
