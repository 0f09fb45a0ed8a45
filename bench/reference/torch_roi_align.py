#!/usr/bin/python3
"""torchvision roi_align timings for bench/roi_align_bench.cc, in the same run.

Usage: torch_roi_align.py '<json>' where <json> is {"device": "cpu"|"cuda", "threads": 2,
  "n": N, "c": C, "hw": HW, "rois_per_image": R, "size": 14, "scale": 0.0625, "sampling": 2,
  "reps": 3}. RoIs as bench_torch.py's make_rois (xy in [0, image - 32), wh in [16, 256), clipped
  to the image of HW / scale pixels), seed 0. Prints one JSON object: {"torch", "torchvision",
  "fwd_median_s", "fwd_best_s", "fwdbwd_median_s", "fwdbwd_best_s", "fwd_cpu_median_s",
"fwdbwd_cpu_median_s" (process CPU seconds, all threads)} or {"error": ...}.
"""
import json
import sys
import time

try:
    import torch
    from torchvision.ops import roi_align
except ImportError as e:  # the C++ side prints our numbers only
    print(json.dumps({"error": f"cannot import torch/torchvision: {e}"}))
    sys.exit(0)


def make_rois(n_img, per_img, img_size, gen):
    boxes = []
    for i in range(n_img):
        xy = torch.rand(per_img, 2, generator=gen) * (img_size - 32)
        wh = 16 + torch.rand(per_img, 2, generator=gen) * 240
        x2y2 = torch.minimum(xy + wh, torch.full_like(xy, float(img_size)))
        idx = torch.full((per_img, 1), float(i))
        boxes.append(torch.cat([idx, xy, x2y2], 1))
    return torch.cat(boxes, 0)


def timed(step, reps, sync):
    step()  # warm-up
    sync()
    times, cpu = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        sync()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    times.sort()
    cpu.sort()
    return times[len(times) // 2], times[0], cpu[len(cpu) // 2]


def main():
    spec = json.loads(sys.argv[1])
    device = spec.get("device", "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"error": "torch has no CUDA device"}))
        return
    torch.set_num_threads(int(spec.get("threads", 2)))
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    gen = torch.Generator().manual_seed(0)
    n, c, hw = spec["n"], spec["c"], spec["hw"]
    scale = spec["scale"]
    feat = torch.randn(n, c, hw, hw, generator=gen).to(device)
    rois = make_rois(n, spec["rois_per_image"], int(round(hw / scale)), gen).to(device)
    args = dict(output_size=(spec["size"], spec["size"]), spatial_scale=scale,
                sampling_ratio=spec["sampling"], aligned=True)
    reps = int(spec.get("reps", 3))

    def fwd():
        with torch.no_grad():
            roi_align(feat, rois, **args)

    fwd_median, fwd_best, fwd_cpu = timed(fwd, reps, sync)
    x = feat.clone().requires_grad_(True)
    g = torch.randn(rois.shape[0], c, spec["size"], spec["size"], generator=gen).to(device)

    def fwd_bwd():
        x.grad = None
        roi_align(x, rois, **args).backward(g)

    fb_median, fb_best, fb_cpu = timed(fwd_bwd, reps, sync)
    import torchvision
    print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__,
                      "fwd_median_s": fwd_median, "fwd_best_s": fwd_best,
                      "fwdbwd_median_s": fb_median, "fwdbwd_best_s": fb_best,
                      "fwd_cpu_median_s": fwd_cpu, "fwdbwd_cpu_median_s": fb_cpu}))


if __name__ == "__main__":
    main()
