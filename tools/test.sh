#!/usr/bin/env bash
# Builds Osprey (CUDA compiled in when nvcc and cuDNN are present) and runs the whole test suite.
# GPU tests skip with a reason when no device is present.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
cd "${OSPREY_BUILD_DIR:-build}"
ctest --output-on-failure
