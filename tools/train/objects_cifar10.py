#!/usr/bin/env python3
"""objects-cifar10: reduced-width ResNet-9 on CIFAR-10 (target >= 90 % test, <= 1.25 M params).

GPU:  python3 tools/train/objects_cifar10.py --out OUT/objects-cifar10 --time-budget 200
CPU smoke: /usr/bin/python3 tools/train/objects_cifar10.py --out /tmp/oc --device cpu --limit 2000 --epochs 1
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402

NAME = "objects-cifar10"


def conv_bn(cin, cout, pool=False):
    layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = conv_bn(c, c)
        self.b = conv_bn(c, c)

    def forward(self, x):
        return x + self.b(self.a(x))


class ResNet9(nn.Module):
    """ResNet-9 (Page 2018 / DAWNBench) at widths w; default ~1.05 M params."""

    def __init__(self, num_classes=10, w=(32, 64, 128, 192), scale=0.125):
        super().__init__()
        self.net = nn.Sequential(
            conv_bn(3, w[0]),
            conv_bn(w[0], w[1], pool=True), Residual(w[1]),
            conv_bn(w[1], w[2], pool=True),
            conv_bn(w[2], w[3], pool=True), Residual(w[3]),
            nn.AdaptiveMaxPool2d(1), nn.Flatten())
        self.fc = nn.Linear(w[3], num_classes, bias=False)
        self.scale = scale

    def forward(self, x):
        return self.fc(self.net(x)) * self.scale


def build(hp=None):
    w = tuple((hp or {}).get("widths", (32, 64, 128, 192)))
    return ResNet9(w=w)


def make_aug(mean, std):
    def aug(xb_u8, gen):
        x = xb_u8.permute(0, 3, 1, 2).float().div_(255.0)
        x = C.random_crop_flip(x, pad=4, flip=True, gen=gen)
        x = C.cutout(x, size=8, p=1.0, value=None, gen=gen)
        return C.normalize01(x, mean, std)
    return aug


def main():
    p = C.base_parser(__doc__.splitlines()[0], epochs=50, batch=512, lr=0.4, budget=205)
    p.add_argument("--widths", default="32,64,128,192")
    args = p.parse_args()
    dev = C.setup(args)
    budget = C.Budget(args.time_budget, reserve=5.0)
    xtr, ytr, classes = C.load_cifar(args.data_dir, "train", args.limit)
    xte, yte, _ = C.load_cifar(args.data_dir, "test", args.limit)
    widths = [int(v) for v in args.widths.split(",")]
    model = build({"widths": widths})
    meta = {"model": NAME, "arch": "ResNet-9 widths %s, BN, global max-pool, fc x0.125" % widths,
            "widths": widths, "classes": classes,
            "augmentation": "random crop pad 4 (reflect) + horizontal flip + cutout 8x8"}
    C.train_classifier(model, args, dev, xtr, ytr, make_aug(C.CIFAR_MEAN, C.CIFAR_STD), C.CIFAR_MEAN, C.CIFAR_STD,
                       budget, meta, None, None, xte, yte, optimizer="sgd", wd=5e-4, label_smoothing=0.1,
                       warmup=0.25, ema_decay=0.0)


if __name__ == "__main__":
    main()
