#!/usr/bin/env bash
# Configures and builds Osprey into ${OSPREY_BUILD_DIR:-build} (Release, CUDA=AUTO) after making
# sure the system packages are there. Extra arguments go to CMake.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
build=${OSPREY_BUILD_DIR:-build}
jobs=${OSPREY_JOBS:-$(nproc)}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOSPREY_CUDA="${OSPREY_CUDA:-AUTO}" "$@" >"${build}.configure.log" 2>&1 \
  || { cat "${build}.configure.log"; exit 1; }
grep -E "^-- Osprey" "${build}.configure.log" || true
# OSPREY_TARGETS="a b" builds only those targets.
targets=()
for t in ${OSPREY_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build" -j "$jobs" "${targets[@]}"
