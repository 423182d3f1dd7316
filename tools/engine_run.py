"""Run ONNX models through imgrec's engine (the imgrec-run CLI) from Python.

Shared by tools/eval_*.py, tools/classify_image.py and tests/models/test_shipped_models.py.
Only numpy and the standard library are needed (no torch, no onnx): inputs are written as .npy
files, `imgrec-run MODEL --input NAME=FILE.npy ... --output-dir DIR` runs them, and the outputs
(DIR/<sanitised output name>.npy, float32) are read back.
"""
import os
import re
import shutil
import subprocess
import tempfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_imgrec_run(explicit=None):
    """explicit path, else $IMGREC_RUN, else <repo>/build/engine/imgrec-run."""
    for p in (explicit, os.environ.get("IMGREC_RUN"), os.path.join(REPO, "build", "engine", "imgrec-run")):
        if p and os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    raise SystemExit("imgrec-run not found (build it: meson setup build && meson compile -C build, "
                     "or pass --imgrec-run PATH / set IMGREC_RUN)")


def sanitize(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


class Engine:
    """One ONNX model run through imgrec-run; each call is one process (load + run)."""

    def __init__(self, model, imgrec_run=None, threads=None, workdir=None):
        self.model = model
        self.exe = find_imgrec_run(imgrec_run)
        self.threads = threads
        self._own = workdir is None
        self.work = workdir or tempfile.mkdtemp(prefix="imgrec-eval-")
        os.makedirs(self.work, exist_ok=True)
        self.calls = 0

    def close(self):
        if self._own:
            shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def run(self, inputs, outputs):
        """inputs: {name: array}; outputs: list of output names -> {name: float32 array}."""
        args = [self.exe, self.model]
        for k, v in inputs.items():
            p = os.path.join(self.work, "in_%s.npy" % sanitize(k))
            np.save(p, np.ascontiguousarray(v))
            args += ["--input", "%s=%s" % (k, p)]
        od = os.path.join(self.work, "out")
        if os.path.isdir(od):
            shutil.rmtree(od)
        os.makedirs(od)
        args += ["--output-dir", od]
        if self.threads:
            args += ["--threads", str(self.threads)]
        r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.calls += 1
        if r.returncode != 0:
            raise RuntimeError("imgrec-run failed (%d): %s" % (r.returncode, r.stderr.strip()))
        return {k: np.load(os.path.join(od, sanitize(k) + ".npy")) for k in outputs}

    def run_batched(self, name, x, output, batch=500, extra=None):
        """Feed x [N,...] in batches of `batch` along dim 0 to input `name`; concatenate `output`."""
        outs = []
        for i in range(0, len(x), batch):
            inp = {name: x[i:i + batch].astype(np.float32)}
            if extra:
                inp.update({k: v[i:i + batch] for k, v in extra.items()})
            outs.append(self.run(inp, [output])[output])
        return np.concatenate(outs)


def info(model, imgrec_run=None):
    """stdout of imgrec-run MODEL --info."""
    r = subprocess.run([find_imgrec_run(imgrec_run), model, "--info"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("imgrec-run --info failed: %s" % r.stderr.strip())
    return r.stdout


def metadata(model):
    """metadata_props of an ONNX file as a dict, read with a minimal protobuf walk (no onnx package
    needed): ModelProto field 14 = repeated StringStringEntryProto {1: key, 2: value}."""
    with open(model, "rb") as f:
        buf = f.read()

    def varint(b, i):
        s = r = 0
        while True:
            c = b[i]
            i += 1
            r |= (c & 0x7F) << s
            s += 7
            if c < 0x80:
                return r, i

    def fields(b):
        i = 0
        while i < len(b):
            key, i = varint(b, i)
            fn, wt = key >> 3, key & 7
            if wt == 0:
                v, i = varint(b, i)
            elif wt == 1:
                v, i = b[i:i + 8], i + 8
            elif wt == 5:
                v, i = b[i:i + 4], i + 4
            elif wt == 2:
                n, i = varint(b, i)
                v, i = b[i:i + n], i + n
            else:
                raise ValueError("unsupported wire type %d in %s" % (wt, model))
            yield fn, wt, v

    meta = {}
    for fn, wt, v in fields(buf):
        if fn == 14 and wt == 2:
            kv = dict((f, val) for f, w, val in fields(v) if w == 2)
            meta[kv.get(1, b"").decode("utf-8")] = kv.get(2, b"").decode("utf-8")
    return meta


def preprocess_params(meta):
    """(scale, mean[3], std[3]) from imgrec metadata_props."""
    scale = float(meta.get("imgrec.scale", 1.0 / 255.0))
    mean = np.array([float(v) for v in meta["imgrec.mean"].split(",")], np.float32)
    std = np.array([float(v) for v in meta["imgrec.std"].split(",")], np.float32)
    return scale, mean, std


def preprocess_u8(x_nhwc_u8, meta):
    """uint8 [N,H,W,3] RGB -> float32 NCHW (pixel*scale - mean)/std as the model's metadata says."""
    scale, mean, std = preprocess_params(meta)
    inv = 1.0 / scale
    if abs(inv - round(inv)) < 1e-6:   # 1/255: divide, as the training code does (bit-identical inputs)
        x = x_nhwc_u8.astype(np.float32) / np.float32(round(inv))
    else:
        x = x_nhwc_u8.astype(np.float32) * np.float32(scale)
    if meta.get("imgrec.color-order", "RGB").upper() == "BGR":
        x = x[..., ::-1]
    x = (x - mean) / std
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=np.float32)


def softmax(s, axis=-1):
    s = s - s.max(axis=axis, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=axis, keepdims=True)
