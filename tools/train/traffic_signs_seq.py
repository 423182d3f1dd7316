#!/usr/bin/env python3
"""traffic-signs-seq: CNN-LSTM over GTSRB tracks (per-frame CNN encoder -> LSTM -> 43 scores).

Exported as a step model (frame, h_in, c_in) -> (scores, h_out, c_out).  Trained on
sequences of the frames of one track (ordered by `frame`, random subsets = frame drops),
half clean and half degraded (gaussian noise, blur, partial occlusion, low contrast),
with an auxiliary per-frame linear head on the encoder (the per-frame baseline).
Held out: common.TRACK_VAL_FRAC of the tracks (seed common.TRACK_SPLIT_SEED), the same
tracks traffic_signs.py holds out, so the per-frame traffic-signs CNN has not seen them.

GPU:  python3 tools/train/traffic_signs_seq.py --out OUT/traffic-signs-seq --time-budget 85 \
          --per-frame-weights OUT/traffic-signs/weights.npz
CPU smoke: /usr/bin/python3 tools/train/traffic_signs_seq.py --out /tmp/seq --device cpu --limit 2000 --epochs 1
"""
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402

NAME = "traffic-signs-seq"
MEAN, STD = C.GTSRB_MEAN, C.GTSRB_STD


def conv_bn(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = conv_bn(c, c)
        self.b = conv_bn(c, c)

    def forward(self, x):
        return x + self.b(self.a(x))


class Encoder(nn.Module):
    def __init__(self, w=(32, 64, 96, 128)):
        super().__init__()
        self.net = nn.Sequential(
            conv_bn(3, w[0]),
            conv_bn(w[0], w[1]), nn.MaxPool2d(2),
            conv_bn(w[1], w[2]), nn.MaxPool2d(2), Residual(w[2]),
            conv_bn(w[2], w[3]), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.dim = w[3]

    def forward(self, x):
        return self.net(x)


class SeqNet(nn.Module):
    def __init__(self, num_classes=43, hidden=128, dropout=0.2):
        super().__init__()
        self.enc = Encoder()
        self.drop = nn.Dropout(dropout)
        self.frame_head = nn.Linear(self.enc.dim, num_classes)   # per-frame baseline head
        self.lstm = nn.LSTM(self.enc.dim, hidden, num_layers=1, batch_first=True)
        self.head = nn.Linear(hidden, num_classes)
        self.hidden = hidden

    def forward_seq(self, x, state=None):
        """x: [B,T,3,32,32] normalised -> (seq scores [B,T,K], frame scores [B,T,K], state)."""
        b, t = x.shape[:2]
        f = self.enc(x.reshape(b * t, *x.shape[2:]))
        frame_scores = self.frame_head(self.drop(f)).reshape(b, t, -1)
        f = self.drop(f.float()).reshape(b, t, -1)
        with no_autocast(x.device):
            o, state = self.lstm(f.float(), state)
        return self.head(o), frame_scores, state

    def forward(self, frame, h_in, c_in):
        """Step model: frame [N,3,32,32], h_in/c_in [1,N,H] -> scores [N,K], h_out, c_out."""
        f = self.enc(frame)
        o, (h, c) = self.lstm(f.unsqueeze(1), (h_in, c_in))
        return self.head(o[:, 0]), h, c


class StepCellOps(nn.Module):
    """Same step as SeqNet.forward with the LSTM written in elementary ops (MatMul/Sigmoid/Tanh),
    for engines without the ONNX LSTM operator."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, frame, h_in, c_in):
        n = self.net
        f = n.enc(frame)
        h0, c0 = h_in[0], c_in[0]
        g = F.linear(f, n.lstm.weight_ih_l0, n.lstm.bias_ih_l0) + F.linear(h0, n.lstm.weight_hh_l0, n.lstm.bias_hh_l0)
        H = n.hidden
        i, fg, gg, o = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
        c = torch.sigmoid(fg) * c0 + torch.sigmoid(i) * torch.tanh(gg)
        h = torch.sigmoid(o) * torch.tanh(c)
        return n.head(h), h.unsqueeze(0), c.unsqueeze(0)


def no_autocast(dev):
    if dev.type == "cuda":
        return torch.autocast("cuda", enabled=False)
    return C._Null()


def build(hp=None):
    return SeqNet(hidden=(hp or {}).get("hidden", 128))


# ------------------------------------------------------------------ data

def track_table(tr, fr):
    """-> (idx [NT,L] frame indices ordered by frame, padded by repeating the last; lengths [NT])."""
    order = np.lexsort((fr, tr))
    trs = tr[order]
    ut, start, cnt = np.unique(trs, return_index=True, return_counts=True)
    L = int(cnt.max())
    idx = np.empty((len(ut), L), np.int64)
    for k, (s, c) in enumerate(zip(start, cnt)):
        idx[k, :c] = order[s:s + c]
        idx[k, c:] = order[s + c - 1]
    return idx, cnt.astype(np.int64)


def degrade(x, gen, strength=1.0):
    """x float [N,3,H,W] in 0..1 -> degraded copy (each frame independently):
    gaussian noise, gaussian blur, partial occlusion, contrast loss."""
    n, _, h, w = x.shape
    dev = x.device
    r = lambda *s: torch.rand(*s, device=dev, generator=gen)
    # blur
    sig = torch.where(r(n) < 0.6, 0.5 + 1.5 * r(n) * strength, torch.zeros(n, device=dev))
    x = C.gaussian_blur(x, sig)
    # contrast / brightness loss
    m = x.mean(dim=(1, 2, 3), keepdim=True)
    fc = 1 - 0.5 * strength * r(n, 1, 1, 1)
    x = m + (x - m) * fc + (r(n, 1, 1, 1) - 0.5) * 0.2 * strength
    # occlusion: random rectangle of 25-55 % of the area, random flat colour
    area = (0.20 + 0.25 * r(n)) * strength
    asp = 0.5 + r(n)
    oh = (torch.sqrt(area * asp) * h).clamp(1, h)
    ow = (torch.sqrt(area / asp) * w).clamp(1, w)
    oy = r(n) * (h - oh + 1)
    ox = r(n) * (w - ow + 1)
    yy = torch.arange(h, device=dev, dtype=x.dtype)[None, :, None]
    xx = torch.arange(w, device=dev, dtype=x.dtype)[None, None, :]
    occ = (yy >= oy[:, None, None]) & (yy < (oy + oh)[:, None, None]) & \
          (xx >= ox[:, None, None]) & (xx < (ox + ow)[:, None, None])
    occ = occ & (r(n) < 0.6)[:, None, None]
    col = r(n, 3, 1, 1)
    x = torch.where(occ[:, None], col.expand_as(x), x)
    # gaussian noise
    sn = (0.05 + 0.15 * r(n, 1, 1, 1)) * strength
    x = x + sn * torch.randn(x.shape, device=dev, generator=gen)
    return x.clamp(0, 1)


def make_batch(x_all, idx, lengths, sel, T, gen, train=True):
    """Gather sequences of T frames (ordered, random subset = drops) for tracks `sel`.
    Returns float [B,T,3,32,32] in 0..1 (clean, augmented when train) and a degraded mask [B]."""
    dev = x_all.device
    b = len(sel)
    L = lengths[sel]
    # random sorted subset of T positions within each track's length
    keys = torch.rand(b, idx.shape[1], device=dev, generator=gen)
    keys = keys.masked_fill(torch.arange(idx.shape[1], device=dev)[None, :] >= L[:, None], 2.0)
    pos = keys.argsort(1)[:, :T].sort(1).values
    frames = idx[sel][torch.arange(b, device=dev)[:, None], pos]     # [B,T]
    xb = x_all[frames.reshape(-1)].permute(0, 3, 1, 2).float().div_(255.0)
    if train:
        xb = C.random_affine(xb, rot_deg=10.0, scale=(0.9, 1.1), shift=0.06, shear=0.1, gen=gen)
        xb = C.color_jitter(xb, 0.3, 0.3, 0.3, gen=gen)
    return xb.reshape(b, T, 3, 32, 32)


# ------------------------------------------------------------------ evaluation

@torch.no_grad()
def make_eval_sets(x_all_u8, idx, lengths, dev, seed=999, drop_p=0.3):
    """Deterministic clean and degraded versions of the held-out tracks.
    Returns dict name -> (frames float [NT,L,3,32,32] 0..1, lengths [NT])."""
    gen = torch.Generator(device=dev)
    gen.manual_seed(seed)
    x_all = torch.as_tensor(x_all_u8).to(dev)
    idx_t = torch.as_tensor(idx).to(dev)
    clean = x_all[idx_t.reshape(-1)].permute(0, 3, 1, 2).float().div(255.0).reshape(*idx.shape, 3, 32, 32)
    deg = degrade(clean.reshape(-1, 3, 32, 32), gen).reshape(clean.shape)
    # random frame drops: keep each frame with prob 1-drop_p (at least 1), compact the kept ones
    keep = torch.rand(idx.shape, device=dev, generator=gen) >= drop_p
    keep = keep & (torch.arange(idx.shape[1], device=dev)[None, :] < torch.as_tensor(lengths, device=dev)[:, None])
    keep[:, 0] |= ~keep.any(1)
    order = (~keep).float().mul(1000).add(torch.arange(idx.shape[1], device=dev)[None, :].float()).argsort(1)
    dlen = keep.sum(1)
    deg = deg[torch.arange(idx.shape[0], device=dev)[:, None], order]
    last = torch.gather(order, 1, (dlen - 1)[:, None])
    pad = torch.arange(idx.shape[1], device=dev)[None, :] >= dlen[:, None]
    deg = torch.where(pad[:, :, None, None, None], deg[torch.arange(idx.shape[0], device=dev), (dlen - 1)][:, None], deg)
    del last
    return {"clean": (clean, torch.as_tensor(lengths, device=dev)), "degraded": (deg, dlen)}


@torch.no_grad()
def eval_tracks(model, sets, labels, dev, per_frame_models=None, ks=(1, 5, 10), batch=64):
    """Accuracy after k frames (and all frames) of the seq model; per-frame CNN baselines on the same
    frames: accuracy on frame k alone, mean over all frames, and softmax-averaged vote over all frames."""
    model.eval()
    per_frame_models = per_frame_models or {}
    for m in per_frame_models.values():
        m.eval()
    y = torch.as_tensor(labels, device=dev)
    res = {}
    for sname, (frames, lens) in sets.items():
        nt, L = frames.shape[:2]
        seq_out, pf_out = [], {k: [] for k in per_frame_models}
        own = []
        for i in range(0, nt, batch):
            xb = C.normalize01(frames[i:i + batch].reshape(-1, 3, 32, 32), MEAN, STD).reshape(-1, L, 3, 32, 32)
            with C.autocast(dev):
                s, fs, _ = model.forward_seq(xb)
                own.append(fs.float())
                for k, m in per_frame_models.items():
                    pf_out[k].append(m(xb.reshape(-1, 3, 32, 32)).float().reshape(xb.shape[0], L, -1))
            seq_out.append(s.float())
        seq = torch.cat(seq_out)
        pf = {"own-encoder+linear": torch.cat(own)}
        for k in per_frame_models:
            pf[k] = torch.cat(pf_out[k])
        ar = torch.arange(nt, device=dev)
        valid = torch.arange(L, device=dev)[None, :] < lens[:, None]
        r = {"tracks": int(nt), "frames": int(valid.sum().item()), "seq": {}, "per_frame": {}}
        for k in list(ks) + ["all"]:
            pos = (lens - 1) if k == "all" else torch.clamp(lens - 1, max=k - 1)
            r["seq"]["after_%s" % k] = (seq[ar, pos].argmax(1) == y).float().mean().item()
        for name, out in pf.items():
            d = {}
            pred = out.argmax(2)
            corr = (pred == y[:, None]) & valid
            for k in ks:
                pos = torch.clamp(lens - 1, max=k - 1)
                d["frame_%d_alone" % k] = (pred[ar, pos] == y).float().mean().item()
            d["last_frame_alone"] = (pred[ar, lens - 1] == y).float().mean().item()
            d["mean_over_frames"] = (corr.sum().float() / valid.sum()).item()
            prob = torch.softmax(out, 2) * valid[:, :, None]
            d["softmax_vote_all"] = (prob.sum(1).argmax(1) == y).float().mean().item()
            r["per_frame"][name] = d
        ref = r["per_frame"].get("traffic-signs", r["per_frame"]["own-encoder+linear"])["mean_over_frames"]
        r["seq_all_minus_per_frame_mean_points"] = 100 * (r["seq"]["after_all"] - ref)
        res[sname] = r
    return res


def load_per_frame(path, dev):
    import traffic_signs
    m = traffic_signs.build()
    C.load_npz_into(m, path)
    return m.to(dev).eval()


# ------------------------------------------------------------------ main

def main():
    p = C.base_parser(__doc__.splitlines()[0], epochs=400, batch=64, lr=2e-3, budget=85)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--per-frame-weights", default="", help="traffic-signs weights.npz for the per-frame baseline")
    p.add_argument("--eval-every", type=float, default=20.0, help="seconds between evaluations/saves")
    args = p.parse_args()
    dev = C.setup(args)
    torch.backends.cudnn.benchmark = False   # T varies per batch: avoid re-tuning every new shape
    budget = C.Budget(args.time_budget, reserve=6.0)
    x, y, tr, fr = C.load_gtsrb_train(args.data_dir, args.limit)
    isval = C.track_split(tr)
    idx, lens = track_table(tr, fr)
    tlab = y[idx[:, 0]]
    tval = isval[idx[:, 0]]
    C.log("tracks: train %d held-out %d (frames %d / %d)" % ((~tval).sum(), tval.sum(), (~isval).sum(), isval.sum()))
    x_all = torch.as_tensor(x).to(dev)
    idx_tr = torch.as_tensor(idx[~tval]).to(dev)
    len_tr = torch.as_tensor(lens[~tval]).to(dev)
    y_tr = torch.as_tensor(tlab[~tval]).to(dev)
    sets = make_eval_sets(x, idx[tval], lens[tval], dev)
    pf_models = {}
    if args.per_frame_weights and os.path.exists(args.per_frame_weights):
        pf_models["traffic-signs"] = load_per_frame(args.per_frame_weights, dev)
        C.log("per-frame baseline: traffic-signs from", args.per_frame_weights)

    model = build({"hidden": args.hidden}).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)
    ntr = len(y_tr)
    spe = max(1, ntr // args.batch)
    sched = C.TimeAwareSchedule(args.epochs * spe, budget, warmup=0.15)
    gen = torch.Generator(device=dev)
    gen.manual_seed(args.seed)
    out_w = os.path.join(args.out, "weights.npz")
    out_m = os.path.join(args.out, "metrics.json")
    meta = {"model": NAME, "hidden": args.hidden, "params": C.count_params(model), "command": C.command_line(),
            "arch": "encoder conv32-conv64-pool-conv96-pool-res96-conv128-pool-GAP(128) -> LSTM(128,%d) -> fc 43;"
                    " aux per-frame fc 43 on encoder" % args.hidden,
            "mean": list(MEAN), "std": list(STD), "batch_tracks": args.batch, "lr": args.lr, "seed": args.seed,
            "val_tracks_frac": C.TRACK_VAL_FRAC, "split_seed": C.TRACK_SPLIT_SEED, "time_budget_s": args.time_budget,
            "train_tracks": int(ntr), "heldout_tracks": int(tval.sum()), "torch": torch.__version__,
            "device": str(dev), "degradation": "per frame: blur p0.6 sigma0.5-2, contrast x(0.5-1) + brightness"
            " +-0.1, occlusion p0.6 of 20-45% area (flat random colour), gaussian noise sigma 0.05-0.20;"
            " eval drops 30% of frames",
            "history": []}
    t0 = time.time()
    last_eval = 0.0   # first evaluation/save after the first epoch, then every --eval-every seconds
    step = 0
    while not sched.done() and not budget.expired():
        model.train()
        perm = torch.randperm(ntr, device=dev, generator=gen)
        for i in range(spe):
            if sched.done() or budget.expired():
                break
            sel = perm[i * args.batch:(i + 1) * args.batch]
            T = int(torch.randint(6, int(lens.max()) + 1, (1,), generator=torch.Generator().manual_seed(args.seed * 100003 + step)).item())
            xb = make_batch(x_all, idx_tr, len_tr, sel, T, gen)
            b = xb.shape[0]
            dmask = (torch.rand(b, device=dev, generator=gen) < 0.5)
            flat = xb.reshape(-1, 3, 32, 32)
            deg = degrade(flat, gen).reshape(xb.shape)
            xb = torch.where(dmask[:, None, None, None, None], deg, xb)
            xb = C.normalize01(xb.reshape(-1, 3, 32, 32), MEAN, STD).reshape(xb.shape)
            yb = y_tr[sel]
            C.set_lr(opt, args.lr * sched.factor())
            with C.autocast(dev):
                s, fs, _ = model.forward_seq(xb)
            yt = yb[:, None].expand(b, T).reshape(-1)
            loss = F.cross_entropy(s.float().reshape(b * T, -1), yt, label_smoothing=0.05) + \
                0.5 * F.cross_entropy(fs.float().reshape(b * T, -1), yt, label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            step += 1
            if step % 50 == 0:
                C.log("step %d T=%d loss %.4f lr_factor %.3f" % (step, T, loss.item(), sched.factor()))
        if time.time() - last_eval > args.eval_every or sched.done() or budget.expired():
            last_eval = time.time()
            r = eval_tracks(model, sets, tlab[tval], dev, pf_models)
            meta["history"].append({"step": step, "elapsed_s": budget.elapsed(),
                                    "clean_all": r["clean"]["seq"]["after_all"],
                                    "degraded_all": r["degraded"]["seq"]["after_all"]})
            meta.update({"steps": step, "train_time_s": time.time() - t0, "heldout": r})
            C.log("eval step %d clean %s degraded %s" % (step, r["clean"]["seq"], r["degraded"]["seq"]))
            C.save_npz(model, out_w)
            C.save_json(meta, out_m)
    r = eval_tracks(model, sets, tlab[tval], dev, pf_models)
    meta.update({"steps": step, "train_time_s": time.time() - t0, "heldout": r, "total_wall_s": budget.elapsed(),
                 "stopped_by": "schedule" if sched.done() else "time-budget"})
    for sname in r:
        C.log(sname, "seq", r[sname]["seq"])
        for k, v in r[sname]["per_frame"].items():
            C.log(sname, "per-frame", k, v)
    C.save_npz(model, out_w)
    C.save_json(meta, out_m)
    C.log("saved", out_w)


if __name__ == "__main__":
    main()
