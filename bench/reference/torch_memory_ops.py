"""PyTorch timings of the memory-bound ops of a ResNet-20 training step, for
bench/cnn_memory_ops_bench.cc: prints one JSON object {"op/shape/layout": milliseconds, ...}
(best of repeated timed calls, 2 threads: on a shared machine the least noisy statistic). Names match the C++ benchmark's."""
import json
import sys
import time

import torch
import torch.nn.functional as F

SHAPES = [(128, 16, 28, 28), (128, 32, 14, 14), (128, 64, 7, 7)]


def best_ms(fn, min_seconds=0.3):
    fn()
    fn()
    samples = []
    start = time.perf_counter()
    while time.perf_counter() - start < min_seconds or len(samples) < 5:
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e3)
    return min(samples)


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    results = {}
    with torch.no_grad():
        for shape in SHAPES:
            n, c, h, w = shape
            for layout in ("nchw", "nhwc"):
                fmt = torch.channels_last if layout == "nhwc" else torch.contiguous_format
                x = torch.randn(shape).contiguous(memory_format=fmt)
                y = torch.randn(shape).contiguous(memory_format=fmt)
                g = torch.randn(shape).contiguous(memory_format=fmt)
                weight, bias = torch.rand(c) + 0.5, torch.rand(c)
                rm, rv = torch.zeros(c), torch.ones(c)
                key = f"{c}x{h}/{layout}"
                out, save_mean, save_invstd = torch.ops.aten.native_batch_norm(
                    x, weight, bias, rm, rv, True, 0.1, 1e-5)
                results["bn_fwd/" + key] = best_ms(
                    lambda: F.batch_norm(x, rm, rv, weight, bias, True, 0.1, 1e-5))
                results["bn_bwd/" + key] = best_ms(
                    lambda: torch.ops.aten.native_batch_norm_backward(
                        g, x, weight, rm, rv, save_mean, save_invstd, True, 1e-5,
                        [True, True, True]))
                results["relu/" + key] = best_ms(lambda: torch.relu(x))
                results["threshold_backward/" + key] = best_ms(
                    lambda: torch.ops.aten.threshold_backward(g, out, 0.0))
                results["add/" + key] = best_ms(lambda: torch.add(x, y))
                results["bn_relu_unfused/" + key] = best_ms(
                    lambda: torch.relu(F.batch_norm(x, rm, rv, weight, bias, True, 0.1, 1e-5)))
                results["add_relu_unfused/" + key] = best_ms(lambda: torch.relu(x + y))
    json.dump(results, sys.stdout)
    print()


if __name__ == "__main__":
    main()
