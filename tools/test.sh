#!/usr/bin/env bash
# Builds Osprey (CUDA compiled in when nvcc and cuDNN are present) and runs the whole test suite.
# GPU tests skip with a reason when no device is present.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
# As the osprey command does (framework/core/thread_environment.h): idle OpenMP workers sleep
# instead of spinning and starving OpenBLAS's threads.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
cd "${OSPREY_BUILD_DIR:-build}"
ctest --output-on-failure
