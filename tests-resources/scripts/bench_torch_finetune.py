#!/usr/bin/env python3
"""PyTorch's time per fine-tuning step on the MobileNetV2 fixture's architecture, for `graft bench finetune`.

The same work graft does in the same run: torchvision mobilenet_v2(width_mult=0.35), 64x64 inputs, a new
Linear head of 10 classes on the pooled 1280... features, Adam, cross-entropy, BatchNormalization in
inference form. Four modes:
  head:          trunk frozen and run without gradients every step, only the head trains;
  cached:        trunk outputs computed once (timed separately), then the head trains on them;
  full:          every weight but BatchNormalization's trains; its scale, shift and statistics stay
                 (graft's default `bn: frozen`: requires_grad off, not in the optimizer);
  full_bn_train: every weight trains, BatchNormalization's scale and shift too, with its stored
                 statistics (graft's `bn: train`).
Prints one JSON object: per mode the mean time per step over all steps (warm-up included) and the median
of the last half, in milliseconds.
With --profile: only full fine-tuning, under torch.profiler; the JSON holds the self CPU time per step of each
ATen op (the counterpart of `graft bench finetune --profile`'s table).
"""
import argparse
import json
import os
import statistics
import time

import torch
import torchvision


def timed_steps(step, steps):
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    tail = sorted(times[len(times) // 2:])
    return {"mean_ms": statistics.fmean(times), "warm_median_ms": tail[len(tail) // 2]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--profile", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(7)
    rows = a.batch * 8
    x = torch.randn(rows, 3, a.size, a.size)
    y = torch.randint(0, 10, (rows,))
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": a.batch, "steps": a.steps}

    def batches():
        i = 0
        while True:
            s = (i % 8) * a.batch
            yield x[s:s + a.batch], y[s:s + a.batch]
            i += 1

    def model():
        m = torchvision.models.mobilenet_v2(width_mult=0.35, num_classes=10)
        m.eval()  # BatchNormalization with stored statistics, dropout off: graft's bn: frozen
        trunk = torch.nn.Sequential(m.features, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
        head = torch.nn.Linear(m.last_channel, 10)
        return trunk, head

    loss_fn = torch.nn.CrossEntropyLoss()
    if a.profile:
        out["profile"] = profile_full(model, batches(), loss_fn, a.steps)
        print(json.dumps(out))
        return

    trunk, head = model()
    opt = torch.optim.Adam(head.parameters(), lr=1e-3)
    it = batches()

    def head_step():
        xb, yb = next(it)
        with torch.no_grad():
            f = trunk(xb)
        opt.zero_grad()
        loss_fn(head(f), yb).backward()
        opt.step()
    out["head"] = timed_steps(head_step, a.steps)

    trunk, head = model()
    opt = torch.optim.Adam(head.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    with torch.no_grad():
        feats = torch.cat([trunk(x[s:s + 64]) for s in range(0, rows, 64)])
    cache_s = time.perf_counter() - t0
    it2 = iter(range(10 ** 9))

    def cached_step():
        s = (next(it2) % 8) * a.batch
        opt.zero_grad()
        loss_fn(head(feats[s:s + a.batch]), y[s:s + a.batch]).backward()
        opt.step()
    out["cached"] = timed_steps(cached_step, a.steps)
    out["cached"]["cache_seconds"] = cache_s

    for key, bn_trains in (("full", False), ("full_bn_train", True)):
        trunk, head = model()
        opt = torch.optim.Adam(trainable(trunk, head, bn_trains), lr=1e-4)
        it3 = batches()

        def full_step():
            xb, yb = next(it3)
            opt.zero_grad()
            loss_fn(head(trunk(xb)), yb).backward()
            opt.step()
        out[key] = timed_steps(full_step, a.steps)
    print(json.dumps(out))


def trainable(trunk, head, bn_trains):
    """The weights that train; with bn_trains False, BatchNormalization's scale and shift are frozen."""
    if not bn_trains:
        for m in trunk.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                for p in m.parameters():
                    p.requires_grad_(False)
    return [p for p in list(trunk.parameters()) + list(head.parameters()) if p.requires_grad]


def profile_full(model, it, loss_fn, steps):
    """Self CPU time per step of each op over full fine-tuning steps (bn frozen), after 5 untimed warm-up steps."""
    trunk, head = model()
    opt = torch.optim.Adam(trainable(trunk, head, False), lr=1e-4)

    def full_step():
        xb, yb = next(it)
        opt.zero_grad()
        loss_fn(head(trunk(xb)), yb).backward()
        opt.step()
    for _ in range(5):
        full_step()
    t0 = time.perf_counter()
    with torch.autograd.profiler.profile() as prof:
        for _ in range(steps):
            full_step()
    step_ms = (time.perf_counter() - t0) * 1000 / steps
    rows = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in rows)
    return {"step_ms": step_ms, "ops_ms": total / 1000 / steps,
            "ops": [{"op": e.key, "ms_per_step": e.self_cpu_time_total / 1000 / steps, "calls_per_step": e.count / steps}
                    for e in rows[:20]]}


if __name__ == "__main__":
    main()
