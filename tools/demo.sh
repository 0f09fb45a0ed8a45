#!/usr/bin/env bash
# The main job for now: builds Osprey and fits a small MLP with plain gradient descent on synthetic
# data on the CPU, printing its loss as it falls.
set -euo pipefail
cd "$(dirname "$0")/.."
OSPREY_TARGETS=osprey_cli tools/build.sh
"${OSPREY_BUILD_DIR:-build}/bin/osprey" demo mlp "$@"
