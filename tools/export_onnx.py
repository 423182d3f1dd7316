#!/usr/bin/env python3
"""Rebuild the imgrec models from trained weights (.npz), evaluate them in PyTorch on CPU and
export them to ONNX (opset 13) with imgrec metadata_props.

Inputs: a runs directory as written by tools/train/run_gpu_*.sh, i.e. RUNS/<model>/weights.npz
(+ metrics.json); for the GAN RUNS/traffic-signs-gan/{generator,discriminator}.npz.
Outputs: models/<name>/<name>.onnx (+ metrics.json); models/traffic-signs-gan/{generator,discriminator}.onnx,
samples.png (one row per class) and metrics.json.

Usage (Debian torch 1.13, CPU):
  /usr/bin/python3 tools/export_onnx.py --runs /path/to/OUT [--models traffic-signs,objects-cifar10,...]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "train"))
import common as C  # noqa: E402
from objects_cifar10 import upsample_u8  # noqa: E402

OPSET = 13
SCALE = "0.00392156862745098"
ALL = ["traffic-signs", "seed-cnn-cifar10", "objects-cifar10", "traffic-signs-seq", "traffic-signs-gan"]
CIFAR_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
DARKNET = [("/usr/share/darknet/data/dog.jpg", "dog"), ("/usr/share/darknet/data/horses.jpg", "horse"),
           ("/usr/share/darknet/data/eagle.jpg", "bird")]


def fmt(v):
    return ",".join(repr(float(x)) for x in v)


def base_meta(kind, labels, mean, std):
    return {"imgrec.kind": kind, "imgrec.labels": "\n".join(labels), "imgrec.mean": fmt(mean),
            "imgrec.std": fmt(std), "imgrec.scale": SCALE, "imgrec.color-order": "RGB",
            "imgrec.resize": "stretch", "imgrec.input-layout": "NCHW"}


def export(model, args_t, path, input_names, output_names, dynamic_axes, meta):
    model.eval()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, args_t, tmp, opset_version=OPSET, input_names=input_names,
                          output_names=output_names, dynamic_axes=dynamic_axes, do_constant_folding=True)
    import onnx
    m = onnx.load(tmp)
    del m.metadata_props[:]
    for k, v in meta.items():
        e = m.metadata_props.add()
        e.key, e.value = k, str(v)
    m.producer_name = "imgrec tools/export_onnx.py"
    onnx.checker.check_model(m)
    onnx.save(m, path)
    os.remove(tmp)
    size = os.path.getsize(path)
    ops = sorted({n.op_type for n in m.graph.node})
    print("  wrote %s (%.2f MB) ops: %s" % (os.path.relpath(path, REPO), size / 1e6, " ".join(ops)), flush=True)
    if size > 5 * 1024 * 1024:
        print("  WARNING: %s is larger than 5 MB" % path, flush=True)
    return size, ops


def train_meta(run_dir):
    p = os.path.join(run_dir, "metrics.json")
    if os.path.exists(p):
        with open(p) as f:
            return json.load(f)
    return {}


def summary_of_training(tm):
    keys = ["command", "train_time_s", "total_wall_s", "epochs_done", "epochs_requested", "steps", "stopped_by",
            "val_acc", "test_acc", "device", "torch", "time_budget_s", "batch", "lr", "seed", "arch",
            "augmentation", "degradation", "train_images", "train_tracks", "heldout_tracks"]
    return {k: tm[k] for k in keys if k in tm}


def write_metrics(path, d):
    d["export_command"] = " ".join(["python3"] + [os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:])
    d["exported_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    d["opset"] = OPSET
    C.save_json(d, path)
    print("  wrote", os.path.relpath(path, REPO), flush=True)


def synthetic_images():
    """4 fixed uint8 [4,32,32,3] RGB test images made here (no data-set images are committed):
    uniform noise, colour gradients, a red disc with a white bar on grey, a blue/white checkerboard."""
    rs = np.random.RandomState(2024)
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)
    im = np.zeros((4, 32, 32, 3), np.float32)
    im[0] = rs.randint(0, 256, (32, 32, 3))
    im[1] = np.stack([xx * 8, yy * 8, 255 - (xx + yy) * 4], -1)
    im[2] = 128
    disc = (xx - 15.5) ** 2 + (yy - 15.5) ** 2 < 13 ** 2
    im[2][disc] = (200, 20, 30)
    im[2][disc & (np.abs(yy - 15.5) < 3) & (np.abs(xx - 15.5) < 9)] = 255
    chk = ((xx // 4 + yy // 4) % 2).astype(bool)
    im[3] = (30, 60, 200)
    im[3][chk] = 255
    return np.clip(im, 0, 255).astype(np.uint8)


def save_vectors(dirpath, name, inputs, outputs):
    if not dirpath:
        return
    d = os.path.join(dirpath, name)
    os.makedirs(d, exist_ok=True)
    for k, v in inputs.items():
        np.save(os.path.join(d, "input_%s.npy" % k), v.detach().cpu().numpy().astype(np.float32))
    for k, v in outputs.items():
        np.save(os.path.join(d, "output_%s.npy" % k), v.detach().cpu().numpy().astype(np.float32))


# ------------------------------------------------------------------ classifiers

class FlipAverage(torch.nn.Module):
    """Test-time augmentation inside the graph: the mean of the logits for the
    image and its mirror image (a Slice with step -1 over the width axis)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return (self.net(x) + self.net(torch.flip(x, [3]))) * 0.5


def export_classifier(name, a, module, labels, mean, std, xte, yte, hp=None, flip_tta=False):
    run = os.path.join(a.runs, name)
    w = os.path.join(run, "weights.npz")
    if not os.path.exists(w):
        print("  skip %s: no %s" % (name, w))
        return None
    tm = train_meta(run)
    model = module.build(hp if hp is not None else tm)
    C.load_npz_into(model, w)
    if flip_tta:
        model = FlipAverage(model)
    model.eval()
    size_in = int(tm.get("input_size", 32))   # objects-cifar10 may be trained on upsampled 64x64 images
    res = {"model": name, "params": C.count_params(model), "training": summary_of_training(tm),
           "flip_tta": flip_tta, "input_size": size_in}
    if xte is not None and size_in != xte.shape[1]:
        xte = upsample_u8(xte, size_in)
    if xte is not None and not a.skip_eval:
        t0 = time.time()
        res["pytorch_test_acc"] = C.evaluate(model, xte, yte, torch.device("cpu"), mean, std, batch=500)
        res["test_images"] = int(len(yte))
        print("  %s PyTorch test accuracy %.4f on %d images (%.0fs)" % (name, res["pytorch_test_acc"], len(yte),
                                                                          time.time() - t0), flush=True)
    path = os.path.join(a.models_dir, name, name + ".onnx")
    size, ops = export(model, (torch.zeros(1, 3, size_in, size_in),), path, ["input"], ["scores"],
                       {"input": {0: "N"}, "scores": {0: "N"}}, base_meta("classifier", labels, mean, std))
    res.update({"onnx": os.path.relpath(path, REPO), "onnx_bytes": size, "onnx_ops": ops,
                "input": "input [N,3,%d,%d] float32 = (RGB/255 - mean)/std" % (size_in, size_in), "output": "scores [N,%d] logits" % len(labels),
                "mean": list(mean), "std": list(std)})
    if a.test_vectors:
        x = C.to_float(torch.as_tensor(upsample_u8(synthetic_images(), size_in)), mean, std)
        with torch.no_grad():
            save_vectors(a.test_vectors, name, {"input": x}, {"scores": model(x)})
    return model, res


def darknet_photos(model, mean, std, size=32):
    from PIL import Image
    out = {}
    for p, want in DARKNET:
        if not os.path.exists(p):
            continue
        im = np.asarray(Image.open(p).convert("RGB").resize((size, size), Image.BILINEAR))
        with torch.no_grad():
            s = torch.softmax(model(C.to_float(torch.as_tensor(im[None]), mean, std)), 1)[0]
        k = int(s.argmax())
        out[os.path.basename(p)] = {"predicted": CIFAR_NAMES[k], "prob": float(s[k]), "expected": want}
    return out


# ------------------------------------------------------------------ sequence model

def export_seq(a, names, ts_model):
    import traffic_signs_seq as S
    name = "traffic-signs-seq"
    run = os.path.join(a.runs, name)
    w = os.path.join(run, "weights.npz")
    if not os.path.exists(w):
        print("  skip %s: no %s" % (name, w))
        return
    tm = train_meta(run)
    H = int(tm.get("hidden", 128))
    net = S.build({"hidden": H})
    C.load_npz_into(net, w)
    net.eval()
    res = {"model": name, "params": C.count_params(net), "hidden": H, "training": summary_of_training(tm),
           "heldout_gpu": tm.get("heldout")}
    # step model == sequence model check, on random input
    g = torch.Generator().manual_seed(0)
    xs = torch.randn(2, 7, 3, 32, 32, generator=g)
    cell = S.StepCellOps(net).eval()
    with torch.no_grad():
        ref, _, _ = net.forward_seq(xs)
        h = torch.zeros(1, 2, H)
        c = torch.zeros(1, 2, H)
        h2, c2 = h.clone(), c.clone()
        d1 = d2 = 0.0
        for t in range(7):
            s1, h, c = net(xs[:, t], h, c)
            s2, h2, c2 = cell(xs[:, t], h2, c2)
            d1 = max(d1, (s1 - ref[:, t]).abs().max().item())
            d2 = max(d2, (s2 - ref[:, t]).abs().max().item())
    res["step_vs_sequence_max_abs_diff"] = {"lstm_op": d1, "cell_ops": d2}
    print("  step model vs sequence: max |diff| %.2e (LSTM op) %.2e (cell ops)" % (d1, d2), flush=True)
    if not a.skip_eval:
        dev = torch.device("cpu")
        x, y, tr, fr = C.load_gtsrb_train(a.data_dir)
        isval = C.track_split(tr)
        idx, lens = S.track_table(tr, fr)
        tval = isval[idx[:, 0]]
        if a.limit_tracks:
            tval &= np.cumsum(tval) <= a.limit_tracks
        t0 = time.time()
        sets = S.make_eval_sets(x, idx[tval], lens[tval], dev)
        pf = {"traffic-signs": ts_model} if ts_model is not None else {}
        r = S.eval_tracks(net, sets, y[idx[tval, 0]], dev, pf)
        res["heldout_pytorch_cpu"] = r
        for sn in r:
            print("  %s held-out tracks: seq %s" % (sn, {k: round(v, 4) for k, v in r[sn]["seq"].items()}))
            for k, v in r[sn]["per_frame"].items():
                print("     per-frame %s: %s" % (k, {kk: round(vv, 4) for kk, vv in v.items()}))
        print("  (%.0fs)" % (time.time() - t0), flush=True)
    step = net if a.seq_lstm_op == "lstm" else cell
    meta = base_meta("sequence-step", names, C.GTSRB_MEAN, C.GTSRB_STD)
    meta["imgrec.state-map"] = "h_in:h_out,c_in:c_out"
    path = os.path.join(a.models_dir, name, name + ".onnx")
    dummy = (torch.zeros(1, 3, 32, 32), torch.zeros(1, 1, H), torch.zeros(1, 1, H))
    size, ops = export(step, dummy, path, ["frame", "h_in", "c_in"], ["scores", "h_out", "c_out"], None, meta)
    res.update({"onnx": os.path.relpath(path, REPO), "onnx_bytes": size, "onnx_ops": ops,
                "lstm_export": a.seq_lstm_op, "inputs": "frame [1,3,32,32] normalised, h_in [1,1,%d], c_in [1,1,%d]" % (H, H),
                "outputs": "scores [1,43] logits, h_out, c_out", "mean": list(C.GTSRB_MEAN), "std": list(C.GTSRB_STD)})
    if a.test_vectors:
        xs1 = xs[:1]
        h = torch.zeros(1, 1, H)
        c = torch.zeros(1, 1, H)
        outs = []
        with torch.no_grad():
            for t in range(xs1.shape[1]):
                s, h, c = net(xs1[:, t], h, c)
                outs.append(s)
        save_vectors(a.test_vectors, name, {"frames": xs1[0]},
                     {"scores_per_step": torch.cat(outs), "h_final": h, "c_final": c})
    write_metrics(os.path.join(a.models_dir, name, "metrics.json"), res)


# ------------------------------------------------------------------ GAN

def roc_auc(pos, neg):
    s = np.concatenate([pos, neg])
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    # average ranks of ties
    vals, inv, cnt = np.unique(s, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, ranks)
    ranks = (sums / cnt)[inv]
    rp = ranks[:len(pos)].sum()
    return float((rp - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def export_gan(a, names, ts_model):
    import traffic_signs_gan as G
    name = "traffic-signs-gan"
    run = os.path.join(a.runs, name)
    wg, wd = os.path.join(run, "generator.npz"), os.path.join(run, "discriminator.npz")
    if not (os.path.exists(wg) and os.path.exists(wd)):
        print("  skip %s: no %s / %s" % (name, wg, wd))
        return
    tm = train_meta(run)
    Z = int(tm.get("z_dim", 64))
    gen = G.build_generator({"z_dim": Z})
    C.load_npz_into(gen, wg)
    dis = G.build_discriminator()
    C.load_npz_into(dis, wd)
    gen.eval()
    dis.eval()
    res = {"model": name, "params_generator": C.count_params(gen), "params_discriminator": C.count_params(dis),
           "z_dim": Z, "training": summary_of_training(tm),
           "gpu_classifier_agreement": tm.get("classifier_agreement")}
    dev = torch.device("cpu")
    with torch.no_grad():
        if not a.skip_eval:
            r = G.class_fidelity(gen, ts_model, dev, per_class=a.gan_per_class, d=dis)
            res.update({"pytorch_" + k: v for k, v in r.items()})
            res["agreement_samples_per_class"] = a.gan_per_class
            print("  generated samples: %s" % r, flush=True)
            # discriminator: real held-out (GTSRB test) vs corrupted (noise, blur, CIFAR-10)
            xte, yte = C.load_gtsrb_test(a.data_dir)
            if xte is not None:
                rs = np.random.RandomState(0)
                sel = rs.choice(len(xte), min(2000, len(xte)), replace=False)
                real = torch.as_tensor(xte[sel]).permute(0, 3, 1, 2).float() / 255.0
                tg = torch.Generator().manual_seed(0)
                noisy = (real + 0.25 * torch.randn(real.shape, generator=tg)).clamp(0, 1)
                blur = C.gaussian_blur(real, torch.full((len(real),), 1.5))
                def score(x01):
                    return torch.cat([dis(x01[i:i + 500] * 2 - 1)[0][:, 0] for i in range(0, len(x01), 500)]).numpy()
                sr = score(real)
                auc = {"noise_sigma0.25": roc_auc(sr, score(noisy)), "blur_sigma1.5": roc_auc(sr, score(blur))}
                cx, cy, _ = C.load_cifar(a.data_dir, "test", 2000)
                negs = [score(noisy), score(blur)]
                if cx is not None:
                    sc = score(torch.as_tensor(cx).permute(0, 3, 1, 2).float() / 255.0)
                    auc["cifar10"] = roc_auc(sr, sc)
                    negs.append(sc)
                auc["all_corruptions"] = roc_auc(sr, np.concatenate(negs))
                res["discriminator_roc_auc"] = auc
                print("  discriminator ROC AUC real-vs-corrupted: %s" % auc, flush=True)
        # sample grid, one row per class
        x, y = G.sample_grid(gen, dev, per_class=10, seed=2024)
        img = ((x + 1) * 127.5).clamp(0, 255).round().byte().permute(0, 2, 3, 1).numpy()
        grid = img.reshape(43, 10, 32, 32, 3).transpose(0, 2, 1, 3, 4).reshape(43 * 32, 10 * 32, 3)
        from PIL import Image
        os.makedirs(os.path.join(a.models_dir, name), exist_ok=True)
        Image.fromarray(grid).save(os.path.join(a.models_dir, name, "samples.png"))
        print("  wrote", os.path.join(os.path.relpath(a.models_dir, REPO), name, "samples.png"))
    meta = {"imgrec.kind": "gan-generator", "imgrec.labels": "\n".join(names), "imgrec.latent-dim": str(Z),
            "imgrec.num-classes": str(G.NUM_CLASSES), "imgrec.output-range": "-1,1", "imgrec.color-order": "RGB",
            "imgrec.input-layout": "NCHW", "imgrec.class-input": "one-hot"}
    pg = os.path.join(a.models_dir, name, "generator.onnx")
    size_g, ops_g = export(gen, (torch.zeros(1, Z), torch.zeros(1, G.NUM_CLASSES)), pg, ["z", "class"], ["image"],
                           {"z": {0: "N"}, "class": {0: "N"}, "image": {0: "N"}}, meta)
    pd = os.path.join(a.models_dir, name, "discriminator.onnx")
    dmeta = base_meta("gan-discriminator", names, C.GAN_MEAN, C.GAN_STD)
    size_d, ops_d = export(dis, (torch.zeros(1, 3, 32, 32),), pd, ["image"], ["score", "class_scores"],
                           {"image": {0: "N"}, "score": {0: "N"}, "class_scores": {0: "N"}}, dmeta)
    res.update({"generator_onnx": os.path.relpath(pg, REPO), "generator_bytes": size_g, "generator_ops": ops_g,
                "discriminator_onnx": os.path.relpath(pd, REPO), "discriminator_bytes": size_d,
                "discriminator_ops": ops_d,
                "generator_io": "z [N,%d] ~ N(0,1), class [N,43] one-hot -> image [N,3,32,32] in [-1,1]" % Z,
                "discriminator_io": "image [N,3,32,32] = RGB/255*2-1 -> score [N,1] realism logit, class_scores [N,43]"})
    if a.test_vectors:
        tg = torch.Generator().manual_seed(1)
        z = torch.randn(4, Z, generator=tg)
        yy = torch.nn.functional.one_hot(torch.tensor([0, 1, 14, 42]), 43).float()
        with torch.no_grad():
            im = gen(z, yy)
            # the discriminator's inputs on the 8-bit grid (RGB/255*2-1 exactly), so that an element
            # fed the same images as 8-bit frames must reproduce PyTorch's scores
            im_u8 = torch.round((im + 1) * 127.5) / 127.5 - 1
            s, cs = dis(im_u8)
        save_vectors(a.test_vectors, "traffic-signs-gan-generator", {"z": z, "class": yy}, {"image": im})
        save_vectors(a.test_vectors, "traffic-signs-gan-discriminator", {"image": im_u8},
                     {"score": s, "class_scores": cs})
    write_metrics(os.path.join(a.models_dir, name, "metrics.json"), res)


# ------------------------------------------------------------------ main

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", required=True, help="directory holding <model>/weights.npz from the training runs")
    p.add_argument("--models", default=",".join(ALL))
    p.add_argument("--data-dir", default=None)
    p.add_argument("--models-dir", default=os.path.join(REPO, "models"))
    p.add_argument("--skip-eval", action="store_true", help="export only (no PyTorch test evaluation)")
    p.add_argument("--limit-test", type=int, default=0, help="evaluate on a random subset of N test images")
    p.add_argument("--seq-lstm-op", choices=["lstm", "cell"], default="lstm",
                   help="export the LSTM step as the ONNX LSTM operator or as elementary ops")
    p.add_argument("--gan-per-class", type=int, default=50)
    p.add_argument("--limit-tracks", type=int, default=0, help="evaluate the seq model on the first N held-out tracks")
    p.add_argument("--test-vectors", default="", help="also write small input/output .npy files into this dir")
    a = p.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    if a.data_dir is None:
        a.data_dir = C.default_data_dir()
    wanted = [m.strip() for m in a.models.split(",") if m.strip()]
    names = C.gtsrb_names(a.data_dir)
    import traffic_signs
    import seed_cnn_cifar10
    import objects_cifar10

    def lim(x, y):
        if x is None or not a.limit_test or a.limit_test >= len(y):
            return x, y
        sel = np.sort(np.random.RandomState(0).choice(len(y), a.limit_test, replace=False))
        return x[sel], y[sel]

    ts_model = None
    if "traffic-signs" in wanted or "traffic-signs-seq" in wanted or "traffic-signs-gan" in wanted:
        xte, yte = lim(*C.load_gtsrb_test(a.data_dir)) if not a.skip_eval else (None, None)
        if "traffic-signs" in wanted:
            print("== traffic-signs", flush=True)
            r = export_classifier("traffic-signs", a, traffic_signs, names, C.GTSRB_MEAN, C.GTSRB_STD, xte, yte, hp={})
            if r is not None:
                ts_model, res = r
                write_metrics(os.path.join(a.models_dir, "traffic-signs", "metrics.json"), res)
        if ts_model is None:
            w = os.path.join(a.runs, "traffic-signs", "weights.npz")
            if os.path.exists(w):
                ts_model = traffic_signs.build()
                C.load_npz_into(ts_model, w)
                ts_model.eval()
    if "seed-cnn-cifar10" in wanted or "objects-cifar10" in wanted:
        cx, cy = (None, None)
        if not a.skip_eval:
            cx, cy, _ = C.load_cifar(a.data_dir, "test")
            cx, cy = lim(cx, cy)
        for name, mod in (("objects-cifar10", objects_cifar10), ("seed-cnn-cifar10", seed_cnn_cifar10)):
            if name not in wanted:
                continue
            print("==", name, flush=True)
            # Horizontal flips are label-preserving for CIFAR-10 objects (not for
            # traffic signs): objects-cifar10 averages the two views in its graph.
            r = export_classifier(name, a, mod, CIFAR_NAMES, C.CIFAR_MEAN, C.CIFAR_STD, cx, cy,
                                  flip_tta=(name == "objects-cifar10"))
            if r is not None:
                model, res = r
                photos = darknet_photos(model, C.CIFAR_MEAN, C.CIFAR_STD, res["input_size"])
                if photos:
                    res["darknet_photos"] = photos
                    print("  darknet photos:", photos)
                write_metrics(os.path.join(a.models_dir, name, "metrics.json"), res)
    if "traffic-signs-seq" in wanted:
        print("== traffic-signs-seq", flush=True)
        export_seq(a, names, ts_model)
    if "traffic-signs-gan" in wanted:
        print("== traffic-signs-gan", flush=True)
        export_gan(a, names, ts_model)


if __name__ == "__main__":
    main()
