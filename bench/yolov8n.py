#!/usr/bin/env python3
"""YOLOv8n's architecture in plain PyTorch (no ultralytics), random weights,
exported to ONNX the way `yolo export format=onnx` lays it out: input
`images` [1,3,H,W], output `output0` [1, 4+80, N] (cx, cy, w, h in input
pixels, then class probabilities; N = 8400 at 640x640).

Only the size and the operator mix matter for benchmarks: 3.16 M parameters,
8.7 GFLOPs at 640x640 like the published YOLOv8n (width 0.25, depth 0.33:
Conv-BN-SiLU, C2f, SPPF, the PAN neck, the decoupled head with DFL).
tests/gst/make_detect_models.py's YOLOv8-style networks are 16-channel toys
for exact decoder tests, far too small to stand in for YOLOv8n's cost.

    bench/yolov8n.py OUT.onnx [--size 640] [--width W --height H] [--classes 80]
"""
import argparse
import sys

import torch
from torch import nn


class Conv(nn.Sequential):
    def __init__(self, cin, cout, k=1, s=1):
        super().__init__(nn.Conv2d(cin, cout, k, s, k // 2, bias=False),
                         nn.BatchNorm2d(cout, eps=1e-3), nn.SiLU())


class Bottleneck(nn.Module):
    def __init__(self, c, shortcut):
        super().__init__()
        self.cv1, self.cv2, self.add = Conv(c, c, 3), Conv(c, c, 3), shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    def __init__(self, cin, cout, n, shortcut):
        super().__init__()
        self.c = cout // 2
        self.cv1 = Conv(cin, 2 * self.c)
        self.cv2 = Conv((2 + n) * self.c, cout)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        for m in self.m:
            y.append(m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, cin, cout, k=5):
        super().__init__()
        c = cin // 2
        self.cv1, self.cv2 = Conv(cin, c), Conv(4 * c, cout)
        self.m = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x):
        y = [self.cv1(x)]
        for _ in range(3):
            y.append(self.m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class Detect(nn.Module):
    REG = 16

    def __init__(self, nc, ch, strides, h, w):
        super().__init__()
        c2, c3 = max(16, ch[0] // 4, 4 * self.REG), max(ch[0], min(nc, 100))
        self.nc = nc
        self.box = nn.ModuleList(nn.Sequential(Conv(c, c2, 3), Conv(c2, c2, 3),
                                               nn.Conv2d(c2, 4 * self.REG, 1)) for c in ch)
        self.cls = nn.ModuleList(nn.Sequential(Conv(c, c3, 3), Conv(c3, c3, 3),
                                               nn.Conv2d(c3, nc, 1)) for c in ch)
        anchors, stride_t = [], []
        for s in strides:
            gy, gx = torch.meshgrid(torch.arange(h // s) + 0.5, torch.arange(w // s) + 0.5,
                                    indexing="ij")
            anchors.append(torch.stack([gx.flatten(), gy.flatten()]))
            stride_t.append(torch.full((1, gx.numel()), float(s)))
        self.register_buffer("anchors", torch.cat(anchors, 1)[None])
        self.register_buffer("strides", torch.cat(stride_t, 1)[None])
        self.register_buffer("bins", torch.arange(self.REG, dtype=torch.float32).view(1, 1, -1, 1))

    def forward(self, feats):
        raw = torch.cat([torch.cat([b(f), c(f)], 1).flatten(2)
                         for f, b, c in zip(feats, self.box, self.cls)], 2)
        box, cls = raw.split((4 * self.REG, self.nc), 1)
        n = box.shape[2]
        dist = (box.view(1, 4, self.REG, n).softmax(2) * self.bins).sum(2)
        lt, rb = dist.chunk(2, 1)
        x1y1, x2y2 = self.anchors - lt, self.anchors + rb
        xywh = torch.cat([(x1y1 + x2y2) / 2, x2y2 - x1y1], 1) * self.strides
        return torch.cat([xywh, cls.sigmoid()], 1)


class YOLOv8n(nn.Module):
    def __init__(self, h=640, w=640, nc=80):
        super().__init__()
        self.b0, self.b1 = Conv(3, 16, 3, 2), Conv(16, 32, 3, 2)
        self.b2, self.b3 = C2f(32, 32, 1, True), Conv(32, 64, 3, 2)
        self.b4, self.b5 = C2f(64, 64, 2, True), Conv(64, 128, 3, 2)
        self.b6, self.b7 = C2f(128, 128, 2, True), Conv(128, 256, 3, 2)
        self.b8, self.b9 = C2f(256, 256, 1, True), SPPF(256, 256)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.h12, self.h15 = C2f(384, 128, 1, False), C2f(192, 64, 1, False)
        self.h16, self.h18 = Conv(64, 64, 3, 2), C2f(192, 128, 1, False)
        self.h19, self.h21 = Conv(128, 128, 3, 2), C2f(384, 256, 1, False)
        self.detect = Detect(nc, (64, 128, 256), (8, 16, 32), h, w)

    def forward(self, x):
        p3 = self.b4(self.b3(self.b2(self.b1(self.b0(x)))))
        p4 = self.b6(self.b5(p3))
        p5 = self.b9(self.b8(self.b7(p4)))
        n4 = self.h12(torch.cat([self.up(p5), p4], 1))
        o3 = self.h15(torch.cat([self.up(n4), p3], 1))
        o4 = self.h18(torch.cat([self.h16(o3), n4], 1))
        o5 = self.h21(torch.cat([self.h19(o4), p5], 1))
        return self.detect([o3, o4, o5])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=640)
    ap.add_argument("--width", type=int)
    ap.add_argument("--height", type=int)
    ap.add_argument("--classes", type=int, default=80)
    args = ap.parse_args()
    w, h = args.width or args.size, args.height or args.size
    if w % 32 or h % 32:
        print("yolov8n.py: width and height must be multiples of 32", file=sys.stderr)
        return 2
    torch.manual_seed(0)
    model = YOLOv8n(h, w, args.classes).eval()
    params = sum(p.numel() for p in model.parameters())
    with torch.no_grad():
        torch.onnx.export(model, torch.zeros(1, 3, h, w), args.out, opset_version=13,
                          input_names=["images"], output_names=["output0"])
    import onnx
    m = onnx.load(args.out)
    p = m.metadata_props.add()
    p.key, p.value = "imgrec.detector", "yolov8"
    onnx.save(m, args.out)
    print(f"{args.out}: YOLOv8n-sized, {w}x{h}, {args.classes} classes, "
          f"{params / 1e6:.2f} M parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
