#!/usr/bin/python3
"""torchvision.ops.nms on boxes and scores read from .npy files (written by bench/nms_bench.cc),
timed like the Osprey side: warm-up, then REPS calls, median and best in seconds.

Usage: /usr/bin/python3 torch_nms.py BOXES.npy SCORES.npy DEVICE THREADS IOU REPS KEEP_OUT.npy
Prints one line: RESULT {"kept": K, "median_s": ..., "best_s": ..., "torchvision": "..."}
and writes the kept indices to KEEP_OUT.npy (int64) so the caller can compare them with its own.
"""
import json
import statistics
import sys
import time

import numpy as np
import torch
import torchvision
from torchvision.ops import nms


def main():
    boxes_path, scores_path, device, threads, iou, reps, keep_out = sys.argv[1:8]
    torch.set_num_threads(int(threads))
    boxes = torch.from_numpy(np.load(boxes_path)).to(device)
    scores = torch.from_numpy(np.load(scores_path)).to(device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    keep = nms(boxes, scores, float(iou))
    sync()
    times = []
    for _ in range(int(reps)):
        t0 = time.perf_counter()
        nms(boxes, scores, float(iou))
        sync()
        times.append(time.perf_counter() - t0)
    np.save(keep_out, keep.cpu().numpy().astype(np.int64))
    print("RESULT " + json.dumps({"kept": int(keep.numel()), "median_s": statistics.median(times),
                                  "best_s": min(times), "torchvision": torchvision.__version__}))


if __name__ == "__main__":
    main()
