#!/usr/bin/env python3
"""traffic-signs-gan: class-conditional GAN (projection discriminator, hinge loss) on GTSRB 32x32.

Generator: z [N,Z] ~ N(0,1) + class one-hot [N,43] -> [N,3,32,32] in [-1,1]:
  shared class embedding (MatMul on the one-hot) ++ z -> Linear -> 256x4x4, then 3x (Upsample nearest
  + Conv3x3 + class-conditional BN + ReLU) 128/96/64, Conv3x3, Tanh.  Class-conditional BN =
  BatchNorm without affine + per-class scale/shift (MatMul of the one-hot with a [43,C] table), so the
  ONNX graph uses only MatMul/Reshape/Mul/Add besides Conv/BatchNormalization/Relu/Resize/Tanh.
Discriminator: image in [-1,1] -> spectrally-normalised Conv + LeakyReLU stack, global sum pooling
  (a depthwise ones-kernel Conv, so the ONNX graph is Conv/LeakyRelu/Reshape/Gemm only) ->
  h [N,256]; outputs (exported): realism logit psi(h) [N,1] (class-agnostic, trained with its own hinge
  loss) and auxiliary class logits [N,43] (trained with cross-entropy on REAL images only; the generator
  never optimises against it, so it stays an honest class-fidelity probe).  Training additionally uses
  the projection term <embed(y), h> (Miyato & Koyama 2018) for the conditional hinge loss.
Training: hinge losses, TTUR (D lr 2x G lr), DiffAugment (translation + cutout) on everything D sees,
  class-balanced-ish sampling of real images (class prob ~ count^0.5) with fake labels = real labels,
  EMA generator with BN recalibration, and negative data augmentation (Sinha et al. 2021: degraded
  or rearranged copies of real images as extra fakes for the realism logit only -- blurred, noisy,
  2x2 jigsaw, 4x4 tile shuffle, two signs spliced, flat "covered lens" frames; --nda-weight 0 turns
  it off).  --g-uncond-weight sets how hard G pushes the realism logit (default: as hard as D's
  --uncond-weight; 0 = G plays against the projection logit only, so the realism logit stays a
  real-versus-everything-else detector, which is what imgrecgan mode=discriminate reads).  The exported generator is the final EMA generator (no
  selection by the traffic-signs classifier, which is used for measuring only); no truncation.
Metric: share of generated samples that the traffic-signs classifier (--classifier) assigns to
their conditioning class (measured, never used in the loss nor for selection).

GPU (the shipped weights; tools/train/run_gpu_session.sh):
      python3 tools/train/traffic_signs_gan.py --out OUT/traffic-signs-gan --time-budget 420 \
          --classifier models/traffic-signs/traffic-signs.onnx --monitor-cifar train --g-uncond-weight 0
CPU smoke: /usr/bin/python3 tools/train/traffic_signs_gan.py --out /tmp/gan --device cpu --limit 2000 \
          --time-budget 40 --batch 64
Reference (H200 shared with five other trainings, torch 2.11): 6392 steps in 394 s, classifier
agreement 0.985 (worst class 0.86), realism-logit AUC on validation data 0.981 (held-out tracks noisy
/ blurred, CIFAR-10 train images); through the engine on the test sets: agreement 98.47 %, AUC 0.941.
"""
import copy
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402

NAME = "traffic-signs-gan"
NUM_CLASSES = 43
G_WIDTHS = (256, 128, 96, 64)
D_WIDTHS = (64, 96, 128, 192, 256)


# ------------------------------------------------------------------ generator

class CondBN(nn.Module):
    """BatchNorm2d without affine + per-class gain/bias looked up by a one-hot MatMul."""

    def __init__(self, c, num_classes=NUM_CLASSES):
        super().__init__()
        self.c = c
        self.bn = nn.BatchNorm2d(c)    # affine frozen at 1/0 (affine=False does not export on torch 1.13)
        self.bn.weight.requires_grad_(False)
        self.bn.bias.requires_grad_(False)
        self.gain = nn.Linear(num_classes, c, bias=False)
        self.bias = nn.Linear(num_classes, c, bias=False)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x, y_onehot):
        g = self.gain(y_onehot).reshape(-1, self.c, 1, 1)
        b = self.bias(y_onehot).reshape(-1, self.c, 1, 1)
        return self.bn(x) * g + b


class UpBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.cbn = CondBN(cout)

    def forward(self, x, y_onehot):
        return F.relu(self.cbn(self.conv(self.up(x)), y_onehot))


class Generator(nn.Module):
    def __init__(self, z_dim=64, num_classes=NUM_CLASSES, emb=64, w=G_WIDTHS):
        super().__init__()
        self.z_dim = z_dim
        self.num_classes = num_classes
        self.embed = nn.Linear(num_classes, emb, bias=False)
        self.fc = nn.Linear(z_dim + emb, w[0] * 16, bias=False)
        self.cbn0 = CondBN(w[0])
        self.blocks = nn.ModuleList([UpBlock(cin, cout) for cin, cout in zip(w[:-1], w[1:])])
        self.out = nn.Conv2d(w[-1], 3, 3, padding=1)
        self.w0 = w[0]

    def forward(self, z, y_onehot):
        h = torch.cat([z, self.embed(y_onehot)], 1)
        h = self.fc(h).reshape(-1, self.w0, 4, 4)
        h = F.relu(self.cbn0(h, y_onehot))
        for b in self.blocks:
            h = b(h, y_onehot)
        return torch.tanh(self.out(h))


# ------------------------------------------------------------------ discriminator

class SN(nn.Module):
    """Spectral normalisation of a wrapped Conv2d/Linear: W / sigma(W), one power iteration per
    training forward (own implementation: identical on torch 1.13 and 2.x, and `plain_state`
    turns it into ordinary weights for export)."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer
        w = layer.weight.detach().reshape(layer.weight.shape[0], -1)
        g = torch.Generator().manual_seed(w.shape[0] * 7919 + w.shape[1])
        self.register_buffer("u", F.normalize(torch.randn(w.shape[0], generator=g), dim=0))
        self.register_buffer("v", F.normalize(torch.randn(w.shape[1], generator=g), dim=0))

    def weight(self):
        w = self.layer.weight
        w2 = w.reshape(w.shape[0], -1)
        if self.training:
            with torch.no_grad():
                v = F.normalize(torch.mv(w2.t(), self.u), dim=0, eps=1e-12)
                u = F.normalize(torch.mv(w2, v), dim=0, eps=1e-12)
                self.u.copy_(u)
                self.v.copy_(v)
        sigma = torch.dot(self.u, torch.mv(w2, self.v))
        return w / sigma

    def forward(self, x):
        l = self.layer
        if isinstance(l, nn.Conv2d):
            return F.conv2d(x, self.weight(), l.bias, l.stride, l.padding)
        return F.linear(x, self.weight(), l.bias)


class Discriminator(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES, w=D_WIDTHS, sn=False):
        super().__init__()
        s = SN if sn else (lambda m: m)
        a = lambda: nn.LeakyReLU(0.1, inplace=False)
        self.net = nn.Sequential(
            s(nn.Conv2d(3, w[0], 3, 1, 1)), a(),            # 32
            s(nn.Conv2d(w[0], w[1], 4, 2, 1)), a(),         # 16
            s(nn.Conv2d(w[1], w[2], 3, 1, 1)), a(),         # 16
            s(nn.Conv2d(w[2], w[3], 4, 2, 1)), a(),         # 8
            s(nn.Conv2d(w[3], w[4], 3, 2, 1)), a())         # 4
        self.adv = s(nn.Linear(w[4], 1))
        self.cls = nn.Linear(w[4], num_classes)
        self.proj = s(nn.Linear(num_classes, w[4], bias=False))   # projection embedding (training only)
        # global sum pooling over the 4x4 map as a depthwise Conv with a ones kernel (exports as Conv)
        self.register_buffer("pool", torch.ones(w[4], 1, 4, 4), persistent=False)
        self.c_last = w[4]

    def features(self, x):
        h = self.net(x)
        return F.conv2d(h, self.pool.to(h.dtype), groups=self.c_last).reshape(-1, self.c_last)

    def forward(self, x):
        h = self.features(x)
        return self.adv(h), self.cls(h)

    def all_heads(self, x, y_onehot):
        """(realism logit [N], conditional projection logit [N], aux class logits [N,43])."""
        h = self.features(x)
        u = self.adv(h)[:, 0]
        p = (self.proj(y_onehot) * h).sum(1)
        return u, u + p, self.cls(h)


def plain_state(d):
    """State dict (numpy) of `d` with spectral norm folded into the weights: keys of Discriminator(sn=False)."""
    out = {}
    sn_prefixes = []
    with torch.no_grad():
        for name, m in d.named_modules():
            if isinstance(m, SN):
                was = m.training
                m.eval()
                out[name + ".weight"] = m.weight().detach().float().cpu().numpy()
                m.train(was)
                if m.layer.bias is not None:
                    out[name + ".bias"] = m.layer.bias.detach().float().cpu().numpy()
                sn_prefixes.append(name + ".")
        for k, v in d.state_dict().items():
            if any(k.startswith(p) for p in sn_prefixes):
                continue
            out[k] = v.detach().float().cpu().numpy() if v.is_floating_point() else v.detach().cpu().numpy()
    return out


def build_generator(hp=None):
    return Generator(z_dim=int((hp or {}).get("z_dim", 64)))


def build_discriminator(hp=None):
    return Discriminator(sn=False)


# ------------------------------------------------------------------ negative data augmentation
# Each takes real images [n,3,32,32] in [-1,1] and returns n images that are not real signs.

def _nda_blur(r, gen):
    return C.gaussian_blur(r, 0.8 + 1.2 * torch.rand(len(r), device=r.device, generator=gen))


def _nda_noise(r, gen):
    s = (0.08 + 0.27 * torch.rand(len(r), 1, 1, 1, device=r.device, generator=gen)) * 2.0
    return (r + s * torch.randn(r.shape, device=r.device, generator=gen)).clamp(-1, 1)


def _shuffle_tiles(r, k, gen):
    """Cut each image into k x k tiles and put them back in a random order (the same for the batch)."""
    n, c, h, w = r.shape
    t = r.reshape(n, c, k, h // k, k, w // k).permute(0, 2, 4, 1, 3, 5).reshape(n, k * k, c, h // k, w // k)
    perm = torch.randperm(k * k, device=r.device, generator=gen)
    if k == 2:   # a derangement, so the image really changes: a cyclic move of the quadrants
        perm = (torch.arange(4, device=r.device) + int(torch.randint(1, 4, (1,), device=r.device,
                                                                     generator=gen))) % 4
    t = t[:, perm].reshape(n, k, k, c, h // k, w // k).permute(0, 3, 1, 4, 2, 5)
    return t.reshape(n, c, h, w)


def _nda_jigsaw(r, gen):
    return _shuffle_tiles(r, 2, gen)


def _nda_tiles(r, gen):
    return _shuffle_tiles(r, 4, gen)


def _nda_splice(r, gen):
    """Left half of one sign, right half of another (or top/bottom): two half signs are not a sign."""
    if len(r) < 2:
        return _nda_jigsaw(r, gen)
    o = r.roll(1, 0)
    m = torch.zeros_like(r[:1])
    if bool(torch.rand(1, device=r.device, generator=gen) < 0.5):
        m[..., :, :16] = 1
    else:
        m[..., :16, :] = 1
    return r * m + o * (1 - m)


def _nda_flat(r, gen):
    """A covered or capped lens: the image's mean colour darkened, a faint gradient, sensor noise."""
    n, dev = len(r), r.device
    mu = r.mean((2, 3), keepdim=True)
    dark = -1 + (mu + 1) * 0.4 * torch.rand(n, 1, 1, 1, device=dev, generator=gen)
    ramp = torch.linspace(-1, 1, 32, device=dev).view(1, 1, 1, 32)
    g = 0.1 * (torch.rand(n, 1, 1, 1, device=dev, generator=gen) * 2 - 1) * ramp
    s = 0.06 * torch.rand(n, 1, 1, 1, device=dev, generator=gen)
    return (dark + g + s * torch.randn(r.shape, device=dev, generator=gen)).clamp(-1, 1)


NDA_FUNCS = {"blur": _nda_blur, "noise": _nda_noise, "jigsaw": _nda_jigsaw, "tiles": _nda_tiles,
             "splice": _nda_splice, "flat": _nda_flat}
NDA_KINDS = {"blur": "gaussian blur sigma U(0.8, 2.0) px",
             "noise": "gaussian noise sigma U(0.08, 0.35) on the 0..1 scale",
             "jigsaw": "2x2 quadrants cyclically moved",
             "tiles": "4x4 tiles of 8x8 px in a random order",
             "splice": "left/right or top/bottom halves of two different signs",
             "flat": "covered lens: the image's mean colour darkened to 0-40 %, faint gradient, noise"}


def onehot(y, k=NUM_CLASSES):
    return F.one_hot(y, k).float()


# ------------------------------------------------------------------ DiffAugment

def diff_augment(x, gen, shift=4, cut=12):
    """DiffAugment (Zhao et al. 2020): random translation (zero padding, +-shift px) and cutout
    (cut x cut square, filled with 0 = mid grey); differentiable w.r.t. x."""
    n, c, h, w = x.shape
    dev = x.device
    if shift:
        xp = F.pad(x, (shift, shift, shift, shift))
        oy = torch.randint(0, 2 * shift + 1, (n,), device=dev, generator=gen)
        ox = torch.randint(0, 2 * shift + 1, (n,), device=dev, generator=gen)
        iy = oy[:, None] + torch.arange(h, device=dev)[None, :]
        ix = ox[:, None] + torch.arange(w, device=dev)[None, :]
        bi = torch.arange(n, device=dev)[:, None, None]
        x = xp.permute(0, 2, 3, 1)[bi, iy[:, :, None], ix[:, None, :]].permute(0, 3, 1, 2)
    if cut:
        cy = torch.randint(0, h + 1 - cut % 2, (n,), device=dev, generator=gen)
        cx = torch.randint(0, w + 1 - cut % 2, (n,), device=dev, generator=gen)
        yy = torch.arange(h, device=dev)[None, :, None]
        xx = torch.arange(w, device=dev)[None, None, :]
        m = ((yy - cy[:, None, None]).abs() < cut // 2) & ((xx - cx[:, None, None]).abs() < cut // 2)
        x = x * (~m)[:, None].to(x.dtype)
    return x.contiguous()


# ------------------------------------------------------------------ sampling / metrics

@torch.no_grad()
def recalibrate_bn(g, dev, z_dim, batches=20, batch=256, seed=7):
    """Recompute BN running statistics of `g` as exact averages over fresh samples (uniform classes)."""
    gen = torch.Generator(device=dev)
    gen.manual_seed(seed)
    moms = {}
    for m in g.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            moms[m] = m.momentum
            m.momentum = None
    g.train()
    for _ in range(batches):
        z = torch.randn(batch, z_dim, device=dev, generator=gen)
        y = torch.randint(0, NUM_CLASSES, (batch,), device=dev, generator=gen)
        g(z, onehot(y))
    for m, mo in moms.items():
        m.momentum = mo
    g.eval()


@torch.no_grad()
def sample_grid(g, dev, per_class=50, seed=12345):
    gen = torch.Generator(device=dev)
    gen.manual_seed(seed)
    y = torch.arange(NUM_CLASSES, device=dev).repeat_interleave(per_class)
    z = torch.randn(len(y), g.z_dim, device=dev, generator=gen)
    g.eval()
    out = []
    for i in range(0, len(y), 1024):
        out.append(g(z[i:i + 1024], onehot(y[i:i + 1024])))
    return torch.cat(out), y


@torch.no_grad()
def class_fidelity(g, clf, dev, per_class=50, d=None):
    """Fraction of generated samples classified as their conditioning class by `clf`
    (traffic-signs classifier, GTSRB normalisation) and, if given, by D's auxiliary head."""
    x, y = sample_grid(g, dev, per_class)
    r = {}
    if clf is not None:
        clf.eval()
        xs = C.normalize01((x + 1) / 2, C.GTSRB_MEAN, C.GTSRB_STD)
        pred = torch.cat([clf(xs[i:i + 1024]).argmax(1) for i in range(0, len(y), 1024)])
        r["classifier_agreement"] = (pred == y).float().mean().item()
        pc = (pred == y).float().reshape(NUM_CLASSES, per_class).mean(1)
        r["classifier_agreement_worst_class"] = pc.min().item()
    if d is not None:
        was = d.training
        d.eval()
        pred = torch.cat([d(x[i:i + 1024])[1].argmax(1) for i in range(0, len(y), 1024)])
        r["disc_aux_agreement"] = (pred == y).float().mean().item()
        pc = (pred == y).float().reshape(NUM_CLASSES, per_class).mean(1)
        r["disc_aux_agreement_worst_class"] = pc.min().item()
        d.train(was)
    return r


@torch.no_grad()
def disc_checks(d, xv_u8, yv, dev, gen, cifar_u8=None):
    """On held-out real images (validation tracks, never trained on): aux-head accuracy and the ROC AUC of
    the realism logit against gaussian-noise (sigma 0.25) and blurred (sigma 1.5) versions of them."""
    was = d.training
    d.eval()
    real = xv_u8.permute(0, 3, 1, 2).float().div(255.0)
    noisy = (real + 0.25 * torch.randn(real.shape, device=dev, generator=gen)).clamp(0, 1)
    blur = C.gaussian_blur(real, torch.full((len(real),), 1.5, device=dev))

    def score(x01):
        outs = [d(x01[i:i + 1024] * 2 - 1) for i in range(0, len(x01), 1024)]
        return torch.cat([o[0][:, 0] for o in outs]).float().cpu().numpy(), torch.cat([o[1] for o in outs])
    sr, cr = score(real)
    sn, _ = score(noisy)
    sb, _ = score(blur)
    r = {"disc_val_real_acc": (cr.argmax(1) == yv).float().mean().item(),
         "disc_val_auc_noise": _auc(sr, sn), "disc_val_auc_blur": _auc(sr, sb)}
    if cifar_u8 is not None:   # monitoring only (never trained on)
        sc = score(cifar_u8.permute(0, 3, 1, 2).float().div(255.0))[0]
        r["disc_val_auc_cifar10"] = _auc(sr, sc)
        r["disc_val_auc_all"] = _auc(sr, np.concatenate([sn, sb, sc]))
    d.train(was)
    return r


def _auc(pos, neg):
    s = np.concatenate([pos, neg])
    r = np.empty(len(s))
    r[np.argsort(s, kind="mergesort")] = np.arange(1, len(s) + 1)
    return float((r[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


# ------------------------------------------------------------------ training

def main():
    p = C.base_parser(__doc__.splitlines()[0], epochs=100000, batch=256, lr=2e-4, budget=165)
    p.add_argument("--lr-d", type=float, default=4e-4, help="discriminator LR (TTUR); --lr is the generator's")
    p.add_argument("--beta1", type=float, default=0.0)
    p.add_argument("--beta2", type=float, default=0.99)
    p.add_argument("--z-dim", type=int, default=64)
    p.add_argument("--aux-weight", type=float, default=0.5, help="D cross-entropy on real images (aux head)")
    p.add_argument("--uncond-weight", type=float, default=1.0, help="extra hinge loss on the class-agnostic logit")
    p.add_argument("--class-power", type=float, default=0.5,
                   help="real images sampled with class probability ~ count^power (1 = data distribution)")
    p.add_argument("--shift", type=int, default=4, help="DiffAugment translation (px)")
    p.add_argument("--cut", type=int, default=12, help="DiffAugment cutout square (px, 0 = off)")
    p.add_argument("--nda-weight", type=float, default=0.5,
                   help="negative data augmentation: weight of the hinge loss that pushes D's class-agnostic "
                        "realism logit down on blurred / noisy copies of real images (0 = off)")
    p.add_argument("--nda-frac", type=float, default=0.375, help="negatives per step, as a fraction of the batch")
    p.add_argument("--nda-kinds", default="blur,noise,jigsaw,tiles,splice,flat",
                   help="negative kinds, comma-separated, equal shares (blur,noise,jigsaw,tiles,splice,flat)")
    p.add_argument("--g-uncond-weight", type=float, default=None,
                   help="weight of the realism logit in G's loss (default: --uncond-weight; 0 = G ignores it)")
    p.add_argument("--monitor-cifar", default="test", choices=("test", "train", "none"),
                   help="CIFAR-10 split whose first 2000 images monitor the realism logit (never trained on)")
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--ema-start", type=int, default=500, help="EMA copies G until this step")
    p.add_argument("--decay-start", type=float, default=0.5, help="LR constant until this fraction, then linear")
    p.add_argument("--lr-final", type=float, default=0.1)
    p.add_argument("--classifier", default="",
                   help="traffic-signs weights.npz or .onnx for the agreement metric (measuring only)")
    p.add_argument("--save-every", type=float, default=25.0)
    p.add_argument("--eval-per-class", type=int, default=None,
                   help="samples per class for the agreement metric (default 50; 10 on CPU)")
    p.add_argument("--bn-batches", type=int, default=None, help="batches of 256 for BN recalibration (default 20; 2 on CPU)")
    args = p.parse_args()
    if args.g_uncond_weight is None:
        args.g_uncond_weight = args.uncond_weight
    nda_kinds = [k for k in args.nda_kinds.split(",") if k]
    bad = set(nda_kinds) - set(NDA_KINDS)
    if bad:
        p.error("unknown --nda-kinds %s (known: %s)" % (",".join(sorted(bad)), ",".join(NDA_KINDS)))
    dev = C.setup(args)
    if args.eval_per_class is None:
        args.eval_per_class = 50 if dev.type == "cuda" else 10
    if args.bn_batches is None:
        args.bn_batches = 20 if dev.type == "cuda" else 2
    budget = C.Budget(args.time_budget, reserve=7.0 if dev.type == "cuda" else 20.0)   # CPU evals are slow
    x, y, tr, fr = C.load_gtsrb_train(args.data_dir, args.limit)
    isval = C.track_split(tr)        # same held-out tracks as traffic-signs: used only to monitor D
    xv = torch.as_tensor(x[isval][:2000]).to(dev)
    yv = torch.as_tensor(y[isval][:2000]).to(dev)
    x, y = x[~isval], y[~isval]
    xr = torch.as_tensor(x).to(dev)
    yr = torch.as_tensor(y).to(dev)
    n = len(yr)
    counts = np.bincount(y, minlength=NUM_CLASSES).astype(np.float64)
    cls_p = np.where(counts > 0, np.maximum(counts, 1) ** args.class_power, 0.0)
    cls_p /= cls_p.sum()
    w_img = (cls_p / np.maximum(counts, 1))[y]
    w_img = torch.as_tensor(w_img / w_img.sum(), dtype=torch.float32, device=dev)
    C.log("train %d images, held-out %d; class sampling prob min %.4f max %.4f" % (n, len(yv), cls_p[cls_p > 0].min(),
                                                                                    cls_p.max()))
    xc = None
    try:
        split = args.monitor_cifar
        if split != "none" and C.find_data(args.data_dir, os.path.join("cifar10", "%s-jpeg.npz" % split)):
            xc = torch.as_tensor(C.load_cifar(args.data_dir, split, 2000)[0]).to(dev)
    except Exception as e:  # monitoring only
        C.log("no CIFAR-10 monitoring:", e)
    clf = None
    if args.classifier and os.path.exists(args.classifier) and args.classifier.endswith(".onnx"):
        sys.path.insert(0, os.path.join(C.REPO, "tools"))
        from onnx_torch import OnnxTorch   # the shipped classifier's graph, run in torch
        clf = OnnxTorch(args.classifier).to(dev)
        C.log("classifier for agreement metric (measuring only):", args.classifier)
    elif args.classifier and os.path.exists(args.classifier):
        import traffic_signs
        clf = traffic_signs.build()
        C.load_npz_into(clf, args.classifier)
        clf = clf.to(dev).eval()
        C.log("classifier for agreement metric (measuring only):", args.classifier)
    G = build_generator({"z_dim": args.z_dim}).to(dev)
    D = Discriminator(sn=True).to(dev)
    G_ema = copy.deepcopy(G).eval()
    for q in G_ema.parameters():
        q.requires_grad_(False)
    optG = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(args.beta1, args.beta2))
    optD = torch.optim.Adam(D.parameters(), lr=args.lr_d, betas=(args.beta1, args.beta2))
    sched = C.TimeAwareSchedule(args.epochs, budget, warmup=0.0, final=args.lr_final)
    gen = torch.Generator(device=dev)
    gen.manual_seed(args.seed)
    meta = {"model": NAME, "z_dim": args.z_dim, "num_classes": NUM_CLASSES, "batch": args.batch,
            "lr": args.lr, "lr_d": args.lr_d, "betas": [args.beta1, args.beta2], "aux_weight": args.aux_weight,
            "uncond_weight": args.uncond_weight, "g_uncond_weight": args.g_uncond_weight,
            "monitor_cifar": args.monitor_cifar,
            "nda": {"weight": args.nda_weight, "frac": args.nda_frac, "kinds": nda_kinds,
                    "negatives": {k: NDA_KINDS[k] for k in nda_kinds}}, "class_power": args.class_power,
            "diffaugment": {"translation_px": args.shift, "cutout_px": args.cut}, "ema": args.ema,
            "ema_start": args.ema_start, "seed": args.seed, "command": C.command_line(),
            "params_generator": C.count_params(G), "params_discriminator": C.count_params(D),
            "time_budget_s": args.time_budget, "train_images": int(n), "heldout_images": int(len(yv)),
            "torch": torch.__version__, "device": str(dev), "history": [],
            "latent_distribution": "normal", "latent_truncation": 1.0,
            "selection": "final EMA generator (no checkpoint selection)",
            "arch": "G: onehot->emb64 ++ z -> Linear -> 256x4x4, CBN, ReLU, 3x(Upsample nearest + Conv3x3 + "
                    "class-conditional BN + ReLU) 128/96/64, Conv3x3, Tanh.  D: SN Conv 3x3/4x4s2 "
                    "64/96/128/192/256 + LeakyReLU0.1, global sum pool, SN Linear realism head, Linear aux head "
                    "(CE on real only), SN projection embedding; hinge loss, DiffAugment translation+cutout"}
    out_g = os.path.join(args.out, "generator.npz")
    out_d = os.path.join(args.out, "discriminator.npz")

    def lr_factor():
        q = sched.progress()
        if q <= args.decay_start:
            return 1.0
        return 1.0 - (1.0 - args.lr_final) * (q - args.decay_start) / max(1e-9, 1.0 - args.decay_start)

    def save(tag):
        ts = time.time()
        g = copy.deepcopy(G_ema)
        recalibrate_bn(g, dev, args.z_dim, batches=args.bn_batches)
        r = class_fidelity(g, clf, dev, per_class=args.eval_per_class, d=D)
        r.update(disc_checks(D, xv, yv, dev, gen, xc))
        meta.update(r)
        meta["history"].append(dict(r, step=step, elapsed_s=budget.elapsed()))
        meta["steps"] = step
        meta["train_time_s"] = time.time() - t0
        C.save_npz(g, out_g)
        C.save_npz(plain_state(D), out_d)
        C.save_json(meta, os.path.join(args.out, "metrics.json"))
        C.log("%s step %d %s (%.1fs)" % (tag, step, " ".join("%s=%.4f" % kv for kv in sorted(r.items())),
                                          time.time() - ts))

    B = args.batch
    nneg = int(round(B * args.nda_frac)) if args.nda_weight > 0 else 0

    def negatives(r):
        """Negative data augmentation (Sinha et al. 2021): real images ([-1,1]) made unreal, an equal
        share of each kind in --nda-kinds (see NDA_KINDS)."""
        cuts = [len(r) * i // len(nda_kinds) for i in range(len(nda_kinds) + 1)]
        return torch.cat([NDA_FUNCS[k](r[cuts[i]:cuts[i + 1]], gen)
                          for i, k in enumerate(nda_kinds) if cuts[i + 1] > cuts[i]])

    t0 = time.time()
    last_save = time.time()
    step = 0
    while not sched.done() and not budget.expired():
        G.train()
        D.train()
        idx = torch.multinomial(w_img, B, replacement=True, generator=gen)
        real = xr[idx].permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
        yreal = yr[idx]
        yoh = onehot(yreal)
        f = lr_factor()
        C.set_lr(optG, args.lr * f)
        C.set_lr(optD, args.lr_d * f)
        z = torch.randn(B, args.z_dim, device=dev, generator=gen)
        fake = G(z, yoh)              # fake labels = real labels (same class distribution for D)
        # D step (one forward over real+fake[+negatives])
        parts = [real, fake.detach()]
        if nneg:
            parts.append(negatives(real[:nneg]))
        xa = diff_augment(torch.cat(parts), gen, args.shift, args.cut)
        u, c, aux = D.all_heads(xa, torch.cat([yoh, yoh, yoh[:nneg]]))
        lossD = F.relu(1 - c[:B]).mean() + F.relu(1 + c[B:2 * B]).mean() + \
            args.uncond_weight * (F.relu(1 - u[:B]).mean() + F.relu(1 + u[B:]).mean()) + \
            args.aux_weight * F.cross_entropy(aux[:B], yreal)
        if nneg:
            lossD = lossD + args.nda_weight * F.relu(1 + u[2 * B:]).mean()
        optD.zero_grad(set_to_none=True)
        lossD.backward()
        optD.step()
        # G step
        u, c, _ = D.all_heads(diff_augment(fake, gen, args.shift, args.cut), yoh)
        lossG = -c.mean() - args.g_uncond_weight * u.mean()
        optG.zero_grad(set_to_none=True)
        lossG.backward()
        optG.step()
        with torch.no_grad():
            dec = 0.0 if step < args.ema_start else args.ema
            for pe, pm in zip(G_ema.parameters(), G.parameters()):
                pe.mul_(dec).add_(pm.detach(), alpha=1 - dec)
        sched.step()
        step += 1
        if step % 500 == 0 or step == 50:
            C.log("step %d lossD %.3f lossG %.3f lr_factor %.3f" % (step, lossD.item(), lossG.item(), f))
        if time.time() - last_save > args.save_every and budget.left() > 10:
            save("checkpoint")
            last_save = time.time()
    meta["stopped_by"] = "schedule" if sched.done() else "time-budget"
    save("final")
    meta["total_wall_s"] = budget.elapsed()
    C.save_json(meta, os.path.join(args.out, "metrics.json"))
    C.log("done: %d steps, %.1f steps/s" % (step, step / max(1e-9, time.time() - t0)))


if __name__ == "__main__":
    main()
