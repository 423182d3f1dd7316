#!/usr/bin/env python3
"""traffic-signs: GTSRB 43-class classifier on 32x32 RGB crops (small ResNet-ish CNN).

Training data: GTSRB train-jpeg.npz minus the held-out validation tracks
(common.TRACK_VAL_FRAC of the tracks, common.TRACK_SPLIT_SEED; the same tracks are
the held-out set of traffic-signs-seq).  Test: official test.npz when present.

GPU:  python3 tools/train/traffic_signs.py --out OUT/traffic-signs --time-budget 100
CPU smoke: /usr/bin/python3 tools/train/traffic_signs.py --out /tmp/ts --device cpu --limit 2000 --epochs 1
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402

NAME = "traffic-signs"


def conv_bn(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = conv_bn(c, c)
        self.b = conv_bn(c, c)

    def forward(self, x):
        return x + self.b(self.a(x))


class SignNet(nn.Module):
    """32x32 -> 43 classes. ~0.7 M params, ~90 M MACs."""

    def __init__(self, num_classes=43, w=(32, 64, 128, 192), dropout=0.2):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(3, w[0]),                                   # 32x32
            conv_bn(w[0], w[1]), nn.MaxPool2d(2), Residual(w[1]),  # 16x16
            conv_bn(w[1], w[2]), nn.MaxPool2d(2), Residual(w[2]),  # 8x8
            conv_bn(w[2], w[3]), nn.MaxPool2d(2),                  # 4x4
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(w[3], num_classes)
        self.feat_dim = w[3]

    def forward(self, x):
        return self.fc(self.drop(self.features(x)))


def build(hp=None):
    return SignNet()


def make_aug(mean, std):
    def aug(xb_u8, gen):
        x = xb_u8.permute(0, 3, 1, 2).float().div_(255.0)
        x = C.random_affine(x, rot_deg=12.0, scale=(0.88, 1.12), shift=0.08, shear=0.12, gen=gen)
        x = C.color_jitter(x, b=0.4, c=0.4, s=0.4, gen=gen)
        x = C.cutout(x, size=8, p=0.5, value=0.0, gen=gen)
        return C.normalize01(x, mean, std)
    return aug


def main():
    p = C.base_parser(__doc__.splitlines()[0], epochs=40, batch=256, lr=0.1, budget=95)
    p.add_argument("--no-val", action="store_true", help="train on all tracks (no held-out validation)")
    args = p.parse_args()
    dev = C.setup(args)
    budget = C.Budget(args.time_budget, reserve=4.0)
    x, y, tr, fr = C.load_gtsrb_train(args.data_dir, args.limit)
    if args.no_val:
        xtr, ytr, xval, yval = x, y, None, None
    else:
        isval = C.track_split(tr)
        xtr, ytr, xval, yval = x[~isval], y[~isval], x[isval], y[isval]
    xte, yte = C.load_gtsrb_test(args.data_dir)
    if xte is not None and args.limit:
        sel = np.random.RandomState(0).choice(len(yte), min(args.limit, len(yte)), replace=False)
        xte, yte = xte[sel], yte[sel]
    C.log("train %d val %d test %s" % (len(ytr), 0 if yval is None else len(yval), None if yte is None else len(yte)))
    model = build()
    meta = {"model": NAME, "arch": "SignNet w=(32,64,128,192) residual, BN, GAP, dropout 0.2",
            "val_tracks_frac": None if args.no_val else C.TRACK_VAL_FRAC, "split_seed": C.TRACK_SPLIT_SEED,
            "augmentation": "affine rot12 scale0.88-1.12 shift0.08 shear0.12, colour jitter 0.4, cutout 8 p0.5, no flips"}
    C.train_classifier(model, args, dev, xtr, ytr, make_aug(C.GTSRB_MEAN, C.GTSRB_STD), C.GTSRB_MEAN, C.GTSRB_STD,
                       budget, meta, xval, yval, xte, yte, optimizer="sgd", wd=5e-4, label_smoothing=0.1,
                       eval_every=5, ema_decay=0.0)


if __name__ == "__main__":
    main()
