#!/usr/bin/python3
"""Score a shipped classifier ONNX file through imgrec's engine (imgrec-run) on its test set.

  traffic-signs     -> official GTSRB test set (12,630 images, <data>/gtsrb/test.npz)
  seed-cnn-cifar10  -> CIFAR-10 test set (10,000 images, <data>/cifar10/test-jpeg.npz)
  objects-cifar10   -> CIFAR-10 test set, plus Debian darknet's dog.jpg / horses.jpg / eagle.jpg

Images are pre-processed exactly as the model's metadata_props say (RGB, pixel/255, minus mean,
divided by std, NCHW), written as .npy in batches (--batch, default 500; the batch dim is dynamic)
and run with `imgrec-run MODEL --input input=BATCH.npy --output-dir DIR`. The engine's top-1 is
printed beside PyTorch's top-1 of the same weights: from models/<name>/metrics.json (written by
tools/export_onnx.py on CPU) and, when the training run's weights are found (--runs), also computed
here image by image so that disagreements between engine and PyTorch are counted.

Usage: /usr/bin/python3 tools/eval_classifier.py [--model traffic-signs,objects-cifar10,seed-cnn-cifar10]
           [--data-dir ../shared/data] [--runs ../runs] [--limit N] [--json models/{model}/eval-engine.json]
Exits 77 (skip) when the data set is absent.
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

CIFAR_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
DARKNET = [("/usr/share/darknet/data/dog.jpg", "dog"), ("/usr/share/darknet/data/horses.jpg", "horse"),
           ("/usr/share/darknet/data/eagle.jpg", "bird")]
MODELS = ["traffic-signs", "seed-cnn-cifar10", "objects-cifar10"]


def default_data_dir():
    return os.path.join(os.path.dirname(REPO), "shared", "data")


def find_data(data_dir, rel):
    """data_dir/rel, else <repo>/.data/rel, else ../shared/data/rel, else None."""
    for d in (data_dir, os.path.join(REPO, ".data"), os.path.join(os.path.dirname(REPO), "shared", "data")):
        if d and os.path.exists(os.path.join(d, rel)):
            return os.path.join(d, rel)
    return None


def load_test(name, data_dir, limit):
    sys.path.insert(0, os.path.join(HERE, "train"))
    if name == "traffic-signs":
        p = find_data(data_dir, "gtsrb/test.npz")
        if p is None:
            return None, None
        d = np.load(p)
        x, y = d["images"], d["labels"].astype(np.int64)
    else:
        p = find_data(data_dir, "cifar10/test-jpeg.npz")
        if p is None:
            return None, None
        import data_io as C   # JPEG decoding (PIL) shared with training
        x, meta = C.decode_jpeg_npz(p)
        y = meta["labels"].astype(np.int64)
    if limit and limit < len(y):
        sel = np.sort(np.random.RandomState(0).choice(len(y), limit, replace=False))
        x, y = x[sel], y[sel]
    return x, y


def torch_scores(name, runs, x_nchw, batch=500):
    """PyTorch logits of the training run's weights on the same pre-processed inputs (or None)."""
    w = os.path.join(runs, name, "weights.npz") if runs else ""
    if not w or not os.path.exists(w):
        return None
    try:
        import torch
    except ImportError:
        return None
    sys.path.insert(0, os.path.join(HERE, "train"))
    import common as C
    mod = __import__(name.replace("-", "_"))
    hp = {}
    mp = os.path.join(runs, name, "metrics.json")
    if name != "traffic-signs" and os.path.exists(mp):
        with open(mp) as f:
            hp = json.load(f)
    torch.set_num_threads(2)
    m = mod.build(hp)
    C.load_npz_into(m, w)
    # Mirror what the export did (tools/export_onnx.py writes flip_tta into
    # the shipped metrics.json when the graph averages the mirrored view).
    shipped = os.path.join(REPO, "models", name, "metrics.json")
    if os.path.exists(shipped):
        with open(shipped) as f:
            if json.load(f).get("flip_tta"):
                sys.path.insert(0, os.path.join(HERE))
                from export_onnx import FlipAverage
                m = FlipAverage(m)
    m.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x_nchw), batch):
            out.append(m(torch.from_numpy(x_nchw[i:i + batch])).numpy())
    return np.concatenate(out)


def darknet_photos(eng, meta):
    from PIL import Image
    res = {}
    for p, want in DARKNET:
        if not os.path.exists(p):
            continue
        im = np.asarray(Image.open(p).convert("RGB").resize((32, 32), Image.BILINEAR))
        s = eng.run({"input": E.preprocess_u8(im[None], meta)}, ["scores"])["scores"]
        pr = E.softmax(s)[0]
        order = np.argsort(-pr)
        res[os.path.basename(p)] = {"expected": want, "predicted": CIFAR_NAMES[order[0]], "prob": float(pr[order[0]]),
                                    "top3": [(CIFAR_NAMES[k], round(float(pr[k]), 4)) for k in order[:3]]}
    return res


def evaluate(name, a):
    onnx_path = os.path.join(a.models_dir, name, name + ".onnx")
    if not os.path.exists(onnx_path):
        print("%s: no %s" % (name, onnx_path))
        return None
    meta = E.metadata(onnx_path)
    x_u8, y = load_test(name, a.data_dir, a.limit)
    res = {"model": name, "onnx": os.path.relpath(onnx_path, REPO)}
    em = {}
    mp = os.path.join(a.models_dir, name, "metrics.json")
    if os.path.exists(mp):
        with open(mp) as f:
            em = json.load(f)
    with E.Engine(onnx_path, a.imgrec_run, threads=a.threads) as eng:
        if x_u8 is not None:
            x = E.preprocess_u8(x_u8, meta)
            t0 = time.time()
            s = eng.run_batched("input", x, "scores", batch=a.batch)
            dt = time.time() - t0
            pred = s.argmax(1)
            acc = float((pred == y).mean())
            res.update({"test_images": int(len(y)), "engine_top1": acc, "engine_correct": int((pred == y).sum()),
                        "engine_seconds": round(dt, 2), "engine_images_per_s": round(len(y) / dt, 1),
                        "imgrec_run_calls": eng.calls, "batch": a.batch})
            line = "%-17s engine top-1 %.4f (%d/%d) in %.1fs (%d imgrec-run calls of %d)" % (
                name, acc, (pred == y).sum(), len(y), dt, eng.calls, a.batch)
            print(line, flush=True)
            if "pytorch_test_acc" in em and em.get("test_images") == len(y):
                res["pytorch_top1_metrics_json"] = em["pytorch_test_acc"]
            tr = (em.get("training") or {}).get("test_acc")
            if tr is not None and not a.limit:
                res["pytorch_top1_training_gpu"] = tr
            ts = None if a.no_torch else torch_scores(name, a.runs, x)
            if ts is not None:
                tp = ts.argmax(1)
                res["pytorch_top1"] = float((tp == y).mean())
                res["engine_vs_pytorch_argmax_disagreements"] = int((tp != pred).sum())
                res["engine_vs_pytorch_max_abs_logit_diff"] = float(np.abs(ts - s).max())
            print("%-17s PyTorch top-1: %s%s%s" % (
                "", "%.4f (here, CPU) " % res["pytorch_top1"] if "pytorch_top1" in res else "",
                "%.4f (export, CPU) " % res["pytorch_top1_metrics_json"] if "pytorch_top1_metrics_json" in res else "",
                "%.4f (training, GPU bf16)" % res["pytorch_top1_training_gpu"] if "pytorch_top1_training_gpu" in res
                else ""), flush=True)
            if "engine_vs_pytorch_argmax_disagreements" in res:
                print("%-17s engine vs PyTorch: %d of %d top-1 differ, max |logit diff| %.2e" % (
                    "", res["engine_vs_pytorch_argmax_disagreements"], len(y),
                    res["engine_vs_pytorch_max_abs_logit_diff"]), flush=True)
        else:
            print("%s: test set not found under %s" % (name, a.data_dir))
        if name == "objects-cifar10":
            try:
                ph = darknet_photos(eng, meta)
            except ImportError:
                ph = {}
            if ph:
                res["darknet_photos"] = ph
                for k, v in ph.items():
                    print("%-17s %-11s -> %-10s p=%.3f (expected %s) top-3 %s" % (
                        "", k, v["predicted"], v["prob"], v["expected"], v["top3"]), flush=True)
            else:
                print("  darknet photos absent (apt-get install darknet)")
    return res


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=",".join(MODELS))
    p.add_argument("--models-dir", default=os.path.join(REPO, "models"))
    p.add_argument("--data-dir", default=default_data_dir())
    p.add_argument("--runs", default=os.path.join(os.path.dirname(REPO), "runs"),
                   help="training runs (<model>/weights.npz) for the per-image PyTorch comparison")
    p.add_argument("--no-torch", action="store_true", help="do not recompute PyTorch scores here")
    p.add_argument("--imgrec-run", default=None)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--limit", type=int, default=0, help="random (seed 0) subset of N test images")
    p.add_argument("--json", default="", help="write the results here; a path with {model} writes one file per model")
    a = p.parse_args()
    out = {}
    for name in [m.strip() for m in a.model.split(",") if m.strip()]:
        r = evaluate(name, a)
        if r is not None:
            out[name] = r
    if a.json and "{model}" in a.json:
        for name, r in out.items():
            with open(a.json.replace("{model}", name), "w") as f:
                json.dump(r, f, indent=2, sort_keys=True)
    elif a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2, sort_keys=True)
    if not any("engine_top1" in r for r in out.values()):
        sys.exit(77)


if __name__ == "__main__":
    main()
