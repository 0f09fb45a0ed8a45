#!/usr/bin/python3
"""Cross-checks the box ops against torchvision through the `osprey op` command on random boxes:
box_iou, box_area, clip_boxes_to_image, remove_small_boxes, nms, batched_nms, the box coder
(BoxCoder with weights 10, 10, 5, 5) and anchor_grid (AnchorGenerator + grid shifts). Prints one
line per op and exits non-zero on a mismatch.

Usage: /usr/bin/python3 tools/box_ops_vs_torchvision.py [PATH_TO_OSPREY]   (default build/bin/osprey)
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from torchvision.models.detection._utils import BoxCoder
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.ops import batched_nms, box_area, box_iou, clip_boxes_to_image, nms, remove_small_boxes

OSPREY = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/bin/osprey")


def run(workdir, op, inputs, attrs):
    out = os.path.join(workdir, "out_" + op)
    cmd = [OSPREY, "op", op, "--out", out]
    for name, value in inputs.items():
        path = os.path.join(workdir, f"{op}_{name}.npy")
        np.save(path, value)
        cmd += ["--in", f"{name}={path}"]
    for name, value in attrs.items():
        cmd += ["--attr", f"{name}={value}"]
    subprocess.run(cmd, check=True, capture_output=True)
    return np.load(os.path.join(out, "output.npy"))


def main():
    gen = torch.Generator().manual_seed(1)
    n = 3000
    xy = torch.rand(n, 2, generator=gen) * 500
    wh = 1 + torch.rand(n, 2, generator=gen) * 100
    boxes = torch.cat([xy, xy + wh], 1)
    scores = torch.rand(n, generator=gen)
    groups = torch.randint(0, 5, (n,), generator=gen)
    coder = BoxCoder((10.0, 10.0, 5.0, 5.0))
    ref, target = boxes[:500], boxes[500:1000]
    deltas = torch.randn(500, 8, generator=gen)
    sizes, ratios = (32, 64), (0.5, 1.0, 2.0)
    cell = AnchorGenerator(sizes=(sizes,), aspect_ratios=(ratios,)).generate_anchors(sizes, ratios)
    shift_y, shift_x = torch.meshgrid(torch.arange(3) * 16, torch.arange(4) * 16, indexing="ij")
    shifts = torch.stack([shift_x.reshape(-1), shift_y.reshape(-1)] * 2, 1)
    grid = (shifts.view(-1, 1, 4) + cell.view(1, -1, 4)).reshape(-1, 4)
    b, s = boxes.numpy(), scores.numpy()
    failed = False
    with tempfile.TemporaryDirectory() as d:
        checks = [
            ("box_iou", run(d, "box_iou", {"boxes1": b[:300], "boxes2": b[300:700]}, {}),
             box_iou(boxes[:300], boxes[300:700]), 1e-6),
            ("box_area", run(d, "box_area", {"boxes": b}, {}), box_area(boxes), 1e-3),
            ("clip_boxes_to_image", run(d, "clip_boxes_to_image", {"boxes": b}, {"size": "300,400"}),
             clip_boxes_to_image(boxes, (300, 400)), 0),
            ("remove_small_boxes", run(d, "remove_small_boxes", {"boxes": b}, {"min_size": 30}),
             remove_small_boxes(boxes, 30), 0),
            ("nms", run(d, "nms", {"boxes": b, "scores": s}, {"iou_threshold": 0.5}),
             nms(boxes, scores, 0.5), 0),
            ("batched_nms",
             run(d, "batched_nms", {"boxes": b, "scores": s, "idxs": groups.numpy()},
                 {"iou_threshold": 0.5}), batched_nms(boxes, scores, groups, 0.5), 0),
            ("box_encode",
             run(d, "box_encode", {"reference_boxes": ref.numpy(), "boxes": target.numpy()},
                 {"weights": "10,10,5,5"}), coder.encode_single(target, ref), 1e-5),
            ("box_decode",
             run(d, "box_decode", {"reference_boxes": ref.numpy(), "deltas": deltas.numpy()},
                 {"weights": "10,10,5,5"}), coder.decode_single(deltas, ref), 1e-3),
            ("anchor_grid",
             run(d, "anchor_grid", {}, {"base_size": 32, "scales": "1,2", "ratios": "0.5,1,2",
                                        "stride": 16, "map_size": "3,4"}), grid, 0),
        ]
        for name, ours, theirs, tol in checks:
            theirs = theirs.numpy()
            ok = ours.shape == theirs.shape and np.abs(ours - theirs).max(initial=0) <= tol
            failed |= not ok
            diff = np.abs(ours - theirs).max(initial=0) if ours.shape == theirs.shape else "shape"
            print(f"{name:22s} {'ok' if ok else 'MISMATCH'}  shape {ours.shape}  max |diff| {diff}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
