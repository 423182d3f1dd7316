#!/usr/bin/python3
"""Trains `traffic-sign-detector`: a small anchor-free one-stage detector (one class,
`traffic-sign`) for 1280x720-style road frames letterboxed to 640x384.

Data (tools/train/sign_scenes.py, made on the fly): GTSRB *training* photos
(validation tracks held back for monitoring) and signs drawn by our
traffic-signs-gan generator (through the engine), cut out with their
class's shape, pasted onto real frames (dashcam-highway-960x540.mp4, and
for clutter the parking-lot and indoor camera clips, each zoomed and
colour-cast at random) and procedural roads, 10-150 px as in a 1280x720
camera, with low light,
blur, noise, JPEG and partial occlusion.  Never used: the GTSRB test set and
dashcam-cars-1280x720.mp4 (held out for tools/eval_sign_detector.py).

Model: stride-8 and stride-16 heads over a ReLU CNN (FPN-lite), each cell
predicting distances to the box sides and a quality score (IoU-aware,
quality focal loss; GIoU for boxes), FCOS-style assignment with centre
sampling.  The export decodes in the graph to Ultralytics' YOLOv8 layout
[1, 4+1, N] (centre x, centre y, width, height in input pixels, sigmoid
score), so imgrecdetect decodes it generically.

  /usr/bin/python3 tools/train/traffic_sign_detector.py --out runs/tsd \
      [--time-budget 1800] [--gan-fraction 0.4] [--device cuda]
  /usr/bin/python3 tools/train/traffic_sign_detector.py --out runs/tsd --export \
      models/traffic-sign-detector/traffic-sign-detector.onnx

--gan-fraction 0 is the ablation without GAN-drawn signs.
"""
import json
import os
import sys
import threading
import queue

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import common as C  # noqa: E402
import sign_scenes as S  # noqa: E402

IN_W, IN_H = 640, 384          # model input (1280x720 letterboxed: 640x360 + 12 rows each side)
SCENE_H = 360
STRIDES = (8, 16)
# a box goes to the stride-8 head when its longer side is under 48 px, to
# stride 16 when over 24 px (both in between)
LEVEL_RANGES = ((0, 48), (24, 1e9))
CENTER_RADIUS = 2.5
GAN_ONNX = os.path.join(C.REPO, "models", "traffic-signs-gan", "generator.onnx")


# --------------------------------------------------------------------------- model

def conv(cin, cout, k=3, s=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a, self.b = conv(c, c), nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False),
                                                   nn.BatchNorm2d(c))

    def forward(self, x):
        return F.relu(x + self.b(self.a(x)))


class Detector(nn.Module):
    def __init__(self, width=1.0):
        super().__init__()
        c = [max(8, int(round(v * width))) for v in (16, 32, 48, 64, 96)]
        self.stem = nn.Sequential(conv(3, c[0], s=2), conv(c[0], c[1], s=2))       # /4
        self.s8 = nn.Sequential(conv(c[1], c[2], s=2), Residual(c[2]))             # /8
        self.s16 = nn.Sequential(conv(c[2], c[3], s=2), Residual(c[3]))            # /16
        self.s32 = nn.Sequential(conv(c[3], c[4], s=2), Residual(c[4]))            # /32
        self.lat32 = conv(c[4], c[3], k=1)
        self.top16 = conv(c[3], c[3])
        self.lat16 = conv(c[3], c[2], k=1)
        self.top8 = conv(c[2], c[2])
        self.head8 = nn.Sequential(conv(c[2], c[2]), nn.Conv2d(c[2], 5, 1))
        self.head16 = nn.Sequential(conv(c[3], c[3]), nn.Conv2d(c[3], 5, 1))
        for h in (self.head8, self.head16):
            nn.init.constant_(h[-1].bias, 0.0)
            nn.init.constant_(h[-1].bias[4:], -4.0)     # start with few positives

    def forward(self, x):
        """x float [B,3,H,W] 0-1 -> per level raw maps [B,5,h,w] (ltrb raw, score logit)."""
        p8 = self.s8(self.stem(x))
        p16 = self.s16(p8)
        p32 = self.s32(p16)
        n16 = self.top16(p16 + F.interpolate(self.lat32(p32), size=p16.shape[2:], mode="nearest"))
        n8 = self.top8(p8 + F.interpolate(self.lat16(n16), size=p8.shape[2:], mode="nearest"))
        return [self.head8(n8), self.head16(n16)]


def grid(h, w, stride, device):
    ys, xs = torch.meshgrid(torch.arange(h, device=device), torch.arange(w, device=device),
                            indexing="ij")
    return ((xs.float() + 0.5) * stride).flatten(), ((ys.float() + 0.5) * stride).flatten()


def decode_level(raw, stride):
    """raw [B,5,h,w] -> boxes [B,hw,4] x0,y0,x1,y1 (input px), logits [B,hw]."""
    b, _, h, w = raw.shape
    gx, gy = grid(h, w, stride, raw.device)
    r = raw.flatten(2)
    d = F.softplus(r[:, :4]) * stride
    boxes = torch.stack([gx - d[:, 0], gy - d[:, 1], gx + d[:, 2], gy + d[:, 3]], -1)
    return boxes, r[:, 4]


class Exported(nn.Module):
    """The shipped graph: image 0-1 NCHW -> [1, 5, N] (cx, cy, w, h, score), YOLOv8 layout."""

    def __init__(self, det):
        super().__init__()
        self.det = det
        for i, s in enumerate(STRIDES):
            h, w = IN_H // s, IN_W // s
            gx, gy = grid(h, w, s, torch.device("cpu"))
            self.register_buffer(f"g{i}", torch.stack([gx, gy]).view(1, 2, h * w))

    def forward(self, x):
        outs = []
        for i, (raw, s) in enumerate(zip(self.det(x), STRIDES)):
            r = raw.flatten(2)
            g = getattr(self, f"g{i}")
            d = F.softplus(r[:, :4]) * s
            lt, rb = d[:, 0:2], d[:, 2:4]
            centre = g + (rb - lt) * 0.5
            size = lt + rb
            outs.append(torch.cat([centre, size, torch.sigmoid(r[:, 4:5])], 1))
        return torch.cat(outs, 2)


# --------------------------------------------------------------------------- loss

def box_iou_pairs(a, b):
    """IoU and GIoU of matching rows of a, b [K,4]."""
    ix0, iy0 = torch.max(a[:, 0], b[:, 0]), torch.max(a[:, 1], b[:, 1])
    ix1, iy1 = torch.min(a[:, 2], b[:, 2]), torch.min(a[:, 3], b[:, 3])
    inter = (ix1 - ix0).clamp(min=0) * (iy1 - iy0).clamp(min=0)
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a + area_b - inter + 1e-6
    iou = inter / union
    cx0, cy0 = torch.min(a[:, 0], b[:, 0]), torch.min(a[:, 1], b[:, 1])
    cx1, cy1 = torch.max(a[:, 2], b[:, 2]), torch.max(a[:, 3], b[:, 3])
    hull = (cx1 - cx0) * (cy1 - cy0) + 1e-6
    return iou, iou - (hull - union) / hull


def assign(gt, h, w, stride, lo, hi, device):
    """Per cell of one level: index of its ground-truth box or -1 (FCOS with centre sampling;
    a box smaller than the stride still gets the cell holding its centre)."""
    gx, gy = grid(h, w, stride, device)
    target = torch.full((h * w,), -1, dtype=torch.long, device=device)
    if len(gt) == 0:
        return target
    side = torch.max(gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1])
    ok_level = (side >= lo) & (side <= hi)
    cx, cy = (gt[:, 0] + gt[:, 2]) / 2, (gt[:, 1] + gt[:, 3]) / 2
    r = CENTER_RADIUS * stride
    inside = (gx[:, None] > gt[None, :, 0]) & (gx[:, None] < gt[None, :, 2]) & \
             (gy[:, None] > gt[None, :, 1]) & (gy[:, None] < gt[None, :, 3])
    near = ((gx[:, None] - cx[None]).abs() < r) & ((gy[:, None] - cy[None]).abs() < r)
    pos = inside & near
    ci = (cx / stride).long().clamp(0, w - 1)
    cj = (cy / stride).long().clamp(0, h - 1)
    pos[cj * w + ci, torch.arange(len(gt), device=device)] = True
    pos &= ok_level[None]
    area = (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1])
    cost = torch.where(pos, area[None].expand_as(pos), torch.full_like(pos, 1e12, dtype=area.dtype))
    best, idx = cost.min(1)
    target[best < 1e12] = idx[best < 1e12]
    return target


def detection_loss(raws, gts):
    cls_loss, box_loss, n_pos = 0.0, 0.0, 0
    for raw, stride, (lo, hi) in zip(raws, STRIDES, LEVEL_RANGES):
        boxes, logits = decode_level(raw, stride)
        b, _, h, w = raw.shape
        for i in range(b):
            t = assign(gts[i], h, w, stride, lo, hi, raw.device)
            pos = t >= 0
            quality = torch.zeros_like(logits[i])
            if pos.any():
                iou, giou = box_iou_pairs(boxes[i][pos], gts[i][t[pos]])
                box_loss = box_loss + (1 - giou).sum()
                quality[pos] = iou.detach().clamp(min=0.05)
                n_pos += int(pos.sum())
            p = torch.sigmoid(logits[i])
            bce = F.binary_cross_entropy_with_logits(logits[i], quality, reduction="none")
            cls_loss = cls_loss + (bce * (quality - p).abs().pow(2)).sum()
    n = max(1, n_pos)
    return cls_loss / n, box_loss / n


# --------------------------------------------------------------------------- data

def gan_bank(per_class, seed):
    """Signs drawn by our GAN generator through the engine: uint8 [43*per_class,32,32,3]."""
    import engine_run as E
    meta = E.metadata(GAN_ONNX)
    z_dim, k = int(meta["imgrec.latent-dim"]), int(meta["imgrec.num-classes"])
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(k), per_class)
    z = rng.standard_normal((len(labels), z_dim)).astype(np.float32)
    onehot = np.eye(k, dtype=np.float32)[labels]
    with E.Engine(GAN_ONNX, threads=2) as eng:
        img = eng.run({"z": z, "class": onehot}, ["image"])["image"]
    img = ((img.transpose(0, 2, 3, 1) + 1) * 127.5).clip(0, 255).round().astype(np.uint8)
    return img, labels


# Real backgrounds (../shared/videos) and how many frames to skip between two
# kept: the road is what users point cameras at; the parking lot (cars from
# above) and the indoor camera add real clutter the road clip lacks.  Never
# dashcam-cars-1280x720.mp4: it is the held-out evaluation road.
BACKGROUND_VIDEOS = (("dashcam-highway-960x540.mp4", 1), ("parking-lot-768x432.mp4", 2),
                     ("surveillance-people-768x432.mp4", 6))


def backgrounds(width, height):
    vids = os.path.normpath(os.path.join(C.REPO, "..", "shared", "videos"))
    out = ["procedural"]
    for name, every in BACKGROUND_VIDEOS:
        p = os.path.join(vids, name)
        if os.path.exists(p):
            out.append(S.read_video_frames(p, width, height, every=every))
        else:
            C.log("no", p, "- not among the backgrounds")
    return out


def training_sources(args):
    x, y, tracks, _ = C.load_gtsrb_train(args.data_dir, limit=args.limit)
    val = C.track_split(tracks)
    sources = [(S.SignSource(x[~val], y[~val], "gtsrb"), 1.0 - args.gan_fraction)]
    if args.gan_fraction > 0:
        gx, gy = gan_bank(args.gan_per_class, args.seed)
        sources.append((S.SignSource(gx, gy, "gan"), args.gan_fraction))
    val_sources = [(S.SignSource(x[val], y[val], "gtsrb-val"), 1.0)]
    return sources, val_sources


def batches(comp, batch, seed, crop):
    """Endless (images uint8 [B,H,W,3], list of boxes) from a worker thread."""
    q = queue.Queue(maxsize=4)

    def work():
        try:
            produce()
        except BaseException as e:      # hand the failure to the training loop
            q.put(e)

    def produce():
        rng = np.random.default_rng(seed)
        while True:
            imgs, boxes = [], []
            for _ in range(batch):
                img, bx, _ = comp.scene(rng)
                img, top = S.letterbox_pad(img, IN_H)
                bx = bx + np.array([0, top, 0, top], np.float32)
                if crop:
                    cw, ch = crop
                    x0 = int(rng.integers(0, IN_W - cw + 1)) // 16 * 16
                    y0 = int(rng.integers(0, IN_H - ch + 1)) // 16 * 16
                    img = img[y0:y0 + ch, x0:x0 + cw]
                    bx = bx - np.array([x0, y0, x0, y0], np.float32)
                    keep = (bx[:, 0] >= 0) & (bx[:, 1] >= 0) & (bx[:, 2] <= cw) & (bx[:, 3] <= ch)
                    bx = bx[keep]
                imgs.append(img)
                boxes.append(bx)
            q.put((np.stack(imgs), boxes))

    threading.Thread(target=work, daemon=True).start()
    while True:
        item = q.get()
        if isinstance(item, BaseException):
            raise item
        yield item


def to_tensor(imgs, dev):
    return torch.from_numpy(imgs).to(dev).permute(0, 3, 1, 2).float().div_(255.0)


@torch.no_grad()
def quick_eval(model, comp, dev, n=64, seed=777):
    """Recall at IoU 0.5 of the best-scoring prediction per box (score > 0.3) on val scenes."""
    model.eval()
    rng = np.random.default_rng(seed)
    hit, tot, fp = 0, 0, 0
    for _ in range(n):
        img, bx, _ = comp.scene(rng)
        img, top = S.letterbox_pad(img, IN_H)
        bx = torch.from_numpy(bx + np.array([0, top, 0, top], np.float32))
        raws = model(to_tensor(img[None], dev))
        boxes = torch.cat([decode_level(r, s)[0][0] for r, s in zip(raws, STRIDES)]).cpu()
        scores = torch.cat([torch.sigmoid(decode_level(r, s)[1][0]) for r, s in zip(raws, STRIDES)]).cpu()
        keep = scores > 0.3
        boxes, scores = boxes[keep], scores[keep]
        order = scores.argsort(descending=True)
        boxes = boxes[order]
        kept = []
        for b in boxes:
            if all(S.iou(b.tolist(), k.tolist()) < 0.5 for k in kept):
                kept.append(b)
        matched = set()
        for k in kept:
            best, bi = 0.0, -1
            for j, g in enumerate(bx):
                v = S.iou(k.tolist(), g.tolist())
                if v > best:
                    best, bi = v, j
            if best >= 0.5 and bi not in matched:
                matched.add(bi)
            else:
                fp += 1
        hit += len(matched)
        tot += len(bx)
    model.train()
    return {"val_recall": hit / max(1, tot), "val_fp_per_image": fp / n}


# --------------------------------------------------------------------------- main

def train(args):
    dev = C.setup(args)
    sources, val_sources = training_sources(args)
    bgs = backgrounds(IN_W, SCENE_H)
    comp = S.Compositor(bgs, sources, width=IN_W, height=SCENE_H, augment_backgrounds=True)
    val_comp = S.Compositor(bgs, val_sources, width=IN_W, height=SCENE_H)
    model = Detector(args.width)
    if args.init:
        # continue an earlier run (e.g. a CPU run continued in a later session);
        # the record keeps the chain so the card can say how many steps in all
        C.load_npz_into(model, os.path.join(args.init, "weights.npz"))
        with open(os.path.join(args.init, "metrics.json")) as f:
            prior = json.load(f)
        init_steps = int(prior.get("steps", 0)) + int(prior.get("init_steps", 0))
    model = model.to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=5e-4)
    budget = C.Budget(args.time_budget)
    crop = (args.crop_w, args.crop_h) if args.crop_w else None
    data = batches(comp, args.batch, args.seed, crop)
    meta = {"model": "traffic-sign-detector", "params": C.count_params(model), "width": args.width,
            "batch": args.batch, "lr": args.lr, "crop": crop, "gan_fraction": args.gan_fraction,
            "gan_per_class": args.gan_per_class, "time_budget_s": args.time_budget,
            "command": C.command_line(), "torch": torch.__version__, "device": str(dev),
            "backgrounds": ["procedural"] + [n for n, _ in BACKGROUND_VIDEOS if os.path.exists(
                os.path.join(C.REPO, "..", "shared", "videos", n))],
            "history": []}
    if args.init:
        meta["init"] = {"from": args.init, "command": prior.get("command"),
                        "init": prior.get("init")}
        meta["init_steps"] = init_steps
    C.log("params", meta["params"])
    step, t_hist = 0, []
    while not budget.expired() and (args.steps == 0 or step < args.steps):
        frac = budget.elapsed() / args.time_budget
        if args.steps:
            frac = max(frac, step / args.steps)
        lr = args.lr * (min(1.0, (step + 1) / 200) * 0.5 * (1 + np.cos(np.pi * min(1.0, frac))))
        C.set_lr(opt, lr)
        imgs, boxes = next(data)
        x = to_tensor(imgs, dev)
        gts = [torch.from_numpy(b).to(dev) for b in boxes]
        lc, lb = detection_loss(model(x), gts)
        loss = lc + 2.0 * lb
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        step += 1
        t_hist.append((float(lc), float(lb)))
        if step % args.log_every == 0:
            lc_m, lb_m = np.mean(t_hist, 0)
            t_hist = []
            h = {"step": step, "cls_loss": round(float(lc_m), 4), "box_loss": round(float(lb_m), 4),
                 "lr": lr, "elapsed_s": round(budget.elapsed(), 1)}
            if step % (args.log_every * 5) == 0:
                h.update(quick_eval(model, val_comp, dev))
            meta["history"].append(h)
            C.log(json.dumps(h))
            C.save_npz(model, os.path.join(args.out, "weights.npz"))
    meta["steps"] = step
    meta.update(quick_eval(model, val_comp, dev, n=200))
    C.log("final", json.dumps({k: meta[k] for k in ("steps", "val_recall", "val_fp_per_image")}))
    C.save_npz(model, os.path.join(args.out, "weights.npz"))
    C.save_json(meta, os.path.join(args.out, "metrics.json"))


def export(args):
    import onnx
    with open(os.path.join(args.out, "metrics.json")) as f:
        meta = json.load(f)
    det = Detector(meta.get("width", 1.0))
    C.load_npz_into(det, os.path.join(args.out, "weights.npz"))
    model = Exported(det).eval()
    x = torch.zeros(1, 3, IN_H, IN_W)
    tmp = args.export + ".tmp"
    torch.onnx.export(model, (x,), tmp, opset_version=13, input_names=["images"],
                      output_names=["output0"], do_constant_folding=True)
    m = onnx.load(tmp)
    os.remove(tmp)
    props = {"imgrec.kind": "detector", "imgrec.detector": "yolov8", "imgrec.labels": "traffic-sign",
             "imgrec.resize": "letterbox", "imgrec.scale": repr(1 / 255.0),
             "imgrec.detector-box": "cxcywh", "imgrec.detector-units": "pixels",
             "imgrec.training": json.dumps({k: meta[k] for k in (
                 "steps", "init_steps", "gan_fraction", "time_budget_s", "device", "val_recall",
                 "val_fp_per_image", "command") if k in meta})}
    for k, v in props.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    m.producer_name = "imgrec tools/train/traffic_sign_detector.py"
    onnx.checker.check_model(m)
    os.makedirs(os.path.dirname(os.path.abspath(args.export)), exist_ok=True)
    onnx.save(m, args.export)
    # Regression vector for tests/models/test_shipped_models.py: a procedural
    # road (nothing from ../shared) letterboxed as imgrecdetect does, stored as
    # uint8 (the test divides by 255, the model's imgrec.scale), and what
    # PyTorch computes for it.
    rng = np.random.default_rng(2026)
    img, _ = S.letterbox_pad(S.procedural_road(rng, IN_W, SCENE_H).astype(np.uint8), IN_H)
    u8 = np.ascontiguousarray(img.transpose(2, 0, 1)[None])
    with torch.no_grad():
        ref = model(torch.from_numpy(u8).float() / 255.0)
    if args.test_vectors:
        os.makedirs(args.test_vectors, exist_ok=True)
        np.save(os.path.join(args.test_vectors, "input_images.u8.npy"), u8)
        np.save(os.path.join(args.test_vectors, "output_output0.npy"), ref.numpy())
    C.log("exported", args.export, "output", tuple(ref.shape), "%.2f MB" % (os.path.getsize(args.export) / 1e6),
          "max score on the procedural road %.3f" % float(ref[0, 4].max()))


def main():
    p = C.base_parser(__doc__.splitlines()[0], epochs=0, batch=16, lr=2e-3, budget=1800)
    p.add_argument("--gan-fraction", type=float, default=0.4,
                   help="share of pasted signs drawn by the GAN generator (0 = ablation)")
    p.add_argument("--gan-per-class", type=int, default=60)
    p.add_argument("--width", type=float, default=1.0, help="channel multiplier")
    p.add_argument("--steps", type=int, default=0, help="stop after N steps (0: time budget only)")
    p.add_argument("--crop-w", type=int, default=320, help="train on crops (0: whole 640x384)")
    p.add_argument("--crop-h", type=int, default=192)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--init", default="", help="start from the weights of this earlier run's directory")
    p.add_argument("--export", default="", help="export OUT's weights to this ONNX file and stop")
    p.add_argument("--test-vectors", default="",
                   help="with --export: write the regression input/output .npy files to this directory")
    args = p.parse_args()
    if args.export:
        if args.data_dir is None:
            args.data_dir = C.default_data_dir()
        export(args)
    else:
        train(args)


if __name__ == "__main__":
    main()
