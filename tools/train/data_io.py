"""Data loading shared by the training scripts, the evaluation tools and the tests.

Needs only numpy and PIL (python3-numpy, python3-pil), not torch, so that
tests and evaluation tools that read the data sets run on a machine without
PyTorch.  ``common`` re-exports everything here for the training scripts.
"""
import csv
import io
import os
import time

import numpy as np


def _process_start():
    """Wall-clock time at which this process started (so budgets include interpreter/torch import)."""
    try:
        with open("/proc/self/stat") as f:
            st = f.read().rsplit(")", 1)[1].split()
        start_ticks = float(st[19])
        with open("/proc/uptime") as f:
            up = float(f.read().split()[0])
        age = up - start_ticks / os.sysconf("SC_CLK_TCK")
        if 0 <= age < 600:
            return time.time() - age
    except Exception:
        pass
    return time.time()


T_START = _process_start()

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Track split shared by traffic_signs.py and traffic_signs_seq.py so that the
# held-out tracks of the sequence model are also unseen by the per-frame CNN.
TRACK_VAL_FRAC = 0.15
TRACK_SPLIT_SEED = 1234


def log(*a):
    msg = "[%7.1fs] " % (time.time() - T_START) + " ".join(str(x) for x in a)
    print(msg, flush=True)


def default_data_dir():
    d = os.path.join(REPO, ".data")
    if os.path.isdir(d):
        return d
    return os.path.normpath(os.path.join(REPO, "..", "shared", "data"))


# --------------------------------------------------------------------------- data

def decode_jpeg_npz(path, limit=0, indices=None):
    """Decode a *-jpeg.npz into uint8 [N,32,32,3]; returns (images, npz dict of the other arrays)."""
    from PIL import Image
    t0 = time.time()
    d = np.load(path)
    jpeg = d["jpeg"]
    off = d["offsets"]
    n = len(off) - 1
    if indices is None:
        if limit and limit < n:   # random (fixed-seed) subset: some files are sorted by class
            indices = np.sort(np.random.RandomState(0).choice(n, limit, replace=False))
        else:
            indices = np.arange(n)
    out = np.empty((len(indices), 32, 32, 3), np.uint8)
    cache = None
    if len(indices) == n:
        cache = os.path.join(REPO, ".cache", "decoded-" + os.path.basename(os.path.dirname(path)) + "-"
                             + os.path.basename(path).replace(".npz", "") + "-%d.npy" % os.path.getsize(path))
    if cache and os.path.exists(cache):
        out = np.load(cache)
    else:
        def work(lo, hi):
            for j in range(lo, hi):
                i = indices[j]
                im = Image.open(io.BytesIO(jpeg[off[i]:off[i + 1]].tobytes())).convert("RGB")
                if im.size != (32, 32):
                    im = im.resize((32, 32), Image.BILINEAR)
                out[j] = np.asarray(im)
        nthr = min(16, os.cpu_count() or 1)
        if nthr > 2 and len(indices) > 4000:
            from concurrent.futures import ThreadPoolExecutor
            ch = (len(indices) + nthr * 4 - 1) // (nthr * 4)
            with ThreadPoolExecutor(nthr) as ex:
                list(ex.map(lambda lo: work(lo, min(len(indices), lo + ch)), range(0, len(indices), ch)))
        else:
            work(0, len(indices))
        if cache:
            try:
                os.makedirs(os.path.dirname(cache), exist_ok=True)
                np.save(cache + ".tmp.npy", out)
                os.replace(cache + ".tmp.npy", cache)
            except OSError:
                pass
    meta = {k: d[k] for k in d.files if k not in ("jpeg", "offsets")}
    for k in list(meta):
        if meta[k].ndim >= 1 and meta[k].shape[0] == n:
            meta[k] = meta[k][indices]
    log("decoded %d images from %s in %.1fs" % (len(out), path, time.time() - t0))
    return out, meta


def load_gtsrb_train(data_dir, limit=0):
    p = os.path.join(data_dir, "gtsrb", "train-jpeg.npz")
    idx = None
    if limit:
        # keep whole tracks: take tracks spread over the set until `limit` images
        d = np.load(p)
        tr = d["track"]
        rng = np.random.RandomState(0)
        ut = np.unique(tr)
        rng.shuffle(ut)
        keep, tot = [], 0
        counts = np.bincount(tr)
        for t in ut:
            keep.append(t)
            tot += counts[t]
            if tot >= limit:
                break
        idx = np.nonzero(np.isin(tr, np.array(keep)))[0]
    x, meta = decode_jpeg_npz(p, indices=idx)
    return x, meta["labels"].astype(np.int64), meta["track"].astype(np.int64), meta["frame"].astype(np.int64)


def find_data(data_dir, rel):
    """data_dir/rel, else ../shared/data/rel (e.g. .data/ holds only the training files), else None."""
    for d in (data_dir, os.path.normpath(os.path.join(REPO, "..", "shared", "data"))):
        p = os.path.join(d, rel)
        if os.path.exists(p):
            return p
    return None


def load_gtsrb_test(data_dir):
    p = find_data(data_dir, os.path.join("gtsrb", "test.npz"))
    if p is None:
        return None, None
    d = np.load(p)
    return d["images"], d["labels"].astype(np.int64)


def gtsrb_names(data_dir):
    p = find_data(data_dir, os.path.join("gtsrb", "signnames.csv"))
    with open(p, newline="") as f:
        rows = list(csv.reader(f))
    return [r[1] for r in rows[1:]]


def load_cifar(data_dir, split, limit=0):
    p = find_data(data_dir, os.path.join("cifar10", "%s-jpeg.npz" % split))
    if p is None:
        return None, None, None
    x, meta = decode_jpeg_npz(p, limit=limit)
    return x, meta["labels"].astype(np.int64), [str(c) for c in meta["classes"]]


def track_split(tracks, frac=TRACK_VAL_FRAC, seed=TRACK_SPLIT_SEED):
    """Boolean mask (is validation) holding out `frac` of the track ids."""
    ut = np.unique(tracks)
    rng = np.random.RandomState(seed)
    perm = rng.permutation(len(ut))
    nval = max(1, int(round(frac * len(ut))))
    val_tracks = ut[perm[:nval]]
    return np.isin(tracks, val_tracks)


