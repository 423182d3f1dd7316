#!/usr/bin/env python3
"""seed-cnn-cifar10: the project's founding CNN on CIFAR-10 (baseline).

Exactly: conv 3->32 (3x3, pad 1) + ReLU + 2x2 max-pool, conv 32->64 (3x3, pad 1) + ReLU +
2x2 max-pool, fc 64*8*8->128 + ReLU, fc 128->10.

GPU:  python3 tools/train/seed_cnn_cifar10.py --out OUT/seed-cnn-cifar10 --time-budget 45
CPU smoke: /usr/bin/python3 tools/train/seed_cnn_cifar10.py --out /tmp/sc --device cpu --limit 2000 --epochs 1
"""
import os
import sys

import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402

NAME = "seed-cnn-cifar10"


class SeedCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.relu = nn.ReLU()
        self.fc1 = nn.Linear(64 * 8 * 8, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = x.flatten(1)
        return self.fc2(self.relu(self.fc1(x)))


def build(hp=None):
    return SeedCNN()


def make_aug(mean, std):
    def aug(xb_u8, gen):
        x = xb_u8.permute(0, 3, 1, 2).float().div_(255.0)
        x = C.random_crop_flip(x, pad=4, flip=True, gen=gen)
        return C.normalize01(x, mean, std)
    return aug


def main():
    p = C.base_parser(__doc__.splitlines()[0], epochs=30, batch=128, lr=2e-3, budget=55)
    args = p.parse_args()
    dev = C.setup(args)
    budget = C.Budget(args.time_budget, reserve=3.0)
    xtr, ytr, classes = C.load_cifar(args.data_dir, "train", args.limit)
    xte, yte, _ = C.load_cifar(args.data_dir, "test", args.limit)
    model = build()
    meta = {"model": NAME, "arch": "conv3-32 relu pool, conv32-64 relu pool, fc4096-128 relu, fc128-10",
            "classes": classes, "augmentation": "random crop pad 4 (reflect) + horizontal flip"}
    C.train_classifier(model, args, dev, xtr, ytr, make_aug(C.CIFAR_MEAN, C.CIFAR_STD), C.CIFAR_MEAN, C.CIFAR_STD,
                       budget, meta, None, None, xte, yte, optimizer="adamw", wd=5e-4, label_smoothing=0.0,
                       warmup=0.1)


if __name__ == "__main__":
    main()
