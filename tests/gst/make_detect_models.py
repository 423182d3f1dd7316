#!/usr/bin/env python3
"""Writes the ONNX detectors the imgrecdetect tests use, and what the element
must find with them (a NumPy reference of decoding, letterbox inversion and
NMS).  No torch: the graphs are built with onnx.helper.

Usage: make_detect_models.py OUTPUT_DIR

- det-*-const.onnx: outputs are constants (plus 0 x the input's mean), so
  the detections are known exactly whatever the frame; the expected boxes
  are those constants decoded, mapped back through the letterbox of a
  1280x720 frame into the 64x64 input, clipped and suppressed.
- det-yolov8-640.onnx / det-yolov8-320x192.onnx: a YOLOv8-style network
  (strided 3x3 convolutions with SiLU, per-level box and class heads, DFL
  over 16 bins, anchor decoding, sigmoid classes, [1,4+C,N] output) with
  random weights; the reference runs the same network in NumPy on the same
  tensor the element builds (frames that need no resampling: 640x480
  letterboxed into 640x640 with pad 114, and 320x192 as it is).
- det-ambiguous.onnx, det-badshape.onnx: for the error tests.

expected-*.txt: one line "threshold iou" then one line per object,
"x_min y_min x_max y_max confidence class_id", best first.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

LABELS3 = ["car", "person", "bike"]


def save(graph, path, meta=None, opset=13):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="imgrec-tests")
    model.ir_version = 7
    for k, v in (meta or {}).items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(model)
    onnx.save(model, path)


def const_graph(outputs, size=(64, 64)):
    """Outputs = constants + 0 * mean(image) (so they depend on the input)."""
    h, w = size
    nodes = [helper.make_node("ReduceMean", ["image"], ["m"], keepdims=1),
             helper.make_node("Mul", ["m", "zero"], ["z"])]
    inits = [numpy_helper.from_array(np.zeros((1, 1, 1, 1), np.float32), "zero")]
    outs = []
    for name, arr, dtype in outputs:
        arr = np.asarray(arr, np.float32)
        inits.append(numpy_helper.from_array(arr, name + "_c"))
        zr = name + "_z"
        nodes.append(helper.make_node("Reshape", ["z", name + "_s"], [zr]))
        inits.append(numpy_helper.from_array(np.array([1] * max(arr.ndim, 1), np.int64),
                                             name + "_s"))
        if dtype == TensorProto.FLOAT:
            nodes.append(helper.make_node("Add", [name + "_c", zr], [name]))
        else:
            nodes.append(helper.make_node("Add", [name + "_c", zr], [name + "_f"]))
            nodes.append(helper.make_node("Cast", [name + "_f"], [name], to=dtype))
        outs.append(helper.make_tensor_value_info(name, dtype, list(arr.shape)))
    return helper.make_graph(
        nodes, "const-detector",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, h, w])],
        outs, inits)


# ---- reference post-processing ------------------------------------------

def letterbox_fit(rx, ry, rw, rh, mw, mh):
    s = min(mw / rw, mh / rh)
    dw = min(max(int(np.floor(rw * s + 0.5)), 1), mw)
    dh = min(max(int(np.floor(rh * s + 0.5)), 1), mh)
    return rx, ry, rw, rh, (mw - dw) // 2, (mh - dh) // 2, dw, dh


def to_frame(fit, x, y):
    rx, ry, rw, rh, dx, dy, dw, dh = fit
    return rx + (x - dx) * rw / dw, ry + (y - dy) * rh / dh


def iou(a, b):
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / u if u > 0 else 0.0


def postprocess(cands, fit, clip, iou_thr, max_det=300):
    """cands: (x0, y0, x1, y1, score, class, index) in model pixels."""
    out = []
    for x0, y0, x1, y1, s, c, i in cands:
        fx0, fy0 = to_frame(fit, x0, y0)
        fx1, fy1 = to_frame(fit, x1, y1)
        fx0, fy0 = max(fx0, clip[0]), max(fy0, clip[1])
        fx1, fy1 = min(fx1, clip[2]), min(fy1, clip[3])
        if fx1 > fx0 and fy1 > fy0:
            out.append((fx0, fy0, fx1, fy1, s, c, i))
    out.sort(key=lambda d: (-d[4], d[6]))
    kept = []
    for d in out:
        if all(k[5] != d[5] or iou(k, d) <= iou_thr for k in kept):
            kept.append(d)
            if len(kept) == max_det:
                break
    return kept


def write_expected(path, thr, iou_thr, kept):
    with open(path, "w") as f:
        f.write("%.6f %.6f\n" % (thr, iou_thr))
        for d in kept:
            f.write("%.4f %.4f %.4f %.4f %.6f %d\n" % (d[0], d[1], d[2], d[3], d[4], d[5]))


def decode_yolov8(out, thr):
    """out: [4+C, N] → candidates with their best class."""
    c = out[4:]
    best = c.argmax(0)
    score = c.max(0)
    cands = []
    for i in range(out.shape[1]):
        if score[i] >= thr:
            cx, cy, w, h = out[:4, i]
            cands.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, float(score[i]),
                          int(best[i]), i))
    return cands


# ---- the constant detectors --------------------------------------------

# 8 candidates (cx, cy, w, h in 64x64 input pixels) x 3 classes
CONST_BOXES = np.array([
    [20, 32, 10, 8], [21, 32, 10, 8],     # overlapping pair, same class
    [40, 30, 12, 6], [41, 30, 12, 6],     # overlapping pair, other classes
    [10, 20, 4, 4],                       # top-left, partly in the padding
    [60, 40, 10, 10],                     # right edge: clipped
    [32, 45, 6, 3],                       # below threshold
    [50, 27, 0, 5],                       # zero width: dropped
], np.float32)
CONST_SCORES = np.array([
    [0.90, 0.05, 0.01], [0.80, 0.10, 0.02],
    [0.10, 0.70, 0.05], [0.05, 0.10, 0.65],
    [0.02, 0.60, 0.01], [0.01, 0.02, 0.55],
    [0.10, 0.20, 0.15], [0.90, 0.00, 0.00],
], np.float32)


def const_expected(thr=0.25, iou_thr=0.45, region=(0, 0, 1280, 720), stretch=False):
    """The constant detector's objects for a region (x, y, w, h) of a frame."""
    out = np.concatenate([CONST_BOXES.T, CONST_SCORES.T], 0)
    x, y, w, h = region
    fit = (x, y, w, h, 0, 0, 64, 64) if stretch else letterbox_fit(x, y, w, h, 64, 64)
    return thr, iou_thr, postprocess(decode_yolov8(out, thr), fit, (x, y, x + w, y + h), iou_thr)


# ---- a YOLOv8-style network --------------------------------------------

def np_conv(x, w, b, stride, pad):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (wd + 2 * pad - kw) // stride + 1
    cols = np.empty((c, kh, kw, oh, ow), np.float64)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = xp[0, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
    y = np.einsum("ockl,cklhw->ohw", w.astype(np.float64), cols) + b[:, None, None]
    return y[None]


def silu(x):
    return x / (1 + np.exp(-x))


class Yolo8Style:
    """Two detection levels (strides 8 and 16), 16 DFL bins, C classes."""

    REG = 16

    def __init__(self, h, w, n_classes, seed):
        rng = np.random.default_rng(seed)
        self.h, self.w, self.C = h, w, n_classes
        ch = [3, 8, 16, 16, 16]
        self.backbone = []
        for i in range(4):
            wt = rng.normal(0, 1.0 / np.sqrt(ch[i] * 9), (ch[i + 1], ch[i], 3, 3)).astype(np.float32)
            self.backbone.append((wt, rng.normal(0, 0.1, ch[i + 1]).astype(np.float32)))
        self.heads = []
        for _ in range(2):
            bw = rng.normal(0, 3.0, (4 * self.REG, 16, 1, 1)).astype(np.float32)
            bb = rng.normal(0, 1.5, 4 * self.REG).astype(np.float32)
            cw = rng.normal(0, 8.0, (n_classes, 16, 1, 1)).astype(np.float32)
            cb = np.full(n_classes, -3.0, np.float32)
            self.heads.append((bw, bb, cw, cb))
        self.levels = []
        for stride in (8, 16):
            gh, gw = h // stride, w // stride
            yy, xx = np.meshgrid(np.arange(gh) + 0.5, np.arange(gw) + 0.5, indexing="ij")
            self.levels.append((stride, np.stack([xx.ravel(), yy.ravel()]).astype(np.float32)))

    def numpy(self, x):
        feats = []
        for i, (wt, b) in enumerate(self.backbone):
            x = silu(np_conv(x, wt, b, 2, 1))
            if i >= 2:
                feats.append(x)
        outs = []
        for f, (bw, bb, cw, cb), (stride, anchors) in zip(feats, self.heads, self.levels):
            a = anchors.shape[1]
            box = np_conv(f, bw, bb, 1, 0).reshape(4, self.REG, a)
            e = np.exp(box - box.max(1, keepdims=True))
            prob = e / e.sum(1, keepdims=True)
            dist = (prob * np.arange(self.REG)[None, :, None]).sum(1)
            lt, rb = dist[:2], dist[2:]
            x1y1, x2y2 = anchors - lt, anchors + rb
            xywh = np.concatenate([(x1y1 + x2y2) / 2, x2y2 - x1y1]) * stride
            cls = 1 / (1 + np.exp(-np_conv(f, cw, cb, 1, 0).reshape(self.C, a)))
            outs.append(np.concatenate([xywh, cls]))
        return np.concatenate(outs, 1)

    def onnx(self):
        nodes, inits = [], []

        def const(name, arr):
            inits.append(numpy_helper.from_array(np.asarray(arr), name))
            return name

        x = "image"
        feats = []
        for i, (wt, b) in enumerate(self.backbone):
            c = "c%d" % i
            nodes.append(helper.make_node("Conv", [x, const("w%d" % i, wt), const("b%d" % i, b)],
                                          [c], strides=[2, 2], pads=[1, 1, 1, 1],
                                          kernel_shape=[3, 3]))
            nodes.append(helper.make_node("Sigmoid", [c], [c + "s"]))
            nodes.append(helper.make_node("Mul", [c, c + "s"], ["f%d" % i]))
            x = "f%d" % i
            if i >= 2:
                feats.append(x)
        level_outs = []
        for k, (f, (bw, bb, cw, cb), (stride, anchors)) in enumerate(zip(feats, self.heads, self.levels)):
            a = anchors.shape[1]
            p = "l%d_" % k
            nodes += [
                helper.make_node("Conv", [f, const(p + "bw", bw), const(p + "bb", bb)], [p + "box"]),
                helper.make_node("Reshape", [p + "box", const(p + "s4", np.array([1, 4, self.REG, a], np.int64))], [p + "box4"]),
                helper.make_node("Softmax", [p + "box4"], [p + "prob"], axis=2),
                helper.make_node("Mul", [p + "prob", const(p + "bins", np.arange(self.REG, dtype=np.float32).reshape(1, 1, self.REG, 1))], [p + "wb"]),
                helper.make_node("ReduceSum", [p + "wb", const(p + "ax", np.array([2], np.int64))], [p + "dist"], keepdims=0),
                helper.make_node("Slice", [p + "dist", const(p + "z", np.array([0], np.int64)), const(p + "two", np.array([2], np.int64)), const(p + "one", np.array([1], np.int64))], [p + "lt"]),
                helper.make_node("Slice", [p + "dist", p + "two", const(p + "four", np.array([4], np.int64)), p + "one"], [p + "rb"]),
                helper.make_node("Sub", [const(p + "anc", anchors[None]), p + "lt"], [p + "x1y1"]),
                helper.make_node("Add", [p + "anc", p + "rb"], [p + "x2y2"]),
                helper.make_node("Add", [p + "x1y1", p + "x2y2"], [p + "sum"]),
                helper.make_node("Div", [p + "sum", const(p + "half", np.array(2.0, np.float32))], [p + "cxy"]),
                helper.make_node("Sub", [p + "x2y2", p + "x1y1"], [p + "wh"]),
                helper.make_node("Concat", [p + "cxy", p + "wh"], [p + "xywh_g"], axis=1),
                helper.make_node("Mul", [p + "xywh_g", const(p + "stride", np.array(float(stride), np.float32))], [p + "xywh"]),
                helper.make_node("Conv", [f, const(p + "cw", cw), const(p + "cb", cb)], [p + "cls"]),
                helper.make_node("Reshape", [p + "cls", const(p + "sc", np.array([1, self.C, a], np.int64))], [p + "cls3"]),
                helper.make_node("Sigmoid", [p + "cls3"], [p + "clsp"]),
                helper.make_node("Concat", [p + "xywh", p + "clsp"], [p + "out"], axis=1),
            ]
            level_outs.append(p + "out")
        nodes.append(helper.make_node("Concat", level_outs, ["output0"], axis=2))
        n = sum(l[1].shape[1] for l in self.levels)
        return helper.make_graph(
            nodes, "yolov8-style",
            [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, self.h, self.w])],
            [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 4 + self.C, n])],
            inits)


def robust(cands, fit, clip, iou_thr):
    """No pair of same-class boxes whose IoU is within 1e-3 of the NMS
    threshold: engine and NumPy float differences cannot change the result."""
    boxes = []
    for x0, y0, x1, y1, s, c, i in cands:
        fx0, fy0 = to_frame(fit, x0, y0)
        fx1, fy1 = to_frame(fit, x1, y1)
        boxes.append((max(fx0, clip[0]), max(fy0, clip[1]), min(fx1, clip[2]),
                      min(fy1, clip[3]), s, c))
    for a in range(len(boxes)):
        for b in range(a):
            if boxes[a][5] == boxes[b][5] and abs(iou(boxes[a], boxes[b]) - iou_thr) < 1e-3:
                return False
    return True


def pick_threshold(out, fit, clip, iou_thr, min_kept=8):
    """A threshold with a clear gap to every score, and many objects kept."""
    s = np.sort(out[4:].max(0))[::-1]
    best = None
    for k in range(10, min(len(s) - 1, 400), 5):
        if s[k] - s[k + 1] <= 2e-3 or not (0.1 < s[k + 1] < 0.95):
            continue
        thr = float((s[k] + s[k + 1]) / 2)
        cands = decode_yolov8(out, thr)
        if not robust(cands, fit, clip, iou_thr):
            continue
        kept = postprocess(cands, fit, clip, iou_thr)
        best = (thr, kept)
        if len(kept) >= min_kept:
            break
    assert best is not None, "no robust threshold"
    return best


def yolo_case(out_dir, name, h, w, frame_w, frame_h, seed):
    net = Yolo8Style(h, w, 3, seed)
    save(net.onnx(), os.path.join(out_dir, name + ".onnx"),
         {"imgrec.kind": "detector", "imgrec.labels": "\n".join(LABELS3)})
    # the frame: a smooth pattern with a few bright blocks, RGB
    yy, xx = np.mgrid[0:frame_h, 0:frame_w]
    rng = np.random.default_rng(seed + 1)
    frame = np.stack([(xx * 255 // max(frame_w - 1, 1)), (yy * 255 // max(frame_h - 1, 1)),
                      ((xx + yy) * 7) % 256], -1).astype(np.uint8)
    for _ in range(6):
        x0, y0 = rng.integers(0, frame_w - 40), rng.integers(0, frame_h - 40)
        frame[y0:y0 + rng.integers(16, 40), x0:x0 + rng.integers(16, 40)] = rng.integers(0, 256, 3)
    frame.tofile(os.path.join(out_dir, name + "-frame.rgb"))
    # the tensor the element builds: letterbox with pad 114, no resampling
    fit = letterbox_fit(0, 0, frame_w, frame_h, w, h)
    assert fit[6] == frame_w and fit[7] == frame_h, "the test frame must not be resampled"
    img = np.full((h, w, 3), 114, np.uint8)
    img[fit[5]:fit[5] + frame_h, fit[4]:fit[4] + frame_w] = frame
    x = (img.astype(np.float64) / 255.0).transpose(2, 0, 1)[None]
    out = net.numpy(x)
    iou_thr = 0.45
    thr, kept = pick_threshold(out, fit, (0, 0, frame_w, frame_h), iou_thr)
    write_expected(os.path.join(out_dir, "expected-" + name + ".txt"), thr, iou_thr, kept)


def main(out):
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)
    labels = "\n".join(LABELS3)

    # yolov8 channels-first [1,7,8] and the same values transposed [1,8,7]
    cf = np.concatenate([CONST_BOXES.T, CONST_SCORES.T], 0)[None]
    save(const_graph([("output0", cf, TensorProto.FLOAT)]), p("det-yolov8-const.onnx"),
         {"imgrec.labels": labels})
    save(const_graph([("output0", cf.transpose(0, 2, 1), TensorProto.FLOAT)]),
         p("det-yolov8t-const.onnx"), {"imgrec.labels": labels, "imgrec.detector": "yolov8"})
    # yolov5: objectness 1 where the class score is kept, so the same result
    obj = np.ones((8, 1), np.float32)
    v5 = np.concatenate([CONST_BOXES, obj, CONST_SCORES], 1)[None]
    save(const_graph([("output0", v5, TensorProto.FLOAT)]), p("det-yolov5-const.onnx"),
         {"imgrec.labels": labels})
    # ssd: corner boxes normalised, background column first
    x0 = (CONST_BOXES[:, 0] - CONST_BOXES[:, 2] / 2) / 64
    y0 = (CONST_BOXES[:, 1] - CONST_BOXES[:, 3] / 2) / 64
    x1 = (CONST_BOXES[:, 0] + CONST_BOXES[:, 2] / 2) / 64
    y1 = (CONST_BOXES[:, 1] + CONST_BOXES[:, 3] / 2) / 64
    boxes = np.stack([x0, y0, x1, y1], 1)[None]
    scores = np.concatenate([np.full((8, 1), 0.05, np.float32), CONST_SCORES], 1)[None]
    save(const_graph([("boxes", boxes, TensorProto.FLOAT), ("scores", scores, TensorProto.FLOAT)]),
         p("det-ssd-const.onnx"), {"imgrec.labels": labels})
    # Ultralytics export: labels only in its `names` key
    save(const_graph([("output0", cf, TensorProto.FLOAT)]), p("det-yolov8-names.onnx"),
         {"names": "{0: 'car', 1: 'person', 2: 'bike'}", "task": "detect", "stride": "32"})
    # ssd with prior boxes: zero offsets decode to the priors themselves;
    # scores as logits with imgrec.detector-activation=sigmoid
    priors = np.stack([CONST_BOXES[:, 0] / 64, CONST_BOXES[:, 1] / 64,
                       CONST_BOXES[:, 2] / 64, CONST_BOXES[:, 3] / 64], 1)
    probs = np.clip(scores, 1e-6, 1 - 1e-6)
    logits = np.log(probs / (1 - probs)).astype(np.float32)
    ssd_meta = {"imgrec.labels": labels, "imgrec.detector": "ssd",
                "imgrec.detector-activation": "sigmoid",
                "imgrec.ssd-priors": ",".join("%.9g" % v for v in priors.ravel())}
    save(const_graph([("loc", np.zeros((1, 8, 4), np.float32), TensorProto.FLOAT),
                      ("conf", logits, TensorProto.FLOAT)]), p("det-ssd-priors.onnx"), ssd_meta)
    bad = dict(ssd_meta)
    bad["imgrec.ssd-priors"] = "0.5,0.5,0.1"
    save(const_graph([("loc", np.zeros((1, 8, 4), np.float32), TensorProto.FLOAT),
                      ("conf", logits, TensorProto.FLOAT)]), p("det-ssd-badpriors.onnx"), bad)
    # nms-done rows [N,6] in input pixels (the model "already suppressed")
    thr, iou_thr, kept = const_expected()
    fit = letterbox_fit(0, 0, 1280, 720, 64, 64)
    rows = []
    for i in sorted(set(d[6] for d in kept)):
        b = CONST_BOXES[i]
        c = int(CONST_SCORES[i].argmax())
        rows.append([b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2,
                     CONST_SCORES[i, c], c])
    rows = np.array(rows, np.float32)
    save(const_graph([("output0", rows[None], TensorProto.FLOAT)]), p("det-nms-rows-const.onnx"),
         {"imgrec.labels": labels, "imgrec.detector": "nms-done"})
    # torchvision-style boxes / labels (int64) / scores
    save(const_graph([("boxes", rows[:, :4], TensorProto.FLOAT),
                      ("labels", rows[:, 5], TensorProto.INT64),
                      ("scores", rows[:, 4], TensorProto.FLOAT)]),
         p("det-torchvision-const.onnx"), {"imgrec.labels": labels})
    write_expected(p("expected-const.txt"), thr, iou_thr, kept)
    # an odd frame size (every format, padded strides)
    write_expected(p("expected-const-333x217.txt"), *const_expected(region=(0, 0, 333, 217)))
    # resize=stretch
    write_expected(p("expected-const-stretch.txt"), *const_expected(stretch=True))
    # an I420 ROI at (101, 51) 301x181: its origin moves onto the chroma grid,
    # (100, 50) 302x182, and the boxes map back through that region
    write_expected(p("expected-const-roi-odd.txt"), *const_expected(region=(100, 50, 302, 182)))

    # errors: [1,8,8] is yolov5 with 3 classes or transposed yolov8 with 4
    amb = np.zeros((1, 8, 8), np.float32)
    save(const_graph([("output0", amb, TensorProto.FLOAT)]), p("det-ambiguous.onnx"))
    bad = np.zeros((1, 3, 4, 5), np.float32)
    save(const_graph([("output0", bad, TensorProto.FLOAT)]), p("det-badshape.onnx"))

    # YOLOv8-style networks with random weights
    yolo_case(out, "det-yolov8-640", 640, 640, 640, 480, 11)
    yolo_case(out, "det-yolov8-320x192", 192, 320, 320, 192, 12)


if __name__ == "__main__":
    main(sys.argv[1])
