#!/usr/bin/python3
"""traffic-signs-restore: a pix2pix-style restoration GAN for 32x32 GTSRB sign crops.

A small U-Net generator maps a degraded crop (gaussian noise, blur, low light / low contrast, JPEG
artefacts: `degrade`, randomised and seeded) to the clean crop; a small PatchGAN discriminator sees
(degraded, image) pairs. Loss: L1 (weight 1) + a light LSGAN adversarial term (--adv-weight 0.02)
+ optionally a task term (--cls-weight, default 0): cross-entropy of the shipped, frozen traffic-signs
classifier (models/traffic-signs/traffic-signs.onnx, run by tools/onnx_torch.py) on the restored
crop against the crop's label, so the restorer learns to bring back what the classifier needs
instead of regressing to a blurry mean where the degradation is ambiguous (low light, blur).

Runs on CPU (2 threads, batch 64, degradations drawn on the fly) or on a GPU (--device cuda: a
pool of --pool degraded copies of every training image is drawn first by --pool-workers processes,
then batches are sampled from it on the GPU). --time-budget is seconds of *training* time, counted
across resumes. Every --ckpt-every seconds (and at the end) it writes into --out:
  checkpoint.pt  (G, D, optimisers, step, RNG states: rerunning the same command resumes),
  weights.npz    (generator state_dict, what tools/export_restore.py exports),
  metrics.json   (hyper-parameters, history, monitor PSNR).

Pixels: the generator's input and output are RGB/255*2-1 in [-1, 1] (mean = std = 0.5); the output
is clamped to [-1, 1] (residual: output = clamp(input + U-Net(input))).

  /usr/bin/python3 tools/train/traffic_signs_restore.py --out OUT/traffic-signs-restore --time-budget 1500
  python3 tools/train/traffic_signs_restore.py --out OUT/r --device cuda --batch 256 --width 32 \
      --pool 12 --cls-weight 0.03 --time-budget 330 --ckpt-every 30
"""
import argparse
import io
import math
import multiprocessing
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import common as C  # noqa: E402

CLASSIFIER = os.path.join(C.REPO, "models", "traffic-signs", "traffic-signs.onnx")

MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)


# ------------------------------------------------------------------ degradations

DEFAULT_DEG = dict(p_low=0.5, p_blur=0.5, p_noise=0.5, p_jpeg=0.5,
                   gain=(0.25, 0.8), contrast=(0.35, 0.85), blur_sigma=(0.6, 1.6),
                   noise_sigma=(0.03, 0.15), jpeg_q=(8, 35))


def degrade(x_u8, rng, cfg=DEFAULT_DEG):
    """uint8 NHWC [N,32,32,3] -> degraded uint8 NHWC; numpy RandomState `rng` (seeded).

    Each of low light / low contrast, blur, gaussian noise, JPEG is applied with its probability, in
    that order (the order a camera would add them); a sample that drew none gets one at random."""
    from PIL import Image
    n = len(x_u8)
    x = x_u8.astype(np.float32) / 255.0
    use = np.stack([rng.rand(n) < cfg["p_low"], rng.rand(n) < cfg["p_blur"],
                    rng.rand(n) < cfg["p_noise"], rng.rand(n) < cfg["p_jpeg"]], 1)
    none = ~use.any(1)
    use[np.nonzero(none)[0], rng.randint(0, 4, none.sum())] = True
    gain = rng.uniform(*cfg["gain"], size=n).astype(np.float32)
    con = rng.uniform(*cfg["contrast"], size=n).astype(np.float32)
    sig = rng.uniform(*cfg["blur_sigma"], size=n).astype(np.float32)
    nsig = rng.uniform(*cfg["noise_sigma"], size=n).astype(np.float32)
    q = rng.randint(cfg["jpeg_q"][0], cfg["jpeg_q"][1] + 1, size=n)
    noise = rng.randn(*x.shape).astype(np.float32)
    # low light + low contrast
    m = use[:, 0]
    if m.any():
        xm = x[m]
        mu = xm.mean(axis=(1, 2, 3), keepdims=True)
        xm = (mu + (xm - mu) * con[m, None, None, None]) * gain[m, None, None, None]
        x[m] = xm
    # gaussian blur (separable, 7 taps, replicate border)
    m = use[:, 1]
    if m.any():
        k = np.arange(-3, 4, dtype=np.float32)
        g = np.exp(-(k[None, :] ** 2) / (2 * sig[m, None] ** 2))
        g /= g.sum(1, keepdims=True)
        xm = x[m]
        xp = np.pad(xm, ((0, 0), (3, 3), (0, 0), (0, 0)), mode="edge")
        xm = sum(g[:, i, None, None, None] * xp[:, i:i + 32] for i in range(7))
        xp = np.pad(xm, ((0, 0), (0, 0), (3, 3), (0, 0)), mode="edge")
        xm = sum(g[:, i, None, None, None] * xp[:, :, i:i + 32] for i in range(7))
        x[m] = xm
    # sensor noise
    m = use[:, 2]
    x[m] += noise[m] * nsig[m, None, None, None]
    out = np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)
    # JPEG artefacts
    for i in np.nonzero(use[:, 3])[0]:
        b = io.BytesIO()
        Image.fromarray(out[i]).save(b, format="JPEG", quality=int(q[i]))
        out[i] = np.asarray(Image.open(io.BytesIO(b.getvalue())).convert("RGB"))
    return out


_POOL_SRC = None   # the clean images, shared with the pool workers by fork


def _degrade_chunk(job):
    seed, lo, hi = job
    return degrade(_POOL_SRC[lo:hi], np.random.RandomState(seed))


def degraded_pool(x_u8, copies, workers, seed):
    """`copies` independently degraded copies of every image: uint8 [copies*N,32,32,3], copy k of
    image i at k*N + i. Deterministic for a given (copies, seed): chunk j of copy k uses seed
    seed*100003 + k*1009 + j whatever the number of workers."""
    global _POOL_SRC
    _POOL_SRC = x_u8
    n = len(x_u8)
    step = 4096
    jobs = [(seed * 100003 + k * 1009 + j, lo, min(n, lo + step))
            for k in range(copies) for j, lo in enumerate(range(0, n, step))]
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_degrade_chunk, jobs)
    else:
        parts = [_degrade_chunk(j) for j in jobs]
    return np.concatenate(parts)


def to_pm1(x_u8):
    """uint8 NHWC numpy -> float NCHW tensor in [-1, 1]."""
    return torch.from_numpy(x_u8).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


# ------------------------------------------------------------------ networks

def cbr(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class UNet(nn.Module):
    """32x32 U-Net: 24 @32 -> 48 @16 -> 96 @8 -> back up with skip concatenations; residual output."""

    def __init__(self, w=24):
        super().__init__()
        w1, w2, w3 = w, 2 * w, 4 * w
        self.e1 = nn.Sequential(cbr(3, w1), cbr(w1, w1))
        self.e2 = nn.Sequential(cbr(w1, w2, 2), cbr(w2, w2))
        self.e3 = nn.Sequential(cbr(w2, w3, 2), cbr(w3, w3))
        self.u3 = cbr(w3, w2)              # at 8x8, then upsample to 16
        self.d2 = cbr(2 * w2, w2)
        self.u2 = cbr(w2, w1)              # at 16x16, then upsample to 32
        self.d1 = cbr(2 * w1, w1)
        self.head = nn.Conv2d(w1, 3, 3, 1, 1)

    def forward(self, x):
        e1 = self.e1(x)
        e2 = self.e2(e1)
        e3 = self.e3(e2)
        u = F.interpolate(self.u3(e3), scale_factor=2.0, mode="nearest")
        d2 = self.d2(torch.cat([u, e2], 1))
        u = F.interpolate(self.u2(d2), scale_factor=2.0, mode="nearest")
        d1 = self.d1(torch.cat([u, e1], 1))
        return torch.clamp(x + self.head(d1), -1.0, 1.0)


class PatchD(nn.Module):
    """PatchGAN on (degraded, image) pairs: 6 -> 32 @16 -> 64 @8 -> 96 @4 -> 1 logit per 4x4 patch."""

    def __init__(self):
        super().__init__()
        sn = nn.utils.spectral_norm
        self.net = nn.Sequential(
            sn(nn.Conv2d(6, 32, 4, 2, 1)), nn.LeakyReLU(0.2, True),
            sn(nn.Conv2d(32, 64, 4, 2, 1)), nn.LeakyReLU(0.2, True),
            sn(nn.Conv2d(64, 96, 4, 2, 1)), nn.LeakyReLU(0.2, True),
            sn(nn.Conv2d(96, 1, 3, 1, 1)))

    def forward(self, cond, img):
        return self.net(torch.cat([cond, img], 1))


def psnr(a, b):
    """a, b in [-1, 1]; mean PSNR (dB) over samples on the 0..1 scale."""
    mse = ((a - b) / 2).pow(2).flatten(1).mean(1).clamp(min=1e-10)
    return float((10 * torch.log10(1.0 / mse)).mean())


# ------------------------------------------------------------------ main

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", required=True)
    p.add_argument("--time-budget", type=float, default=1500.0,
                   help="seconds of training-loop time in all (resumes included)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr-g", type=float, default=2e-3)
    p.add_argument("--lr-d", type=float, default=1e-3)
    p.add_argument("--adv-weight", type=float, default=0.02)
    p.add_argument("--adv-start", type=float, default=0.15,
                   help="fraction of the budget trained on L1 only before the adversarial term starts")
    p.add_argument("--width", type=int, default=24)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--ckpt-every", type=float, default=120.0, help="seconds between checkpoints")
    p.add_argument("--limit", type=int, default=0, help="first N training images only (smoke tests)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--pool", type=int, default=0,
                   help="degraded copies per training image drawn up front (0 = draw every batch afresh)")
    p.add_argument("--pool-workers", type=int, default=8)
    p.add_argument("--cls-weight", type=float, default=0.0,
                   help="weight of the frozen classifier's cross-entropy on the restored crop (0 = off)")
    p.add_argument("--classifier", default=CLASSIFIER, help="ONNX classifier for --cls-weight")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    if args.data_dir is None:
        args.data_dir = C.default_data_dir()
    os.makedirs(args.out, exist_ok=True)
    C.seed_all(args.seed)
    C.log("torch", torch.__version__, "threads", args.threads, "data", args.data_dir)

    x, y, tracks, frames = C.load_gtsrb_train(args.data_dir, limit=args.limit)
    n = len(x)
    pool_np = None
    if args.pool > 0:   # drawn before CUDA is initialised: the workers are forked
        t = time.time()
        pool_np = degraded_pool(x, args.pool, args.pool_workers, args.seed)
        C.log("degraded pool: %d copies of %d images in %.1fs" % (args.pool, n, time.time() - t))
    # fixed monitor batch (training images, fixed degradations): PSNR only, nothing is selected on it
    mrng = np.random.RandomState(4321)
    mon_idx = mrng.choice(n, 512, replace=False)
    mon_clean = to_pm1(x[mon_idx]).to(dev)
    mon_deg = to_pm1(degrade(x[mon_idx], mrng)).to(dev)
    mon_y = torch.as_tensor(y[mon_idx]).to(dev)
    clf = None
    if args.cls_weight > 0:
        from onnx_torch import OnnxTorch
        clf = OnnxTorch(args.classifier).to(dev)
        cls_mean = torch.tensor(C.GTSRB_MEAN, device=dev).view(1, 3, 1, 1)
        cls_std = torch.tensor(C.GTSRB_STD, device=dev).view(1, 3, 1, 1)

        def classify(img_pm1):   # [-1,1] RGB -> the classifier's normalised input -> logits
            return clf(((img_pm1 + 1) * 0.5 - cls_mean) / cls_std)
    pool = None
    if pool_np is not None:
        pool = torch.as_tensor(pool_np).to(dev)
        x_dev = torch.as_tensor(x).to(dev)
        y_dev = torch.as_tensor(y).to(dev)
        del pool_np

    G, D = UNet(args.width).to(dev), PatchD().to(dev)
    optG = torch.optim.Adam(G.parameters(), lr=args.lr_g, betas=(0.5, 0.999))
    optD = torch.optim.Adam(D.parameters(), lr=args.lr_d, betas=(0.5, 0.999))
    ck = os.path.join(args.out, "checkpoint.pt")
    out_w = os.path.join(args.out, "weights.npz")
    out_m = os.path.join(args.out, "metrics.json")
    state = {"step": 0, "train_time_s": 0.0, "history": [], "resumes": 0}
    rng = np.random.RandomState(args.seed)
    if os.path.exists(ck):
        c = torch.load(ck, map_location=dev)
        G.load_state_dict(c["G"])
        D.load_state_dict(c["D"])
        optG.load_state_dict(c["optG"])
        optD.load_state_dict(c["optD"])
        state = c["state"]
        state["resumes"] += 1
        rng.set_state(c["np_rng"])
        torch.set_rng_state(c["torch_rng"].cpu())
        C.log("resumed from %s at step %d (%.0fs trained)" % (ck, state["step"], state["train_time_s"]))
    C.log("G params %d, D params %d, %d training images" % (C.count_params(G), C.count_params(D), n))
    meta = {"model": "traffic-signs-restore", "params_g": C.count_params(G), "params_d": C.count_params(D),
            "train_images": int(n), "batch": args.batch, "lr_g": args.lr_g, "lr_d": args.lr_d,
            "adv_weight": args.adv_weight, "adv_start": args.adv_start, "width": args.width,
            "seed": args.seed, "time_budget_s": args.time_budget, "threads": args.threads,
            "degradations": DEFAULT_DEG, "mean": list(MEAN), "std": list(STD),
            "command": C.command_line(), "torch": torch.__version__, "device": str(dev),
            "pool_copies": args.pool, "cls_weight": args.cls_weight,
            "classifier": os.path.relpath(args.classifier, C.REPO) if clf is not None else None,
            "loss": "L1 + adv_weight * LSGAN (PatchGAN on (degraded, image) pairs) + cls_weight * "
                    "cross-entropy of the frozen classifier on the restored crop; output = clamp(x + UNet(x))",
            "monitor": "512 training images, fixed degradations (seed 4321)"}
    with torch.no_grad():
        meta["monitor_psnr_degraded"] = psnr(mon_deg, mon_clean)
        if clf is not None:
            meta["monitor_cls_acc_degraded"] = float((classify(mon_deg).argmax(1) == mon_y).float().mean())

    def lr_factor(prog):
        # short warm-up, flat, cosine decay over the last 40 % to 5 %
        if prog < 0.03:
            return 0.1 + 0.9 * prog / 0.03
        if prog < 0.6:
            return 1.0
        q = (prog - 0.6) / 0.4
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, q)))

    def save(final=False):
        G.eval()
        with torch.no_grad():
            restored = G(mon_deg)
            mp = psnr(restored, mon_clean)
            macc = float((classify(restored).argmax(1) == mon_y).float().mean()) if clf is not None else None
        G.train()
        h = {"step": state["step"], "train_time_s": round(state["train_time_s"], 1), "monitor_psnr": mp}
        if macc is not None:
            h["monitor_cls_acc"] = macc
        h.update(state.get("last_losses", {}))
        state["history"].append(h)
        C.log("step %d t=%.0fs monitor PSNR %.2f dB (degraded %.2f) %s" % (
            state["step"], state["train_time_s"], mp, meta["monitor_psnr_degraded"],
            " ".join("%s=%.4f" % kv for kv in state.get("last_losses", {}).items())))
        torch.save({"G": G.state_dict(), "D": D.state_dict(), "optG": optG.state_dict(),
                    "optD": optD.state_dict(), "state": state, "np_rng": rng.get_state(),
                    "torch_rng": torch.get_rng_state()}, ck + ".tmp")
        G.cpu()
        os.replace(ck + ".tmp", ck)
        C.save_npz(G, out_w)
        G.to(dev)
        m = dict(meta)
        m.update({"steps": state["step"], "train_time_s": state["train_time_s"], "history": state["history"],
                  "resumes": state["resumes"], "monitor_psnr": mp, "finished": final,
                  "total_wall_s_this_process": C.Budget(0).elapsed()})
        C.save_json(m, out_m)

    G.train()
    D.train()
    perm = rng.permutation(n)
    pos = 0
    last_ck = time.time()
    t_run = time.time()
    base_t = state["train_time_s"]
    acc = {"l1": 0.0, "adv_g": 0.0, "d": 0.0, "cls": 0.0, "k": 0}
    while True:
        state["train_time_s"] = base_t + (time.time() - t_run)
        prog = state["train_time_s"] / args.time_budget
        if prog >= 1.0:
            break
        if pos + args.batch > n:
            perm = rng.permutation(n)
            pos = 0
        idx = np.sort(perm[pos:pos + args.batch])
        pos += args.batch
        if pool is not None:   # a random one of the pre-drawn degraded copies of each image
            pick = torch.as_tensor(idx + n * rng.randint(0, args.pool, len(idx)), device=dev)
            it = torch.as_tensor(idx, device=dev)
            deg = pool[pick].permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
            clean = x_dev[it].permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
            yb = y_dev[it]
        else:
            clean_u8 = x[idx]
            deg = to_pm1(degrade(clean_u8, rng)).to(dev)
            clean = to_pm1(clean_u8).to(dev)
            yb = torch.as_tensor(y[idx]).to(dev)
        f = lr_factor(prog)
        C.set_lr(optG, args.lr_g * f)
        C.set_lr(optD, args.lr_d * f)
        fake = G(deg)
        use_adv = args.adv_weight > 0 and prog >= args.adv_start
        if use_adv:
            optD.zero_grad(set_to_none=True)
            dr = D(deg, clean)
            df = D(deg, fake.detach())
            ld = 0.5 * ((dr - 1).pow(2).mean() + df.pow(2).mean())
            ld.backward()
            optD.step()
        l1 = (fake - clean).abs().mean()
        loss = l1
        if use_adv:
            lg = (D(deg, fake) - 1).pow(2).mean()
            loss = l1 + args.adv_weight * lg
        if clf is not None:
            lc = F.cross_entropy(classify(fake), yb)
            loss = loss + args.cls_weight * lc
            acc["cls"] += lc.item()
        optG.zero_grad(set_to_none=True)
        loss.backward()
        optG.step()
        state["step"] += 1
        acc["l1"] += l1.item()
        acc["k"] += 1
        if use_adv:
            acc["adv_g"] += lg.item()
            acc["d"] += ld.item()
        if time.time() - last_ck >= args.ckpt_every:
            k = max(1, acc["k"])
            state["last_losses"] = {"l1": acc["l1"] / k, "adv_g": acc["adv_g"] / k, "d": acc["d"] / k,
                                    "cls": acc["cls"] / k, "lr_factor": f}
            acc = {"l1": 0.0, "adv_g": 0.0, "d": 0.0, "cls": 0.0, "k": 0}
            save()
            last_ck = time.time()
    k = max(1, acc["k"])
    state["last_losses"] = {"l1": acc["l1"] / k, "adv_g": acc["adv_g"] / k, "d": acc["d"] / k}
    save(final=True)
    C.log("done: %d steps, %.0fs of training" % (state["step"], state["train_time_s"]))


if __name__ == "__main__":
    main()
