#!/usr/bin/python3
"""Prints the golden values of tests/ops/roi_torchvision_test.cc from torchvision's roi_align and
roi_pool (Debian's torch 1.13 / torchvision 0.14): /usr/bin/python3 roi_torchvision_golden.py

The feature map is a formula (exact in f64 on both sides), the RoIs a fixed list with boxes over
every edge of the map, one smaller than a pixel and one empty; output 2 x 3, spatial_scale 0.5.
"""
import torch
from torchvision.ops import roi_align, roi_pool

N, C, H, W = 2, 1, 5, 6
x = torch.tensor([[[[((n * 7 + c * 3 + h * 5 + w * 11) % 13) / 13.0 - 0.5 for w in range(W)]
                    for h in range(H)] for c in range(C)] for n in range(N)], dtype=torch.float64)
rois = torch.tensor([[0, 1.0, 2.0, 7.0, 6.0], [1, -3.0, -2.5, 4.0, 3.0], [0, 8.5, 6.0, 13.0, 11.0],
                     [1, 2.2, 3.3, 2.9, 3.7], [0, 5.0, 5.0, 5.0, 5.0], [1, -6.0, 0.0, 14.0, 9.5]],
                    dtype=torch.float64)
g = torch.tensor([[[[(k * 5 + i * 3 + j) % 7 - 3.0 for j in range(3)] for i in range(2)]]
                  for k in range(6)], dtype=torch.float64)


def fmt(t):
    return ", ".join(f"{v:.17g}" for v in t.flatten().tolist())


for aligned in (False, True):
    for sr in (-1, 2):
        xx = x.clone().requires_grad_(True)
        y = roi_align(xx, rois, (2, 3), 0.5, sr, aligned)
        y.backward(g)
        print(f"// aligned {aligned}, sampling_ratio {sr}: output, then grad_input")
        print("{" + fmt(y.detach()) + "},")
        print("{" + fmt(xx.grad) + "},")
xx = x.clone().requires_grad_(True)
y, = [roi_pool(xx, rois, (2, 3), 0.5)]
y.backward(g)
print("// roi_pool: output, then grad_input")
print("{" + fmt(y.detach()) + "},")
print("{" + fmt(xx.grad) + "},")
