#!/usr/bin/env python3
"""objects-cifar10: reduced-width ResNet-9 on CIFAR-10 (target >= 90 % test, <= 1.25 M params).

--zoom Z (default 0 = off) adds scale augmentation for photos: with probability 0.5 the image is
shrunk to a random U(Z, 1) of its size at a random place, mirrored content filling the rest, so the
network also sees objects that fill only part of the frame (as in a photo resized to 32x32).
--input-size 64 trains (and exports) the network on 64x64 inputs: the CIFAR-10 images are upsampled
bilinearly, so with --zoom an object of a photo can fill half the frame at CIFAR's own 32 px.

GPU:  python3 tools/train/objects_cifar10.py --out OUT/objects-cifar10 --time-budget 200
CPU smoke: /usr/bin/python3 tools/train/objects_cifar10.py --out /tmp/oc --device cpu --limit 2000 --epochs 1
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

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


def random_zoom_out(x, smin, p=0.5, gen=None):
    """Shrink a random half of the batch to U(smin, 1) of the frame at a random position; reflection
    padding fills the border, so no flat frame edge tells the network what happened."""
    n, dev = x.shape[0], x.device
    s = smin + (1 - smin) * torch.rand(n, device=dev, generator=gen)
    s = torch.where(torch.rand(n, device=dev, generator=gen) < p, s, torch.ones_like(s))
    inv = 1.0 / s
    tx = (torch.rand(n, device=dev, generator=gen) * 2 - 1) * (inv - 1)
    ty = (torch.rand(n, device=dev, generator=gen) * 2 - 1) * (inv - 1)
    z = torch.zeros_like(s)
    theta = torch.stack([torch.stack([inv, z, tx], 1), torch.stack([z, inv, ty], 1)], 1)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def upsample_u8(x_u8, size):
    """uint8 NHWC [N,32,32,3] -> uint8 NHWC [N,size,size,3], bilinear (half-pixel centres, like PIL)."""
    if size == x_u8.shape[1]:
        return x_u8
    out = []
    for i in range(0, len(x_u8), 5000):
        x = torch.as_tensor(x_u8[i:i + 5000]).permute(0, 3, 1, 2).float()
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        out.append(x.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy())
    return np.concatenate(out)


def make_aug(mean, std, zoom=0.0, size=32):
    k = size // 32
    def aug(xb_u8, gen):
        x = xb_u8.permute(0, 3, 1, 2).float().div_(255.0)
        if zoom > 0:
            x = random_zoom_out(x, zoom, gen=gen)
        x = C.random_crop_flip(x, pad=4 * k, flip=True, gen=gen)
        x = C.cutout(x, size=8 * k, p=1.0, value=None, gen=gen)
        return C.normalize01(x, mean, std)
    return aug


def main():
    p = C.base_parser(__doc__.splitlines()[0], epochs=50, batch=512, lr=0.4, budget=205)
    p.add_argument("--widths", default="32,64,128,192")
    p.add_argument("--zoom", type=float, default=0.0,
                   help="scale augmentation: smallest object scale (e.g. 0.5); 0 = off")
    p.add_argument("--input-size", type=int, default=32, choices=(32, 64))
    args = p.parse_args()
    dev = C.setup(args)
    budget = C.Budget(args.time_budget, reserve=5.0)
    xtr, ytr, classes = C.load_cifar(args.data_dir, "train", args.limit)
    xte, yte, _ = C.load_cifar(args.data_dir, "test", args.limit)
    xtr, xte = upsample_u8(xtr, args.input_size), upsample_u8(xte, args.input_size)
    widths = [int(v) for v in args.widths.split(",")]
    model = build({"widths": widths})
    meta = {"model": NAME, "arch": "ResNet-9 widths %s, BN, global max-pool, fc x0.125" % widths,
            "widths": widths, "classes": classes, "input_size": args.input_size,
            "augmentation": ("random zoom-out U(%g,1) p=0.5 (reflect) + " % args.zoom if args.zoom > 0 else "")
            + "random crop pad %d (reflect) + horizontal flip + cutout %dx%d" % ((args.input_size // 8,)
                                                                                  + (args.input_size // 4,) * 2)}
    C.train_classifier(model, args, dev, xtr, ytr, make_aug(C.CIFAR_MEAN, C.CIFAR_STD, args.zoom, args.input_size), C.CIFAR_MEAN, C.CIFAR_STD,
                       budget, meta, None, None, xte, yte, optimizer="sgd", wd=5e-4, label_smoothing=0.1,
                       warmup=0.25, ema_decay=0.0)


if __name__ == "__main__":
    main()
