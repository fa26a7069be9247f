#!/usr/bin/python3
"""Exports the real-model fixtures of graft's tests with PyTorch's own ONNX exporter.

Run with Debian's Python, which has python3-torch, python3-torchvision and python3-onnx:
    /usr/bin/python3 tests-resources/scripts/make_torch_fixtures.py

For every model it writes tests-resources/models/<name>/:
    model.onnx                     exported with a dynamic batch dimension named 'batch'
    input_b1.npy, output_b1.npy    a batch of 1 and PyTorch's output for it
    input_b3.npy, output_b3.npy    a batch of 3 and PyTorch's output for it
    grads_b3.npz, grad_weights_b3.npy   (some models) PyTorch's weight gradients of sum(output * weights)
Weights are random (seeded). TrainingMode.PRESERVE on an eval-mode model keeps BatchNormalization nodes
(EVAL would fuse them into the convolutions). BatchNorm layers get non-trivial running statistics by running a few
training-mode batches before export, and random affine parameters.
"""
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models")


class SmallResNet(nn.Module):
    """A ResNet built from torchvision's BasicBlock, with 16/32/64 channels instead of 64..512."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True))
        self.layer1 = BasicBlock(16, 16)
        down2 = nn.Sequential(nn.Conv2d(16, 32, 1, 2, bias=False), nn.BatchNorm2d(32))
        self.layer2 = BasicBlock(16, 32, stride=2, downsample=down2)
        down3 = nn.Sequential(nn.Conv2d(32, 64, 1, 2, bias=False), nn.BatchNorm2d(64))
        self.layer3 = BasicBlock(32, 64, stride=2, downsample=down3)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


class MlpLayerNormGelu(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.LayerNorm(64), nn.GELU(), nn.Dropout(0.1),
                                 nn.Linear(64, 32), nn.LayerNorm(32), nn.GELU(), nn.Linear(32, 5))

    def forward(self, x):
        return self.net(x)


class TransformerEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, dropout=0.1,
                                                batch_first=True)
        self.head = nn.Linear(32, 3)

    def forward(self, x):
        return self.head(self.layer(x).mean(dim=1))


class DeepMlp(nn.Module):
    """About 500 ONNX nodes and 3 MB of weights: the import-speed benchmark's large model."""

    def __init__(self, width=140, blocks=38):
        super().__init__()
        self.inp = nn.Linear(32, width)
        self.blocks = nn.ModuleList(nn.Sequential(nn.Linear(width, width), nn.LayerNorm(width), nn.GELU())
                                    for _ in range(blocks))
        self.out = nn.Linear(width, 10)

    def forward(self, x):
        h = self.inp(x)
        for b in self.blocks:
            h = h + b(h)
        return self.out(h)


def randomize_batchnorm(model, example_shape, generator):
    """Gives every BatchNorm random affine parameters and running statistics from training-mode passes."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5, generator=generator)
                m.bias.uniform_(-0.5, 0.5, generator=generator)
            m.momentum = 0.5
    model.train()
    with torch.no_grad():
        for _ in range(4):
            model(torch.randn(8, *example_shape[1:], generator=generator) * 2 + 0.3)
    model.eval()


MODELS = {
    # name: (factory, input shape at batch 1, opset, has batchnorm)
    "resnet_small": (lambda: SmallResNet(10), (1, 3, 32, 32), 13, True),
    "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(width_mult=0.35, num_classes=10), (1, 3, 64, 64), 13, True),
    "squeezenet": (lambda: torchvision.models.squeezenet1_1(num_classes=10), (1, 3, 64, 64), 13, False),
    "mlp_layernorm_gelu": (MlpLayerNormGelu, (1, 20), 17, False),
    "transformer_encoder": (TransformerEncoder, (1, 8, 32), 14, False),
    "deep_mlp_500": (DeepMlp, (1, 32), 17, False),
}


# Models whose weight gradients are recorded, to check that the imported graphs train like the source.
GRADIENT_MODELS = ("resnet_small", "mobilenet_v2", "mlp_layernorm_gelu", "transformer_encoder")


def save_gradients(model, folder, gen):
    """Writes grads_b3.npz: d(sum(model(x) * r))/d(parameter) for every parameter, in eval mode.

    x is input_b3.npy and r (grad_weights_b3.npy) a fixed random tensor of the output's shape, so that every
    output element contributes with its own weight.
    """
    x = torch.from_numpy(np.load(os.path.join(folder, "input_b3.npy")))
    model.eval()
    model.zero_grad()
    y = model(x)
    r = torch.randn(*y.shape, generator=gen)
    (y * r).sum().backward()
    np.save(os.path.join(folder, "grad_weights_b3.npy"), r.numpy().astype(np.float32))
    grads = {n: p.grad.numpy().astype(np.float32) for n, p in model.named_parameters() if p.grad is not None}
    np.savez(os.path.join(folder, "grads_b3.npz"), **grads)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main(names):
    torch.manual_seed(1234)
    manifest = {}
    for name, (factory, shape, opset, has_bn) in MODELS.items():
        if names and name not in names:
            continue
        gen = torch.Generator().manual_seed(42)
        model = factory()
        if has_bn:
            randomize_batchnorm(model, shape, gen)
        model.eval()
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "model.onnx")
        example = torch.randn(*shape, generator=gen)
        torch.onnx.export(model, example, path, opset_version=opset, input_names=["input"],
                          output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                          do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
        onnx.checker.check_model(onnx.load(path), full_check=True)
        for batch in (1, 3):
            x = torch.randn(batch, *shape[1:], generator=gen)
            with torch.no_grad():
                y = model(x)
            np.save(os.path.join(folder, f"input_b{batch}.npy"), x.numpy().astype(np.float32))
            np.save(os.path.join(folder, f"output_b{batch}.npy"), y.numpy().astype(np.float32))
        if name in GRADIENT_MODELS:
            save_gradients(model, folder, gen)
        m = onnx.load(path)
        weights = sum(int(np.prod(t.dims)) for t in m.graph.initializer if t.data_type == onnx.TensorProto.FLOAT)
        manifest[name] = {"opset": opset, "nodes": len(m.graph.node), "sha256": sha256(path),
                          "float_initializer_elements": weights,
                          "bytes": os.path.getsize(path), "torch": torch.__version__,
                          "torchvision": torchvision.__version__}
        print(name, manifest[name])
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
