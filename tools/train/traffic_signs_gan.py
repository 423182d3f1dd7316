#!/usr/bin/env python3
"""traffic-signs-gan: class-conditional DCGAN (AC-GAN losses) on GTSRB 32x32.

Generator: z [N,Z] + class one-hot [N,43] -> [N,3,32,32] in [-1,1] (Linear, BN, 3x (Upsample nearest
+ Conv3x3 + BN + ReLU), Conv3x3, Tanh).  Discriminator: image in [-1,1] -> realism logit [N,1]
plus auxiliary class logits [N,43] (strided Conv + BN + LeakyReLU, Linear) - only standard ops.
The generator is an exponential moving average of the trained one, with BN statistics recalibrated.
Metric: share of generated samples that the traffic-signs classifier (--classifier) assigns to
their conditioning class.

GPU:  python3 tools/train/traffic_signs_gan.py --out OUT/traffic-signs-gan --time-budget 85 \
          --classifier OUT/traffic-signs/weights.npz
CPU smoke: /usr/bin/python3 tools/train/traffic_signs_gan.py --out /tmp/gan --device cpu --limit 2000 --epochs 1
"""
import copy
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402

NAME = "traffic-signs-gan"
NUM_CLASSES = 43


class Generator(nn.Module):
    def __init__(self, z_dim=64, num_classes=NUM_CLASSES, emb=64, w=(192, 128, 96, 48)):
        super().__init__()
        self.z_dim = z_dim
        self.num_classes = num_classes
        self.embed = nn.Linear(num_classes, emb, bias=False)
        self.fc = nn.Linear(z_dim + emb, w[0] * 16, bias=False)
        self.bn0 = nn.BatchNorm2d(w[0])
        ups = []
        for cin, cout in zip(w[:-1], w[1:]):
            ups += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                    nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        self.ups = nn.Sequential(*ups)
        self.out = nn.Conv2d(w[-1], 3, 3, padding=1)
        self.w0 = w[0]

    def forward(self, z, y_onehot):
        h = torch.cat([z, self.embed(y_onehot)], 1)
        h = self.fc(h).reshape(-1, self.w0, 4, 4)
        h = F.relu(self.bn0(h))
        return torch.tanh(self.out(self.ups(h)))


class Discriminator(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES, w=(64, 128, 256)):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, w[0], 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),                            # 16
            nn.Conv2d(w[0], w[1], 4, 2, 1, bias=False), nn.BatchNorm2d(w[1]), nn.LeakyReLU(0.2, inplace=True),  # 8
            nn.Conv2d(w[1], w[2], 4, 2, 1, bias=False), nn.BatchNorm2d(w[2]), nn.LeakyReLU(0.2, inplace=True),  # 4
            nn.Flatten())
        self.adv = nn.Linear(w[2] * 16, 1)
        self.cls = nn.Linear(w[2] * 16, num_classes)

    def forward(self, x):
        h = self.net(x)
        return self.adv(h), self.cls(h)


def build_generator(hp=None):
    return Generator(z_dim=(hp or {}).get("z_dim", 64))


def build_discriminator(hp=None):
    return Discriminator()


def onehot(y, k=NUM_CLASSES):
    return F.one_hot(y, k).float()


@torch.no_grad()
def recalibrate_bn(g, dev, z_dim, batches=20, batch=256, seed=7):
    """Recompute BN running statistics of `g` as exact averages over fresh samples."""
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
        d.eval()
        pred = torch.cat([d(x[i:i + 1024])[1].argmax(1) for i in range(0, len(y), 1024)])
        r["disc_aux_agreement"] = (pred == y).float().mean().item()
    return r


def main():
    p = C.base_parser(__doc__.splitlines()[0], epochs=1000, batch=256, lr=2e-4, budget=85)
    p.add_argument("--z-dim", type=int, default=64)
    p.add_argument("--aux-weight", type=float, default=1.0)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--classifier", default="", help="traffic-signs weights.npz for the agreement metric")
    p.add_argument("--save-every", type=float, default=20.0)
    p.add_argument("--eval-per-class", type=int, default=50, help="samples per class for the agreement metric")
    p.add_argument("--bn-batches", type=int, default=20, help="batches of 256 for BN recalibration")
    args = p.parse_args()
    dev = C.setup(args)
    budget = C.Budget(args.time_budget, reserve=5.0)
    x, y, tr, fr = C.load_gtsrb_train(args.data_dir, args.limit)
    xr = torch.as_tensor(x).to(dev)
    yr = torch.as_tensor(y).to(dev)
    n = len(yr)
    clf = None
    if args.classifier and os.path.exists(args.classifier):
        import traffic_signs
        clf = traffic_signs.build()
        C.load_npz_into(clf, args.classifier)
        clf = clf.to(dev).eval()
        C.log("classifier for agreement metric:", args.classifier)
    G = build_generator({"z_dim": args.z_dim}).to(dev)
    D = build_discriminator().to(dev)
    G_ema = copy.deepcopy(G).eval()
    for q in G_ema.parameters():
        q.requires_grad_(False)
    optG = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.5, 0.999))
    optD = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999))
    spe = max(1, n // args.batch)
    sched = C.TimeAwareSchedule(args.epochs * spe, budget, warmup=0.0, final=0.1)
    gen = torch.Generator(device=dev)
    gen.manual_seed(args.seed)
    bce = nn.BCEWithLogitsLoss()
    meta = {"model": NAME, "z_dim": args.z_dim, "num_classes": NUM_CLASSES, "batch": args.batch, "lr": args.lr,
            "aux_weight": args.aux_weight, "ema": args.ema, "seed": args.seed, "command": C.command_line(),
            "params_generator": C.count_params(G), "params_discriminator": C.count_params(D),
            "time_budget_s": args.time_budget, "train_images": int(n), "torch": torch.__version__,
            "device": str(dev), "history": [],
            "arch": "AC-GAN: G fc->192x4x4, 3x(Upsample nearest+Conv3x3+BN+ReLU) 128/96/48, Conv3x3, Tanh; "
                    "D Conv4x4s2 64/128/256 + BN + LeakyReLU, Linear adv + Linear 43 aux"}

    def save(tag):
        g = copy.deepcopy(G_ema)
        recalibrate_bn(g, dev, args.z_dim, batches=args.bn_batches)
        r = class_fidelity(g, clf, dev, per_class=args.eval_per_class, d=D)
        meta.update(r)
        meta["history"].append(dict(r, step=step, elapsed_s=budget.elapsed()))
        meta["steps"] = step
        meta["train_time_s"] = time.time() - t0
        C.save_npz(g, os.path.join(args.out, "generator.npz"))
        C.save_npz(D, os.path.join(args.out, "discriminator.npz"))
        C.save_json(meta, os.path.join(args.out, "metrics.json"))
        C.log("%s step %d %s" % (tag, step, r))

    t0 = time.time()
    last_save = time.time()
    step = 0
    while not sched.done() and not budget.expired():
        G.train()
        D.train()
        idx = torch.randint(0, n, (args.batch,), device=dev, generator=gen)
        real = xr[idx].permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
        yreal = yr[idx]
        lr = args.lr * sched.factor()
        C.set_lr(optG, lr)
        C.set_lr(optD, lr)
        z = torch.randn(args.batch, args.z_dim, device=dev, generator=gen)
        yfake = torch.randint(0, NUM_CLASSES, (args.batch,), device=dev, generator=gen)
        fake = G(z, onehot(yfake))
        # D step
        a_r, c_r = D(real)
        a_f, _ = D(fake.detach())
        lossD = bce(a_r, torch.full_like(a_r, 0.9)) + bce(a_f, torch.zeros_like(a_f)) + \
            args.aux_weight * F.cross_entropy(c_r, yreal)
        optD.zero_grad(set_to_none=True)
        lossD.backward()
        optD.step()
        # G step
        a_f, c_f = D(fake)
        lossG = bce(a_f, torch.ones_like(a_f)) + args.aux_weight * F.cross_entropy(c_f, yfake)
        optG.zero_grad(set_to_none=True)
        lossG.backward()
        optG.step()
        with torch.no_grad():
            dec = min(args.ema, (1 + step) / (10 + step))
            for pe, pm in zip(G_ema.parameters(), G.parameters()):
                pe.mul_(dec).add_(pm.detach(), alpha=1 - dec)
        sched.step()
        step += 1
        if step % 500 == 0:
            C.log("step %d lossD %.3f lossG %.3f lr %.2e" % (step, lossD.item(), lossG.item(), lr))
        if time.time() - last_save > args.save_every:
            save("checkpoint")
            last_save = time.time()
    meta["stopped_by"] = "schedule" if sched.done() else "time-budget"
    save("final")
    meta["total_wall_s"] = budget.elapsed()
    C.save_json(meta, os.path.join(args.out, "metrics.json"))


if __name__ == "__main__":
    main()
