#!/usr/bin/python3
"""Does traffic-signs-restore help the sign classifier? Measured through imgrec's engine.

On the official GTSRB test set (12,630 images, <data>/gtsrb/test.npz) degraded once with a fixed
seed (tools/train/traffic_signs_restore.degrade, numpy RandomState --seed, default 2027: low light /
low contrast, blur, gaussian noise, JPEG, each randomised), the shipped classifier
models/traffic-signs/traffic-signs.onnx is scored on
  clean crops, degraded crops, and restored crops (degraded -> traffic-signs-restore.onnx),
all through `imgrec-run` (batches written as .npy; both models have a dynamic batch dim). The
restorer's output is turned back into 8-bit RGB exactly as imgrecgan mode=generate does
((v - lo) * 255 / (hi - lo) + 0.5, clamped, truncated), then pre-processed for the classifier as
its metadata says.

PyTorch's figures beside: the same pipeline in torch 1.13 on CPU. The restorer is the U-Net of
tools/train/traffic_signs_restore.py with --run's weights.npz when given, else the ONNX graph run
op by op in torch (as is the classifier, whose training weights are not in the repository:
`OnnxTorch` executes the shipped file's graph with torch.nn.functional, no ONNX runtime involved).

Also reports PSNR (0..1 scale) of degraded and restored crops against the clean crops.
Target: restored top-1 >= degraded top-1 + 5 points.
--one-at-a-time also scores each degradation alone (low light, blur, noise, JPEG: the same images,
the same seed), through the engine: where restoration helps and where it costs accuracy.

Usage: /usr/bin/python3 tools/eval_restore.py [--data-dir ../shared/data] [--run OUT/traffic-signs-restore]
           [--limit N] [--json models/traffic-signs-restore/eval-engine.json]
Exits 77 (skip) when the data set (../shared) is absent.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import engine_run as E  # noqa: E402
from onnx_torch import OnnxTorch  # noqa: E402

CLASSIFIER = os.path.join(REPO, "models", "traffic-signs", "traffic-signs.onnx")
RESTORER = os.path.join(REPO, "models", "traffic-signs-restore", "traffic-signs-restore.onnx")


def find_test(data_dir):
    for d in (data_dir, os.path.join(REPO, ".data"), os.path.join(os.path.dirname(REPO), "shared", "data")):
        if d and os.path.exists(os.path.join(d, "gtsrb", "test.npz")):
            return os.path.join(d, "gtsrb", "test.npz")
    return None


def output_to_u8(y, lo=-1.0, hi=1.0):
    """float NCHW generator output -> uint8 NHWC, exactly as imgrecgan's output_to_image."""
    v = (y.astype(np.float32) - np.float32(lo)) * np.float32(255.0 / (hi - lo)) + np.float32(0.5)
    return np.clip(v, 0, 255).astype(np.uint8).transpose(0, 2, 3, 1).copy()


def psnr_u8(a, b):
    mse = ((a.astype(np.float64) - b.astype(np.float64)) / 255.0) ** 2
    mse = np.maximum(mse.reshape(len(a), -1).mean(1), 1e-10)
    return float((10 * np.log10(1.0 / mse)).mean())


def run_torch(f, x, batch=500):
    import torch
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(f(torch.from_numpy(np.ascontiguousarray(x[i:i + batch]))).numpy())
    return np.concatenate(out)


def one_at_a_time(R, x, y, a, er, ec, rmeta, cmeta, lo, hi):
    """Top-1 through the engine with one degradation kind at a time: {kind: {degraded, restored}}."""
    out = {}
    for kind in ("low", "blur", "noise", "jpeg"):
        cfg = dict(R.DEFAULT_DEG)
        for k in ("low", "blur", "noise", "jpeg"):
            cfg["p_" + k] = 1.0 if k == kind else 0.0
        xd = R.degrade(x, np.random.RandomState(a.seed), cfg)
        yr = er.run_batched("image", E.preprocess_u8(xd, rmeta), "restored", batch=a.batch)
        r = {}
        for k, im in (("degraded", xd), ("restored", output_to_u8(yr, lo, hi))):
            s = ec.run_batched("input", E.preprocess_u8(im, cmeta), "scores", batch=a.batch)
            r[k] = float((s.argmax(1) == y).mean())
        print("engine  %-5s alone: degraded %.4f, restored %.4f (%+.2f points)" % (
            kind, r["degraded"], r["restored"], 100 * (r["restored"] - r["degraded"])), flush=True)
        out[kind] = r
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None)
    p.add_argument("--classifier", default=CLASSIFIER)
    p.add_argument("--restorer", default=RESTORER)
    p.add_argument("--run", default="", help="training run dir (weights.npz) for PyTorch's restorer; "
                                               "default: the ONNX graph executed in torch")
    p.add_argument("--seed", type=int, default=2027, help="seed of the test-set degradations")
    p.add_argument("--limit", type=int, default=0, help="random subset of N test images (seed 0)")
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--imgrec-run", default=None)
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--no-clean", action="store_true", help="skip the clean crops (known: models/README.md)")
    p.add_argument("--one-at-a-time", action="store_true",
                   help="also score each degradation kind alone (engine only)")
    p.add_argument("--json", default="")
    a = p.parse_args()
    path = find_test(a.data_dir)
    if path is None:
        print("SKIP: GTSRB test set not found (../shared/data/gtsrb/test.npz)")
        sys.exit(77)
    sys.path.insert(0, os.path.join(HERE, "train"))
    import traffic_signs_restore as R
    d = np.load(path)
    x, y = d["images"], d["labels"].astype(np.int64)
    if a.limit and a.limit < len(y):
        sel = np.sort(np.random.RandomState(0).choice(len(y), a.limit, replace=False))
        x, y = x[sel], y[sel]
    t0 = time.time()
    xd = R.degrade(x, np.random.RandomState(a.seed))
    cmeta, rmeta = E.metadata(a.classifier), E.metadata(a.restorer)
    lo, hi = (float(v) for v in rmeta.get("imgrec.output-range", "-1,1").split(","))
    res = {"test_set": os.path.relpath(path, os.path.dirname(REPO)), "images": int(len(y)),
           "degradation_seed": a.seed, "degradations": R.DEFAULT_DEG,
           "classifier": os.path.relpath(a.classifier, REPO), "restorer": os.path.relpath(a.restorer, REPO)}
    print("%d test images, degraded in %.1fs" % (len(y), time.time() - t0), flush=True)

    # ---- engine
    with E.Engine(a.restorer, a.imgrec_run) as er, E.Engine(a.classifier, a.imgrec_run) as ec:
        t0 = time.time()
        yr = er.run_batched("image", E.preprocess_u8(xd, rmeta), "restored", batch=a.batch)
        xr = output_to_u8(yr, lo, hi)
        res["engine_restore_s"] = time.time() - t0
        acc = {}
        preds = {}
        for k, im in (("clean", x), ("degraded", xd), ("restored", xr)):
            if k == "clean" and a.no_clean:
                continue
            t0 = time.time()
            s = ec.run_batched("input", E.preprocess_u8(im, cmeta), "scores", batch=a.batch)
            preds[k] = s.argmax(1)
            acc[k] = float((preds[k] == y).mean())
            print("engine  %-9s top-1 %.4f  (%.0fs)" % (k, acc[k], time.time() - t0), flush=True)
        if a.one_at_a_time:
            res["one_at_a_time_engine_top1"] = one_at_a_time(R, x, y, a, er, ec, rmeta, cmeta, lo, hi)
    res["engine_top1"] = acc
    res["psnr_db"] = {"degraded": psnr_u8(xd, x), "restored_engine": psnr_u8(xr, x)}
    res["engine_gain_points"] = 100 * (acc["restored"] - acc["degraded"])

    # ---- PyTorch (CPU)
    if not a.no_torch:
        import torch
        torch.set_num_threads(2)
        if a.run:
            import export_restore
            g, _ = export_restore.build_from_run(a.run)
            res["pytorch_restorer"] = "U-Net of traffic_signs_restore.py, %s/weights.npz" % a.run
        else:
            g = OnnxTorch(a.restorer)
            res["pytorch_restorer"] = "ONNX graph executed with torch.nn.functional"
        clf = OnnxTorch(a.classifier)
        yr_t = run_torch(g, E.preprocess_u8(xd, rmeta), a.batch)
        res["engine_vs_pytorch_restored_max_abs_diff"] = float(np.abs(yr_t - yr).max())
        xr_t = output_to_u8(yr_t, lo, hi)
        res["pytorch_restored_u8_pixels_differing"] = int((xr_t != xr).sum())
        tacc = {}
        for k, im in (("clean", x), ("degraded", xd), ("restored", xr_t)):
            if k == "clean" and a.no_clean:
                continue
            s = run_torch(clf, E.preprocess_u8(im, cmeta), a.batch)
            tacc[k] = float((s.argmax(1) == y).mean())
            res.setdefault("engine_vs_pytorch_top1_disagreements", {})[k] = int((s.argmax(1) != preds[k]).sum())
            print("pytorch %-9s top-1 %.4f" % (k, tacc[k]), flush=True)
        res["pytorch_top1"] = tacc
        res["psnr_db"]["restored_pytorch"] = psnr_u8(xr_t, x)
        res["pytorch_gain_points"] = 100 * (tacc["restored"] - tacc["degraded"])
    res["target"] = "restored >= degraded + 5 points (engine)"
    res["target_met"] = bool(res["engine_gain_points"] >= 5.0)
    print("PSNR degraded %.2f dB, restored %.2f dB; engine gain %+.2f points: target %s" % (
        res["psnr_db"]["degraded"], res["psnr_db"]["restored_engine"], res["engine_gain_points"],
        "MET" if res["target_met"] else "NOT met"), flush=True)
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2, sort_keys=True)
        print("wrote", a.json)


if __name__ == "__main__":
    main()
