#!/usr/bin/python3
"""Exports further torchvision architectures (random weights, eval mode, batch 1, 224x224,
opset 13) for the "any other common CNN" check of issue 14: the kernels must not be tuned to
ResNet-18, MobileNetV2 and SqueezeNet alone.  Then `bench/isa_bench.py --models-dir DIR
--models NAME,...` times them against ONNX Runtime, and `--check` here compares imgrec's output
with ONNX Runtime's on the same input (max |imgrec - ort| <= 1e-4 x max |ort|, same top-1).

Needs python3-torch and python3-torchvision (Debian); benchmarks only, never a test.

Usage: /usr/bin/python3 bench/export_torchvision.py [--out DIR] [--only a,b] [--check]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ["resnet50", "densenet121", "efficientnet_b0", "mobilenet_v3_large", "googlenet",
          "shufflenet_v2_x1_0", "regnet_y_400mf", "mnasnet1_0", "resnext50_32x4d"]


def export(name, out_dir):
    path = os.path.join(out_dir, name + ".onnx")
    if os.path.exists(path):
        return path
    torch.manual_seed(0)
    kwargs = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
    model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.onnx.export(model, x, path, opset_version=13, input_names=["input"],
                          output_names=["output"])
    np.save(os.path.join(out_dir, name + ".input.npy"), x.numpy())
    return path


def check(name, out_dir):
    path = os.path.join(out_dir, name + ".onnx")
    inp = os.path.join(out_dir, name + ".input.npy")
    with tempfile.TemporaryDirectory() as tmp:
        a, b = os.path.join(tmp, "imgrec"), os.path.join(tmp, "ort")
        subprocess.run([os.path.join(REPO, "build", "engine", "imgrec-run"), path, "--input",
                        "input=" + inp, "--output-dir", a], check=True, capture_output=True)
        subprocess.run(["node", os.path.join(REPO, "bench", "ort_run.js"), path, "--input",
                        "input=" + inp, "--output-dir", b], check=True, capture_output=True)
        x, y = np.load(os.path.join(a, "output.npy")), np.load(os.path.join(b, "output.npy"))
    err = float(np.abs(x - y).max() / np.abs(y).max())
    ok = err <= 1e-4 and int(x.argmax()) == int(y.argmax())
    print(f"{'PASS' if ok else 'FAIL'} {name}: max |imgrec - ort| / max |ort| = {err:.2e}, "
          f"top-1 {int(x.argmax())} / {int(y.argmax())}")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench-models-extra"))
    ap.add_argument("--only", default=",".join(MODELS))
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    bad = 0
    for name in a.only.split(","):
        export(name, a.out)
        print(f"exported {name}", flush=True)
        if a.check and not check(name, a.out):
            bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
