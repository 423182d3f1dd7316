#!/usr/bin/python3
"""traffic-signs-restore: a pix2pix-style restoration GAN for 32x32 GTSRB sign crops.

A small U-Net generator maps a degraded crop (gaussian noise, blur, low light / low contrast, JPEG
artefacts: `degrade`, randomised and seeded) to the clean crop; a small PatchGAN discriminator sees
(degraded, image) pairs. Loss: L1 (weight 1) + a light LSGAN adversarial term (--adv-weight 0.02).
The traffic-signs classifier is never used here (it only measures, in tools/eval_restore.py).

Designed for CPU training (2 threads, batch 64, --time-budget seconds of *training* time, counted
across resumes). Every --ckpt-every seconds (and at the end) it writes into --out:
  checkpoint.pt  (G, D, optimisers, step, RNG states: rerunning the same command resumes),
  weights.npz    (generator state_dict, what tools/export_restore.py exports),
  metrics.json   (hyper-parameters, history, monitor PSNR).

Pixels: the generator's input and output are RGB/255*2-1 in [-1, 1] (mean = std = 0.5); the output
is clamped to [-1, 1] (residual: output = clamp(input + U-Net(input))).

  /usr/bin/python3 tools/train/traffic_signs_restore.py --out OUT/traffic-signs-restore --time-budget 1500
"""
import argparse
import io
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402

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
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.data_dir is None:
        args.data_dir = C.default_data_dir()
    os.makedirs(args.out, exist_ok=True)
    C.seed_all(args.seed)
    C.log("torch", torch.__version__, "threads", args.threads, "data", args.data_dir)

    x, y, tracks, frames = C.load_gtsrb_train(args.data_dir, limit=args.limit)
    n = len(x)
    # fixed monitor batch (training images, fixed degradations): PSNR only, nothing is selected on it
    mrng = np.random.RandomState(4321)
    mon_idx = mrng.choice(n, 512, replace=False)
    mon_clean = to_pm1(x[mon_idx])
    mon_deg = to_pm1(degrade(x[mon_idx], mrng))

    G, D = UNet(args.width), PatchD()
    optG = torch.optim.Adam(G.parameters(), lr=args.lr_g, betas=(0.5, 0.999))
    optD = torch.optim.Adam(D.parameters(), lr=args.lr_d, betas=(0.5, 0.999))
    ck = os.path.join(args.out, "checkpoint.pt")
    out_w = os.path.join(args.out, "weights.npz")
    out_m = os.path.join(args.out, "metrics.json")
    state = {"step": 0, "train_time_s": 0.0, "history": [], "resumes": 0}
    rng = np.random.RandomState(args.seed)
    if os.path.exists(ck):
        c = torch.load(ck)
        G.load_state_dict(c["G"])
        D.load_state_dict(c["D"])
        optG.load_state_dict(c["optG"])
        optD.load_state_dict(c["optD"])
        state = c["state"]
        state["resumes"] += 1
        rng.set_state(c["np_rng"])
        torch.set_rng_state(c["torch_rng"])
        C.log("resumed from %s at step %d (%.0fs trained)" % (ck, state["step"], state["train_time_s"]))
    C.log("G params %d, D params %d, %d training images" % (C.count_params(G), C.count_params(D), n))
    meta = {"model": "traffic-signs-restore", "params_g": C.count_params(G), "params_d": C.count_params(D),
            "train_images": int(n), "batch": args.batch, "lr_g": args.lr_g, "lr_d": args.lr_d,
            "adv_weight": args.adv_weight, "adv_start": args.adv_start, "width": args.width,
            "seed": args.seed, "time_budget_s": args.time_budget, "threads": args.threads,
            "degradations": DEFAULT_DEG, "mean": list(MEAN), "std": list(STD),
            "command": C.command_line(), "torch": torch.__version__, "device": "cpu",
            "loss": "L1 + adv_weight * LSGAN (PatchGAN on (degraded, image) pairs); output = clamp(x + UNet(x))",
            "monitor": "512 training images, fixed degradations (seed 4321)"}
    with torch.no_grad():
        meta["monitor_psnr_degraded"] = psnr(mon_deg, mon_clean)

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
            mp = psnr(G(mon_deg), mon_clean)
        G.train()
        h = {"step": state["step"], "train_time_s": round(state["train_time_s"], 1), "monitor_psnr": mp}
        h.update(state.get("last_losses", {}))
        state["history"].append(h)
        C.log("step %d t=%.0fs monitor PSNR %.2f dB (degraded %.2f) %s" % (
            state["step"], state["train_time_s"], mp, meta["monitor_psnr_degraded"],
            " ".join("%s=%.4f" % kv for kv in state.get("last_losses", {}).items())))
        torch.save({"G": G.state_dict(), "D": D.state_dict(), "optG": optG.state_dict(),
                    "optD": optD.state_dict(), "state": state, "np_rng": rng.get_state(),
                    "torch_rng": torch.get_rng_state()}, ck + ".tmp")
        os.replace(ck + ".tmp", ck)
        C.save_npz(G, out_w)
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
    acc = {"l1": 0.0, "adv_g": 0.0, "d": 0.0, "k": 0}
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
        clean_u8 = x[idx]
        deg = to_pm1(degrade(clean_u8, rng))
        clean = to_pm1(clean_u8)
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
                                    "lr_factor": f}
            acc = {"l1": 0.0, "adv_g": 0.0, "d": 0.0, "k": 0}
            save()
            last_ck = time.time()
    k = max(1, acc["k"])
    state["last_losses"] = {"l1": acc["l1"] / k, "adv_g": acc["adv_g"] / k, "d": acc["d"] / k}
    save(final=True)
    C.log("done: %d steps, %.0fs of training" % (state["step"], state["train_time_s"]))


if __name__ == "__main__":
    main()
