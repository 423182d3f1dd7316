#!/usr/bin/env python3
"""Writes the imgrecseq golden data: two small sequence models and what
PyTorch computes for them on synthetic frames.

Usage: make_seq_golden.py OUTPUT_DIR   (torch 1.13, /usr/bin/python3)

The files are committed in tests/gst/seq_data/ (the element tests need no
PyTorch); rerun this script only to change them.

- seq-step.onnx: CNN-LSTM step model. Inputs frame [1,3,8,8], h_in, c_in
  [1,1,6]; outputs scores [1,5], h_out, c_out; imgrec.kind=sequence-step,
  imgrec.state-map=h_in:h_out,c_in:c_out.
- seq-window.onnx: window model. Input frames [1,4,3,8,8] -> scores [1,5];
  imgrec.kind=sequence-window.
- seq-step-expected.npy [N,5]: softmax of the step model's scores, stepped
  over frames 0..N-1 from a zero state.
- seq-window-expected.npy [N-3,5]: softmax of the window model's scores on
  frames (k-3..k) for k = 3..N-1.
- seq-window-t1.onnx: the same window model with its input as [4,1,3,8,8]
  (same expected outputs).
- seq-step-init.onnx: the step model declaring initial states in its
  metadata (imgrec.state-init.h_in = 0.5, imgrec.state-init.c_in = six
  values); seq-step-init-expected.npy [N,5] stepped from those.

Frame t (RGB, 8x8) is frame_pixel(t, y, x, c) below; the C test computes the
same pixels.  The element's default pre-processing divides by 255.
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn

N_FRAMES = 12
LABELS = "alpha\nbeta\ngamma\ndelta\nepsilon"


def frame_pixel(t, y, x, c):
    return (t * 53 + y * 29 + x * 17 + c * 91 + ((x + 1) * (y + 2) * (t + 3)) % 61) & 255


def frames():
    f = np.zeros((N_FRAMES, 3, 8, 8), np.float32)
    for t in range(N_FRAMES):
        for c in range(3):
            for y in range(8):
                for x in range(8):
                    f[t, c, y, x] = frame_pixel(t, y, x, c)
    return f / np.float32(255.0)


class Step(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.lstm = nn.LSTM(4, 6)
        self.head = nn.Linear(6, 5)

    def forward(self, frame, h_in, c_in):
        f = torch.relu(self.conv(frame)).mean(dim=(2, 3))
        o, (h, c) = self.lstm(f.unsqueeze(0), (h_in, c_in))
        return self.head(o[0]) * 3.0, h, c


class Window(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Linear(16, 5)

    def forward(self, frames):
        f = torch.relu(self.conv(frames.reshape(4, 3, 8, 8))).mean(dim=(2, 3))
        return self.head(f.reshape(1, 16)) * 3.0


def add_meta(path, meta):
    m = onnx.load(path)
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m)
    onnx.save(m, path)


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(5)
    x = torch.from_numpy(frames())

    step = Step().eval()
    path = os.path.join(out, "seq-step.onnx")
    h = torch.zeros(1, 1, 6)
    c = torch.zeros(1, 1, 6)
    torch.onnx.export(step, (x[:1], h, c), path, opset_version=13,
                      input_names=["frame", "h_in", "c_in"],
                      output_names=["scores", "h_out", "c_out"])
    add_meta(path, {"imgrec.kind": "sequence-step", "imgrec.labels": LABELS,
                    "imgrec.state-map": "h_in:h_out,c_in:c_out"})
    probs = []
    with torch.no_grad():
        for t in range(N_FRAMES):
            s, h, c = step(x[t:t + 1], h, c)
            probs.append(torch.softmax(s, 1)[0].numpy())
    np.save(os.path.join(out, "seq-step-expected.npy"), np.array(probs, np.float32))

    path = os.path.join(out, "seq-step-init.onnx")
    c_init = [0.1, -0.2, 0.3, -0.4, 0.5, -0.6]
    h = torch.full((1, 1, 6), 0.5)
    c = torch.tensor(c_init).reshape(1, 1, 6)
    torch.onnx.export(step, (x[:1], h, c), path, opset_version=13,
                      input_names=["frame", "h_in", "c_in"],
                      output_names=["scores", "h_out", "c_out"])
    add_meta(path, {"imgrec.kind": "sequence-step", "imgrec.labels": LABELS,
                    "imgrec.state-map": "h_in:h_out,c_in:c_out",
                    "imgrec.state-init.h_in": "0.5",
                    "imgrec.state-init.c_in": ",".join(str(v) for v in c_init)})
    probs = []
    with torch.no_grad():
        for t in range(N_FRAMES):
            s, h, c = step(x[t:t + 1], h, c)
            probs.append(torch.softmax(s, 1)[0].numpy())
    np.save(os.path.join(out, "seq-step-init-expected.npy"), np.array(probs, np.float32))

    win = Window().eval()
    path = os.path.join(out, "seq-window.onnx")
    torch.onnx.export(win, (x[:4].unsqueeze(0),), path, opset_version=13,
                      input_names=["frames"], output_names=["scores"])
    add_meta(path, {"imgrec.kind": "sequence-window", "imgrec.labels": LABELS})
    path = os.path.join(out, "seq-window-t1.onnx")
    torch.onnx.export(win, (x[:4].unsqueeze(1),), path, opset_version=13,
                      input_names=["frames"], output_names=["scores"])
    add_meta(path, {"imgrec.kind": "sequence-window", "imgrec.labels": LABELS})
    probs = []
    with torch.no_grad():
        for k in range(3, N_FRAMES):
            probs.append(torch.softmax(win(x[k - 3:k + 1].unsqueeze(0)), 1)[0].numpy())
    np.save(os.path.join(out, "seq-window-expected.npy"), np.array(probs, np.float32))


if __name__ == "__main__":
    main(sys.argv[1])
