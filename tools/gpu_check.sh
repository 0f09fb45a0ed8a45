#!/usr/bin/env bash
# The GPU machine's check, in one go and under 6 minutes: configure a CUDA build (Ninja, no
# package installation: the machine has no network), build only what the checks need, run the
# CUDA tests, the CPU test suites of the same build and the GPU benchmarks. Every step runs even
# when an earlier one failed; full logs go to LOG_DIR (first argument, or $OSPREY_GPU_LOG_DIR,
# default gpu_logs/) and a summary table (step, status, seconds) is printed, then the benchmark
# tables (Osprey against PyTorch measured in the same run: bench/train_step_bench.cc).
#   tools/gpu_check.sh [LOG_DIR]   env: OSPREY_BUILD_DIR (build-gpu), OSPREY_JOBS (16),
#                                  OSPREY_GPU_CHECK_BUDGET (seconds, 345)
set -uo pipefail
cd "$(dirname "$0")/.."
export OSPREY_NO_INSTALL=1
log_dir=${1:-${OSPREY_GPU_LOG_DIR:-gpu_logs}}
build=${OSPREY_BUILD_DIR:-build-gpu}
jobs=${OSPREY_JOBS:-16}
mkdir -p "$log_dir"
log_dir=$(cd "$log_dir" && pwd)

# The whole check stays under 6 minutes: each step's limit is cut to what is left.
deadline=$((SECONDS + ${OSPREY_GPU_CHECK_BUDGET:-345}))
steps=()
statuses=()
seconds=()

# run_step NAME TIMEOUT_S COMMAND...: runs the command with a time limit, its output to
# LOG_DIR/NAME.log, and records the outcome.
run_step() {
  local name=$1 limit=$2
  shift 2
  local start=$SECONDS status remaining=$((deadline - SECONDS))
  if [ "$remaining" -lt 5 ]; then
    steps+=("$name")
    statuses+=("skipped(budget)")
    seconds+=(0)
    return
  fi
  [ "$limit" -gt "$remaining" ] && limit=$remaining
  echo "== $name: $*" | tee "$log_dir/$name.log"
  timeout --kill-after=10 "$limit" "$@" >>"$log_dir/$name.log" 2>&1
  local rc=$?
  if [ $rc -eq 0 ]; then
    status=ok
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    status="timeout(${limit}s)"
  else
    status="FAIL(rc=$rc)"
  fi
  steps+=("$name")
  statuses+=("$status")
  seconds+=($((SECONDS - start)))
  tail -n 3 "$log_dir/$name.log"
}

{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || true
  "$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)" --version 2>&1 | tail -n 2 || true
  cmake --version | head -n 1
} >"$log_dir/environment.log"

run_step configure 60 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOSPREY_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES=90
# -k 0: build every target that can be built, so one broken file does not hide the other results.
run_step build 260 cmake --build "$build" -j "$jobs" --target osprey cuda_tests ops_tests \
  framework_tests gpu_bench train_step_bench nms_bench roi_align_bench rpn_proposals_bench -- -k 0
# Synchronising after each launch makes a faulting kernel report itself, not a later call.
run_step cuda_tests 90 env OSPREY_CUDA_SYNC=1 "$build/tests/cuda_tests" --gtest_brief=1
run_step ops_tests 90 "$build/tests/ops_tests" --gtest_brief=1
run_step framework_tests 45 "$build/tests/framework_tests" --gtest_brief=1
run_step gpu_bench 90 "$build/bench/gpu_bench"
# ResNet-50 training steps (fp32, TF32) and DCNv2 against our conv2d, each beside PyTorch
# (python3 bench/reference/torch_gpu_anchors.py, run by the bench); two steps so that one failing
# case does not hide the other's table.
run_step train_step_gpu 100 "$build/bench/train_step_bench" --device=cuda \
  --cases=resnet50_224_fp32,resnet50_224_tf32
run_step dcn_vs_conv_gpu 60 "$build/bench/train_step_bench" --device=cuda --cases=dcn_v2_conv5
# nms: CPU kernels on 6000 boxes and cuda/bitmask on 12000, beside torchvision in the same run.
run_step nms_bench 60 "$build/bench/nms_bench" --reps=10
# RoIAlign 8 x 1024 x 32 x 32, 4096 RoIs, 14 x 14 beside torchvision on the GPU (issue 4 goals).
run_step roi_align_gpu 60 "$build/bench/roi_align_bench" --device=cuda --rounds=2
# SNIPER targets on 16 chips: rpn_proposals (goal <= 2 ms for pre-NMS top 6000), anchor_targets,
# proposal_targets; CUDA cases only.
run_step rpn_proposals_gpu 60 "$build/bench/rpn_proposals_bench" --devices=cuda

echo
echo "gpu_check summary (logs in $log_dir)"
{
  printf '%-18s %-18s %8s\n' step status seconds
  for i in "${!steps[@]}"; do
    printf '%-18s %-18s %8s\n' "${steps[$i]}" "${statuses[$i]}" "${seconds[$i]}"
  done
} | tee "$log_dir/summary.txt"
# The benchmarks' final tables, from the line that opens each one to the end of its log.
for bench_log in gpu_bench train_step_gpu dcn_vs_conv_gpu nms_bench roi_align_gpu rpn_proposals_gpu; do
  [ -f "$log_dir/$bench_log.log" ] || continue
  echo
  awk '/^(gpu_bench summary|rpn_proposals_bench summary|train_step_bench \(|nms_bench:|roi_align_bench |[a-z_]+: skipped)/ { found = 1 } found' \
    "$log_dir/$bench_log.log"
done
for s in "${statuses[@]}"; do
  [ "$s" = ok ] || exit 1
done
exit 0
