#!/usr/bin/python3
"""PyTorch CPU timings of the conv2d shapes of bench/conv2d_bench.cc, for its ratio table.

Usage: torch_cpu_reference.py '<json>' where <json> is
  {"threads": 2, "min_time": 0.3, "shapes": [{"name": ..., "n": N, "c": C, "h": H, "w": W,
   "o": O, "k": k, "stride": s, "padding": p, "groups": g}, ...], "modes": ["fwd", "fwdbwd"]}
Prints one JSON object: {"torch": version, "mkldnn": bool, "results": [{"name", "mode",
"median_s", "best_s", "cpu_median_s" (CPU seconds of
all threads), "iterations"}]}; {"error": ...} when torch cannot be imported.
fwd is F.conv2d without autograd; fwdbwd is the forward plus the gradients of input and weight
(no bias: ResNet convolutions are followed by batch norm).
"""
import json
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:  # the C++ side prints our numbers only
    print(json.dumps({"error": f"cannot import torch: {e}"}))
    sys.exit(0)


def time_step(step, min_time):
    step()  # warm-up: oneDNN primitive creation, allocator
    times, cpu = [], []
    start = time.perf_counter()
    while time.perf_counter() - start < min_time or len(times) < 5:
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    times.sort()
    cpu.sort()
    return times[len(times) // 2], times[0], cpu[len(cpu) // 2], len(times)


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(int(spec.get("threads", 2)))
    min_time = float(spec.get("min_time", 0.3))
    results = []
    for s in spec["shapes"]:
        gen = torch.Generator().manual_seed(1)
        x = torch.rand(s["n"], s["c"], s["h"], s["w"], generator=gen)
        w = torch.rand(s["o"], s["c"] // s["groups"], s["k"], s["k"], generator=gen)
        if s.get("channels_last"):
            x = x.contiguous(memory_format=torch.channels_last)
        args = dict(stride=s["stride"], padding=s["padding"], groups=s["groups"])
        for mode in spec["modes"]:
            if mode == "fwd":
                def step():
                    with torch.no_grad():
                        F.conv2d(x, w, **args)
            else:
                xg = x.clone().requires_grad_(True)
                wg = w.clone().requires_grad_(True)
                with torch.no_grad():
                    g = torch.rand_like(F.conv2d(x, w, **args))

                def step():
                    xg.grad = None
                    wg.grad = None
                    F.conv2d(xg, wg, **args).backward(g)
            median, best, cpu, iterations = time_step(step, min_time)
            results.append({"name": s["name"], "mode": mode, "median_s": median, "best_s": best,
                            "cpu_median_s": cpu, "iterations": iterations})
    print(json.dumps({"torch": torch.__version__, "mkldnn": torch.backends.mkldnn.is_available(),
                      "threads": torch.get_num_threads(), "results": results}))


if __name__ == "__main__":
    main()
