#!/usr/bin/python3
"""PyTorch yardstick for bench/train_step_bench.cc's CPU cases: one training step (zero grads,
forward, cross-entropy, backward, SGD momentum 0.9 without weight decay, lr 0.01) of the same
network, batch, input and thread count as Osprey's, timed the same way.

usage: /usr/bin/python3 torch_train_step.py [--threads 2] [--warmup 2] [--target-s 10]
                                            [--min-reps 5] [--max-reps 50] [--json FILE] CASE ...
       /usr/bin/python3 torch_train_step.py [--threads 2] --serve CASE
cases: resnet50_224  ResNet-50, batch 8, 3x224x224, 1000 classes
       resnet18_64   ResNet-18 (ImageNet stem), batch 32, 3x64x64, 10 classes
       resnet20_28   CIFAR ResNet-20, batch 128, 1x28x28, 10 classes (Osprey's end-to-end model)

The networks are written out here rather than taken from torchvision, so the script runs where
torchvision is not installed and the CIFAR net exists at all. They are torchvision's ResNet
("v1.5": stride on the bottleneck's 3x3 conv; 7x7/2 stem with a 3x3/2 max pool; 1x1 conv + BN
projection shortcuts) and, for resnet20, He et al.'s CIFAR net with the same projection shortcuts
where the shape changes (Osprey's models/backbones/resnet_presets.h). Each result prints the
parameter count, which the benchmark compares with Osprey's model of the same case.

Timing as /work/shared/bench/cpu/bench_torch.py: `warmup` steps (the first one timed), then N
timed steps with N = target_s / first step clamped to [min_reps, max_reps]; the median is reported.
Each result is one line "RESULT {json}". With --serve the script instead waits for step requests
on stdin (bench/train_step_bench.cc alternates them with its own steps, so that both see the same
machine load).
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_ch, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.shortcut = projection(in_ch, width, stride)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (self.shortcut(x) if self.shortcut is not None else x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_ch, width, stride):
        super().__init__()
        out = width * 4
        self.conv1 = nn.Conv2d(in_ch, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.shortcut = projection(in_ch, out, stride)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (self.shortcut(x) if self.shortcut is not None else x))


def projection(in_ch, out_ch, stride):
    # Where the shape changes: 1x1 conv + BN ("option B"); elsewhere the identity.
    if stride == 1 and in_ch == out_ch:
        return None
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))


class ResNet(nn.Module):
    def __init__(self, block, depths, widths, stem, in_channels, num_classes):
        super().__init__()
        if stem == "imagenet":
            self.stem = nn.Sequential(nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                      nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
            ch = 64
        else:  # cifar
            self.stem = nn.Sequential(nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16),
                                      nn.ReLU(inplace=True))
            ch = 16
        stages = []
        for i, (depth, width) in enumerate(zip(depths, widths)):
            blocks = []
            for b in range(depth):
                blocks.append(block(ch, width, 2 if (b == 0 and i > 0) else 1))
                ch = width * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.fc = nn.Linear(ch, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# name: (block, depths, widths, stem, in_channels, size, batch, classes)
CASES = {
    "resnet50_224": (Bottleneck, [3, 4, 6, 3], [64, 128, 256, 512], "imagenet", 3, 224, 8, 1000),
    "resnet18_64": (BasicBlock, [2, 2, 2, 2], [64, 128, 256, 512], "imagenet", 3, 64, 32, 10),
    "resnet20_28": (BasicBlock, [3, 3, 3], [16, 32, 64], "cifar", 1, 28, 128, 10),
}


def measure(fn, warmup, target_s, min_reps, max_reps):
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    for _ in range(warmup - 1):
        fn()
    reps = int(max(min_reps, min(max_reps, target_s / max(first, 1e-6))))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), reps


def setup(name):
    """The case's model, data and optimiser; returns (one training step, batch, parameter count)."""
    block, depths, widths, stem, in_ch, size, batch, classes = CASES[name]
    torch.manual_seed(0)
    model = ResNet(block, depths, widths, stem, in_ch, classes).train()
    x = torch.randn(batch, in_ch, size, size)
    y = torch.arange(batch) % classes
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return step, batch, sum(p.numel() for p in model.parameters())


def run_case(name, args):
    step, batch, params = setup(name)
    median, best, reps = measure(step, args.warmup, args.target_s, args.min_reps, args.max_reps)
    return {"name": name, "img_per_s": round(batch / median, 3), "ms_per_step": round(median * 1e3, 3),
            "min_ms": round(best * 1e3, 3), "reps": reps, "batch": batch, "params": params,
            "threads": torch.get_num_threads()}


def serve(name):
    """Steps on request, so that a benchmark can alternate them with its own: prints "READY {json}",
    then for each input line "step" runs one step and prints "STEP <milliseconds> <CPU milliseconds
    of all threads>"; stops at
    "quit" or the end of input."""
    step, batch, params = setup(name)
    print("READY " + json.dumps({"name": name, "batch": batch, "params": params,
                                 "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            break
        if command == "step":
            t0, c0 = time.perf_counter(), time.process_time()
            step()
            wall_ms = (time.perf_counter() - t0) * 1e3
            print(f"STEP {wall_ms:.3f} {(time.process_time() - c0) * 1e3:.3f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", default=list(CASES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--target-s", type=float, default=10.0)
    parser.add_argument("--min-reps", type=int, default=5)
    parser.add_argument("--max-reps", type=int, default=50)
    parser.add_argument("--json", default=None)
    parser.add_argument("--serve", action="store_true", help="step on request (one case; see serve())")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.serve:
        if len(args.cases) != 1 or args.cases[0] not in CASES:
            parser.error(f"--serve takes one case of: {', '.join(CASES)}")
        return serve(args.cases[0])
    print(f"# torch {torch.__version__} threads {torch.get_num_threads()}", flush=True)
    results = {}
    for name in args.cases:
        if name not in CASES:
            parser.error(f"unknown case '{name}' (cases: {', '.join(CASES)})")
        results[name] = run_case(name, args)
        print("RESULT " + json.dumps(results[name]), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
