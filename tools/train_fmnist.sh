#!/usr/bin/env bash
# The main job for now: builds Osprey (tools/setup.sh installs the system packages, Fashion-MNIST
# included) and trains the CIFAR-style ResNet-20 of experiments/specs/fmnist_resnet20.prototxt on
# Fashion-MNIST on the CPU (>= 92.5% top-1 on the test split in <= 20 minutes on 2 cores),
# printing its progress and evaluations. Each call gets a fresh run directory under runs/.
#   tools/train_fmnist.sh [SPEC] [osprey train options, e.g. --set solver.epochs=2]
set -euo pipefail
cd "$(dirname "$0")/.."
OSPREY_TARGETS=osprey_cli tools/build.sh
spec=experiments/specs/fmnist_resnet20.prototxt
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  spec=$1
  shift
fi
name=$(basename "$spec" .prototxt)
exec "${OSPREY_BUILD_DIR:-build}/bin/osprey" train "$spec" \
  --output "runs/${name}-$(date -u +%Y%m%d-%H%M%S)" "$@"
