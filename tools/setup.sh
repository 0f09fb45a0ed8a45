#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Osprey builds against, when missing. As root it runs apt-get;
# otherwise it prints the exact apt-get line and fails. OSPREY_NO_INSTALL=1 only checks (the GPU
# machine has no network and ships the libraries).
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libopenblas-dev        # CPU GEMM
  libprotobuf-dev protobuf-compiler  # experiment specs, checkpoints
  zlib1g-dev             # gzip'd dataset files
  libfmt-dev             # formatting (g++ 12 has no <format>)
  libcli11-dev           # command line
  libgtest-dev libbenchmark-dev  # tests and benchmarks
  libjpeg-dev libpng-dev  # image decoding/encoding (libjpeg-turbo's libjpeg API on Debian and Ubuntu, libpng)
  libexpat1-dev          # VOC / ImageNet-Loc XML annotations
  nlohmann-json3-dev     # COCO instances JSON
  libdnnl-dev            # oneDNN: the optional cpu/onednn conv2d kernels (built when found)
  dataset-fashion-mnist  # the real image data of the built-in study (/usr/share/datasets/fashion-mnist)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "${OSPREY_NO_INSTALL:-0}" = 1 ]; then
  echo "setup: missing packages (not installing, OSPREY_NO_INSTALL=1): ${missing[*]}" >&2
  exit 0
fi
line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
  echo "setup: missing packages; run as root:" >&2
  echo "  apt-get update && $line" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$line
