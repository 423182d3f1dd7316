"""Shared helpers for the imgrec training scripts.

Runs on Debian's torch 1.13 / numpy 1.24 (CPU smoke tests) and on torch 2.x /
numpy 2.x with CUDA (real training).  Only APIs common to both are used.

Conventions shared by all models (the export step relies on them):
  * images are uint8 NHWC RGB 32x32; a model's input is
    (pixel / 255 - mean) / std, NCHW float32, with mean/std below;
  * weights are stored as ``weights.npz`` ({name: array} of the state_dict),
    hyper-parameters and metrics as ``metrics.json`` in the same ``--out`` dir.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from data_io import (  # noqa: F401  (re-exported for the training scripts)
    REPO, T_START, TRACK_SPLIT_SEED, TRACK_VAL_FRAC, decode_jpeg_npz, default_data_dir,
    find_data, gtsrb_names, load_cifar, load_gtsrb_test, load_gtsrb_train, log, track_split)

# Normalisation constants (0..1 pixel scale, per RGB channel).
GTSRB_MEAN = (0.2890, 0.2647, 0.2744)   # measured on train-jpeg.npz
GTSRB_STD = (0.2577, 0.2498, 0.2537)
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)
GAN_MEAN = (0.5, 0.5, 0.5)   # generator output / discriminator input in [-1, 1]
GAN_STD = (0.5, 0.5, 0.5)



def base_parser(desc, epochs, batch, lr, budget):
    p = argparse.ArgumentParser(description=desc)
    p.add_argument("--data-dir", default=None, help="default: <repo>/.data if present, else ../shared/data")
    p.add_argument("--out", required=True, help="output directory (weights.npz, metrics.json)")
    p.add_argument("--device", default=None, help="cuda or cpu (default: cuda if available)")
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch", type=int, default=batch)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--time-budget", type=float, default=budget,
                   help="seconds of wall time (from process start) after which training stops and saves; "
                        "the LR schedule is compressed to fit it")
    p.add_argument("--limit", type=int, default=0, help="use only the first N training images (smoke tests)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers-threads", type=int, default=2, help="torch threads on CPU")
    return p


def setup(args):
    if args.data_dir is None:
        args.data_dir = default_data_dir()
    if args.device is None:
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(args.device)
    if dev.type == "cpu":
        torch.set_num_threads(args.workers_threads)
    else:
        torch.backends.cudnn.benchmark = True
        try:
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        except Exception:
            pass
    seed_all(args.seed)
    os.makedirs(args.out, exist_ok=True)
    log("torch", torch.__version__, "numpy", np.__version__, "device", dev, "data", args.data_dir)
    return dev


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def autocast(dev):
    """bf16 autocast on CUDA, no-op elsewhere."""
    if dev.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return _Null()


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False



# --------------------------------------------------------------- GPU augmentation

def to_float(xb, mean, std):
    """uint8 NHWC tensor -> normalised float NCHW."""
    x = xb.permute(0, 3, 1, 2).float().div_(255.0)
    m = torch.tensor(mean, device=x.device).view(1, 3, 1, 1)
    s = torch.tensor(std, device=x.device).view(1, 3, 1, 1)
    return (x - m) / s


def normalize01(x, mean, std):
    """float NCHW in 0..1 -> normalised."""
    m = torch.tensor(mean, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    s = torch.tensor(std, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - m) / s


def random_crop_flip(x, pad=4, flip=True, gen=None):
    """x float NCHW; reflect-pad and crop back to the same size at a random offset; optional h-flip."""
    n, c, h, w = x.shape
    xp = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    dev = x.device
    oy = torch.randint(0, 2 * pad + 1, (n,), device=dev, generator=gen)
    ox = torch.randint(0, 2 * pad + 1, (n,), device=dev, generator=gen)
    iy = oy[:, None] + torch.arange(h, device=dev)[None, :]          # n,h
    ix = ox[:, None] + torch.arange(w, device=dev)[None, :]          # n,w
    if flip:
        f = torch.rand(n, device=dev, generator=gen) < 0.5
        ix = torch.where(f[:, None], ix.flip(1), ix)
    bi = torch.arange(n, device=dev)[:, None, None]
    out = xp.permute(0, 2, 3, 1)[bi, iy[:, :, None], ix[:, None, :]]  # n,h,w,c
    return out.permute(0, 3, 1, 2).contiguous()


def random_affine(x, rot_deg=12.0, scale=(0.9, 1.1), shift=0.1, shear=0.1, gen=None):
    """Small random affine transform (no flip) with border replication; x float NCHW."""
    n = x.shape[0]
    dev = x.device
    r = lambda: torch.rand(n, device=dev, generator=gen)
    a = (r() * 2 - 1) * rot_deg * math.pi / 180.0
    s = scale[0] + r() * (scale[1] - scale[0])
    sh = (r() * 2 - 1) * shear
    tx = (r() * 2 - 1) * shift * 2   # grid units are [-1,1] => 2 per image width
    ty = (r() * 2 - 1) * shift * 2
    cos, sin = torch.cos(a) / s, torch.sin(a) / s
    theta = torch.stack([
        torch.stack([cos, -sin + sh, tx], 1),
        torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def color_jitter(x, b=0.3, c=0.3, s=0.3, gen=None):
    """x float NCHW in 0..1; per-sample brightness/contrast/saturation jitter."""
    n = x.shape[0]
    dev = x.device
    r = lambda: torch.rand(n, 1, 1, 1, device=dev, generator=gen, dtype=x.dtype)
    gray = (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])
    if s:
        fs = 1 + (r() * 2 - 1) * s
        x = gray + (x - gray) * fs
    if c:
        fc = 1 + (r() * 2 - 1) * c
        m = gray.mean(dim=(2, 3), keepdim=True)
        x = m + (x - m) * fc
    if b:
        fb = 1 + (r() * 2 - 1) * b
        x = x * fb
    return x.clamp_(0, 1)


def cutout(x, size=8, p=1.0, value=None, gen=None):
    """Zero (or `value`) a random size x size square per sample (centre may lie near the border)."""
    n, c, h, w = x.shape
    dev = x.device
    cy = torch.randint(0, h, (n,), device=dev, generator=gen)
    cx = torch.randint(0, w, (n,), device=dev, generator=gen)
    yy = torch.arange(h, device=dev)[None, :, None]
    xx = torch.arange(w, device=dev)[None, None, :]
    m = ((yy - cy[:, None, None]).abs() <= size // 2) & ((xx - cx[:, None, None]).abs() <= size // 2)
    if p < 1.0:
        m = m & (torch.rand(n, device=dev, generator=gen) < p)[:, None, None]
    m = m[:, None]
    fill = 0.0 if value is None else value
    return x.masked_fill(m, fill)


def gaussian_blur(x, sigma):
    """Per-sample gaussian blur; sigma: tensor [n] (0 = no blur). 5x5 separable kernel."""
    n, c, h, w = x.shape
    k = torch.arange(-2, 3, device=x.device, dtype=x.dtype)
    sig = sigma.to(x.dtype).clamp(min=1e-3)[:, None]
    g = torch.exp(-(k[None, :] ** 2) / (2 * sig ** 2))
    g = g / g.sum(1, keepdim=True)                     # n,5
    # grouped conv: one group per (sample, channel)
    xr = x.reshape(1, n * c, h, w)
    gk = g.repeat_interleave(c, 0)                     # n*c,5
    xr = F.conv2d(F.pad(xr, (2, 2, 0, 0), mode="replicate"), gk[:, None, None, :], groups=n * c)
    xr = F.conv2d(F.pad(xr, (0, 0, 2, 2), mode="replicate"), gk[:, None, :, None], groups=n * c)
    return xr.reshape(n, c, h, w)


# ----------------------------------------------------------- budget & schedules

class Budget:
    """Wall-clock budget measured from process start (includes import, decode, warm-up)."""

    def __init__(self, seconds, reserve=0.0):
        self.seconds = float(seconds)
        self.reserve = float(reserve)   # seconds kept for the final eval / save

    def elapsed(self):
        return time.time() - T_START

    def left(self):
        return self.seconds - self.reserve - self.elapsed()

    def expired(self):
        return self.left() <= 0


class TimeAwareSchedule:
    """Progress = max(step/total_steps, time fraction of the training window).

    The LR follows a one-cycle (linear warm-up, then cosine/linear decay) over
    progress, so if the time budget is tighter than the epoch count the schedule
    is compressed and still anneals to ~0 before the budget runs out.
    """

    def __init__(self, total_steps, budget, warmup=0.2, final=0.02, shape="linear"):
        self.total = max(1, total_steps)
        self.budget = budget
        self.t0 = budget.elapsed()
        self.window = max(1e-3, budget.seconds - budget.reserve - self.t0)
        self.warmup = warmup
        self.final = final
        self.shape = shape
        self.step_i = 0

    def progress(self):
        return min(1.0, max(self.step_i / self.total, (self.budget.elapsed() - self.t0) / self.window))

    def factor(self):
        p = self.progress()
        if p < self.warmup:
            return self.final + (1 - self.final) * p / self.warmup
        q = (p - self.warmup) / max(1e-9, 1 - self.warmup)
        if self.shape == "cos":
            return self.final + (1 - self.final) * 0.5 * (1 + math.cos(math.pi * q))
        return 1.0 - (1 - self.final) * q

    def done(self):
        return self.progress() >= 1.0

    def step(self):
        self.step_i += 1


def set_lr(opt, lr):
    for g in opt.param_groups:
        g["lr"] = lr


# ------------------------------------------------------------------- saving

def state_to_numpy(model):
    return {k: v.detach().float().cpu().numpy() if v.is_floating_point() else v.detach().cpu().numpy()
            for k, v in model.state_dict().items()}


def save_npz(model_or_dict, path):
    d = model_or_dict if isinstance(model_or_dict, dict) else state_to_numpy(model_or_dict)
    tmp = path + ".tmp.npz"
    np.savez(tmp, **d)
    os.replace(tmp, path)


def load_npz_into(model, path, strict=True):
    d = np.load(path)
    sd = {k: torch.from_numpy(np.array(d[k])) for k in d.files}
    model.load_state_dict(sd, strict=strict)
    return model


def save_json(obj, path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True, default=_json_default)
    os.replace(tmp, path)


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def command_line():
    return " ".join([os.path.basename(sys.executable)] + [os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:])


def count_params(model):
    return int(sum(p.numel() for p in model.parameters()))


@torch.no_grad()
def evaluate(model, x_u8, y, dev, mean, std, batch=1024):
    """Top-1 accuracy of `model` on uint8 NHWC numpy/tensor images."""
    model.eval()
    correct = 0
    n = len(y)
    yt = torch.as_tensor(y)
    for i in range(0, n, batch):
        xb = torch.as_tensor(x_u8[i:i + batch]).to(dev)
        with autocast(dev):
            out = model(to_float(xb, mean, std))
        correct += (out.float().argmax(1).cpu() == yt[i:i + batch]).sum().item()
    return correct / max(1, n)


# ------------------------------------------------------- generic classifier loop

def train_classifier(model, args, dev, xtr, ytr, aug, mean, std, budget, meta,
                     xval=None, yval=None, xtest=None, ytest=None,
                     optimizer="sgd", wd=5e-4, label_smoothing=0.1, warmup=0.2,
                     eval_every=5, ema_decay=0.0):
    """Train `model` on uint8 NHWC images (kept on `dev`) with the time-aware one-cycle
    schedule; saves weights.npz + metrics.json into args.out after every epoch."""
    out_w = os.path.join(args.out, "weights.npz")
    out_m = os.path.join(args.out, "metrics.json")
    model.to(dev)
    if dev.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    xtr_t = torch.as_tensor(xtr).to(dev)
    ytr_t = torch.as_tensor(ytr).to(dev)
    n = len(ytr_t)
    steps_per_epoch = max(1, n // args.batch)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]
    if optimizer == "sgd":
        opt = torch.optim.SGD(groups, lr=args.lr, momentum=0.9, nesterov=True)
    else:
        opt = torch.optim.AdamW(groups, lr=args.lr)
    sched = TimeAwareSchedule(args.epochs * steps_per_epoch, budget, warmup=warmup)
    crit = torch.nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    ema = None
    if ema_decay:
        import copy
        ema = copy.deepcopy(model).eval()
        for p in ema.parameters():
            p.requires_grad_(False)
    gen = torch.Generator(device=dev)
    gen.manual_seed(args.seed)
    meta = dict(meta)
    meta.update({"epochs_requested": args.epochs, "batch": args.batch, "lr": args.lr, "seed": args.seed,
                 "time_budget_s": args.time_budget, "train_images": int(n), "params": count_params(model),
                 "command": command_line(), "torch": torch.__version__, "device": str(dev),
                 "optimizer": optimizer, "weight_decay": wd, "label_smoothing": label_smoothing,
                 "mean": list(mean), "std": list(std), "history": []})
    t_train0 = time.time()
    epoch = 0
    stopped = "epochs"
    while True:
        if sched.done():
            break
        if budget.expired():
            stopped = "time-budget"
            break
        model.train()
        perm = torch.randperm(n, device=dev, generator=gen)
        tl, tc, tn = 0.0, 0, 0
        te0 = time.time()
        for i in range(steps_per_epoch):
            if sched.done() or budget.expired():
                break
            idx = perm[i * args.batch:(i + 1) * args.batch]
            xb = aug(xtr_t[idx], gen)
            yb = ytr_t[idx]
            if dev.type == "cuda":
                xb = xb.contiguous(memory_format=torch.channels_last)
            set_lr(opt, args.lr * sched.factor())
            with autocast(dev):
                outp = model(xb)
                loss = crit(outp.float(), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if ema is not None:
                with torch.no_grad():
                    for pe, pm in zip(ema.state_dict().values(), model.state_dict().values()):
                        if pe.dtype.is_floating_point:
                            pe.mul_(ema_decay).add_(pm.detach(), alpha=1 - ema_decay)
                        else:
                            pe.copy_(pm)
            if i % 20 == 0:
                tl += loss.item() * len(yb)
                tc += (outp.argmax(1) == yb).sum().item()
                tn += len(yb)
        epoch += 1
        final_model = ema if ema is not None else model
        h = {"epoch": epoch, "train_loss_sampled": tl / max(1, tn), "train_acc_sampled": tc / max(1, tn),
             "lr_factor": sched.factor(), "epoch_s": time.time() - te0, "elapsed_s": budget.elapsed()}
        last = sched.done() or budget.expired()
        if xval is not None and (epoch % eval_every == 0 or last):
            h["val_acc"] = evaluate(final_model, xval, yval, dev, mean, std)
        meta["history"].append(h)
        log("epoch %d %s" % (epoch, " ".join("%s=%.4g" % (k, v) for k, v in h.items() if k != "epoch")))
        meta["epochs_done"] = epoch
        meta["train_time_s"] = time.time() - t_train0
        save_npz(final_model, out_w)
        save_json(meta, out_m)
    if budget.expired() and not sched.done():
        stopped = "time-budget"
    final_model = ema if ema is not None else model
    meta["stopped_by"] = stopped
    meta["train_time_s"] = time.time() - t_train0
    if xval is not None:
        meta["val_acc"] = evaluate(final_model, xval, yval, dev, mean, std)
    if xtest is not None:
        meta["test_acc"] = evaluate(final_model, xtest, ytest, dev, mean, std)
        log("test accuracy %.4f" % meta["test_acc"])
    else:
        meta["test_acc"] = None
    meta["total_wall_s"] = budget.elapsed()
    save_npz(final_model, out_w)
    save_json(meta, out_m)
    log("saved", out_w, "val_acc", meta.get("val_acc"), "test_acc", meta.get("test_acc"))
    return final_model, meta
