#!/usr/bin/python3
"""Builds ResNet-18, MobileNetV2 and SqueezeNet 1.1 as ONNX graphs with the `onnx` package alone
(no PyTorch): the torchvision architectures layer for layer (Conv + BatchNorm + ReLU / ReLU6,
residual Adds, Fire modules with Concat, global average pooling, the classifier), random weights
(seed 0) and randomised BatchNorm statistics, opset 13, input [1, 3, 224, 224].

For machines without torch: tools/export_reference_models.py needs torchvision; these graphs have
the same operators, shapes and FLOPs, so engine timings and ONNX Runtime comparisons carry over.

Writes OUT/NAME.onnx and OUT/NAME.input.npy (default build-h14/reference-models).

Usage: /usr/bin/python3 bench/make_models.py [--out DIR] [--only resnet18,mobilenet_v2,squeezenet1_1]
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Builder:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, prefix):
        self.count += 1
        return f"{prefix}_{self.count}"

    def const(self, prefix, array):
        n = self.name(prefix)
        self.inits.append(numpy_helper.from_array(array.astype(np.float32), n))
        return n

    def node(self, op, inputs, **attrs):
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def conv(self, x, cin, cout, k, stride=1, pad=0, group=1, bias=False):
        fan_in = cin // group * k * k
        w = self.rng.normal(0, np.sqrt(2.0 / fan_in), (cout, cin // group, k, k))
        inputs = [x, self.const("w", w)]
        if bias:
            inputs.append(self.const("b", self.rng.normal(0, 0.05, cout)))
        return self.node("Conv", inputs, kernel_shape=[k, k], strides=[stride, stride],
                         pads=[pad] * 4, group=group)

    def bn(self, x, c):
        scale = self.const("gamma", self.rng.uniform(0.8, 1.2, c))
        shift = self.const("beta", self.rng.normal(0, 0.1, c))
        mean = self.const("mean", self.rng.normal(0, 0.1, c))
        var = self.const("var", self.rng.uniform(0.5, 1.5, c))
        return self.node("BatchNormalization", [x, scale, shift, mean, var], epsilon=1e-5)

    def relu(self, x):
        return self.node("Relu", [x])

    def relu6(self, x):
        lo = self.const("min", np.array(0.0))
        hi = self.const("max", np.array(6.0))
        return self.node("Clip", [x, lo, hi])

    def head(self, x, c, classes=1000):
        x = self.node("GlobalAveragePool", [x])
        x = self.node("Flatten", [x], axis=1)
        w = self.const("fc_w", self.rng.normal(0, np.sqrt(1.0 / c), (classes, c)))
        b = self.const("fc_b", self.rng.normal(0, 0.01, classes))
        return self.node("Gemm", [x, w, b], transB=1)

    def model(self, out, graph_name):
        graph = helper.make_graph(
            self.nodes, graph_name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
            [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, 1000])],
            self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="imgrec-bench")
        m.ir_version = 7
        onnx.checker.check_model(m)
        return m


def resnet18(b):
    x = b.relu(b.bn(b.conv("input", 3, 64, 7, 2, 3), 64))
    x = b.node("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        for block in range(2):
            s = stride if block == 0 else 1
            y = b.relu(b.bn(b.conv(x, cin, cout, 3, s, 1), cout))
            y = b.bn(b.conv(y, cout, cout, 3, 1, 1), cout)
            short = x
            if s != 1 or cin != cout:
                short = b.bn(b.conv(x, cin, cout, 1, s, 0), cout)
            x = b.relu(b.node("Add", [y, short]))
            cin = cout
    return b.head(x, 512)


def mobilenet_v2(b):
    x = b.relu6(b.bn(b.conv("input", 3, 32, 3, 2, 1), 32))
    cin = 32
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)):
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * t
            y = x
            if t != 1:
                y = b.relu6(b.bn(b.conv(y, cin, hidden, 1), hidden))
            y = b.relu6(b.bn(b.conv(y, hidden, hidden, 3, stride, 1, group=hidden), hidden))
            y = b.bn(b.conv(y, hidden, c, 1), c)
            if stride == 1 and cin == c:
                y = b.node("Add", [x, y])
            x, cin = y, c
    x = b.relu6(b.bn(b.conv(x, cin, 1280, 1), 1280))
    return b.head(x, 1280)


def squeezenet1_1(b):
    x = b.relu(b.conv("input", 3, 64, 3, 2, 0, bias=True))
    pool = dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    x = b.node("MaxPool", [x], **pool)
    cin = 64
    fires = ((16, 64), (16, 64), "pool", (32, 128), (32, 128), "pool", (48, 192), (48, 192),
             (64, 256), (64, 256))
    for f in fires:
        if f == "pool":
            x = b.node("MaxPool", [x], **pool)
            continue
        sq, ex = f
        s = b.relu(b.conv(x, cin, sq, 1, bias=True))
        e1 = b.relu(b.conv(s, sq, ex, 1, bias=True))
        e3 = b.relu(b.conv(s, sq, ex, 3, 1, 1, bias=True))
        x = b.node("Concat", [e1, e3], axis=1)
        cin = 2 * ex
    x = b.relu(b.conv(x, cin, 1000, 1, bias=True))
    x = b.node("GlobalAveragePool", [x])
    return b.node("Flatten", [x], axis=1)


MODELS = {"resnet18": resnet18, "mobilenet_v2": mobilenet_v2, "squeezenet1_1": squeezenet1_1}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="build-h14/reference-models")
    ap.add_argument("--only", default=",".join(MODELS))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in args.only.split(","):
        b = Builder(0)
        out = MODELS[name](b)
        onnx.save(b.model(out, name), os.path.join(args.out, name + ".onnx"))
        x = np.random.default_rng(1).standard_normal((1, 3, 224, 224)).astype(np.float32)
        np.save(os.path.join(args.out, name + ".input.npy"), x)
        print(name, "written")


if __name__ == "__main__":
    main()
