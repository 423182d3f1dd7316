#!/usr/bin/python3
"""Export the reference models used to check imgrec against ONNX Runtime and PyTorch.

Writes, into OUT (default build/reference-models/, never committed), for each model NAME:
  NAME.onnx              opset 13, exported by torch.onnx.export
  NAME.input.npy         the fixed float32 input (seeded)
  NAME.torch.npy         PyTorch's float32 output for that input (eval mode, no_grad)
and models.json listing name, kind ("classifier" or "generator"/"sequence"), input and output
names and shapes.

Models (random weights, seed 0, eval mode):
  resnet18, mobilenet_v2, squeezenet1_1   torchvision 0.14, weights=None, input [1,3,224,224]
  lstm_seq                                2-layer bidirectional batch_first LSTM + Linear head
  gru_seq                                 2-layer bidirectional batch_first GRU + Linear head
  dcgan_generator                         ConvTranspose+BatchNorm+ReLU ... Tanh, z [1,100,1,1] -> [1,3,64,64]

BatchNorm running statistics and affine parameters are randomised (seeded) so that BatchNorm
folding is actually exercised (torchvision's init leaves them at the identity); the generator's
running statistics are those of a batch of 64 random z, so its Tanh sees realistic values.

Usage: /usr/bin/python3 tools/export_reference_models.py [--out DIR] [--only NAME,NAME]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision

OPSET = 13
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def randomise_batchnorm(model, gen):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(n, generator=gen) * 0.4 + 0.8)
                m.bias.copy_(torch.randn(n, generator=gen) * 0.1)


class SeqClassifier(nn.Module):
    """Recurrent sequence classifier: [batch, time, features] -> [batch, classes]."""

    def __init__(self, cell, features=32, hidden=48, layers=2, classes=10):
        super().__init__()
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(features, hidden, num_layers=layers, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * hidden, classes)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(y[:, -1, :])


class DCGANGenerator(nn.Module):
    """DCGAN generator (Radford et al.): z [N,100,1,1] -> image [N,3,64,64] in [-1,1]."""

    def __init__(self, nz=100, ngf=64, nc=3):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z):
        return self.main(z)


def build(name):
    """Returns (model, input tensor, kind)."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    if name in ("resnet18", "mobilenet_v2", "squeezenet1_1"):
        model = getattr(torchvision.models, name)(weights=None)
        x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(100))
        kind = "classifier"
    elif name in ("lstm_seq", "gru_seq"):
        model = SeqClassifier(name.split("_")[0])
        x = torch.randn(1, 16, 32, generator=torch.Generator().manual_seed(101))
        kind = "classifier"
    elif name == "dcgan_generator":
        model = DCGANGenerator()
        # DCGAN's own init: conv weights N(0, 0.02), BN weight N(1, 0.02).
        for m in model.modules():
            if isinstance(m, nn.ConvTranspose2d):
                nn.init.normal_(m.weight, 0.0, 0.02)
        randomise_batchnorm(model, gen)
        # Running statistics from a batch of 64 random z (as after training), so that the
        # activations, and the final Tanh, are in a realistic range rather than near zero.
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
                m.momentum = None
        model.train()
        with torch.no_grad():
            model(torch.randn(64, 100, 1, 1, generator=torch.Generator().manual_seed(5)))
        x = torch.randn(1, 100, 1, 1, generator=torch.Generator().manual_seed(102))
        kind = "generator"
    else:
        raise SystemExit(f"unknown model {name}")
    if kind == "classifier":
        randomise_batchnorm(model, gen)
    model.eval()
    return model, x, kind


ALL = ["resnet18", "mobilenet_v2", "squeezenet1_1", "lstm_seq", "gru_seq", "dcgan_generator"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "build", "reference-models"))
    ap.add_argument("--only", default="", help="comma-separated subset of " + ",".join(ALL))
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n] or ALL
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    index = []
    for name in names:
        model, x, kind = build(name)
        path = os.path.join(args.out, name + ".onnx")
        with torch.no_grad():
            y = model(x)
            torch.onnx.export(model, (x,), path + ".tmp", opset_version=OPSET, input_names=["input"],
                              output_names=["output"], do_constant_folding=True)
        os.replace(path + ".tmp", path)
        np.save(os.path.join(args.out, name + ".input.npy"), x.numpy().astype(np.float32))
        np.save(os.path.join(args.out, name + ".torch.npy"), y.numpy().astype(np.float32))
        index.append({"name": name, "kind": kind, "onnx": name + ".onnx", "input": "input",
                      "input_shape": list(x.shape), "output": "output", "output_shape": list(y.shape)})
        print(f"exported {path}  input {list(x.shape)} -> output {list(y.shape)}", flush=True)
    with open(os.path.join(args.out, "models.json"), "w") as f:
        json.dump(index, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
