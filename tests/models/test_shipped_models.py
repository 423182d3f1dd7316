#!/usr/bin/python3
"""The models we ship (models/*/*.onnx) run through imgrec-run on committed fixed inputs and must
reproduce the outputs PyTorch computed for the same weights at export time
(tests/models/data/<model>/input_*.npy -> output_*.npy, written by
`tools/export_onnx.py --test-vectors tests/models/data`), within |got - want| <= 1e-4 * |want| + 1e-4
and with the same arg-max. The inputs are synthetic (noise, gradients, shapes; random frames and
latents), so no data set is needed. Also checks that `imgrec-run --info` shows the model's
metadata_props keys (labels, pre-processing, kind, state mapping), opset 13, and that every file is
at most 5 MB.

The sequence step model is stepped over 7 frames from a zero state, feeding h_out/c_out back as
h_in/c_in (its imgrec.state-map), one imgrec-run call per frame.

Usage: /usr/bin/python3 tests/models/test_shipped_models.py [IMGREC_RUN]
"""
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools"))
import engine_run as E  # noqa: E402

DATA = os.path.join(HERE, "data")
MODELS = os.path.join(REPO, "models")
RTOL = ATOL = 1e-4
MAX_BYTES = 5 * 1024 * 1024

PRE = ["imgrec.kind", "imgrec.labels", "imgrec.mean", "imgrec.std", "imgrec.scale", "imgrec.color-order",
       "imgrec.resize", "imgrec.input-layout"]
# (onnx file, test-vector dir, kind, required metadata keys, number of labels)
SHIPPED = [
    ("traffic-signs/traffic-signs.onnx", "traffic-signs", "classifier", PRE, 43),
    ("seed-cnn-cifar10/seed-cnn-cifar10.onnx", "seed-cnn-cifar10", "classifier", PRE, 10),
    ("objects-cifar10/objects-cifar10.onnx", "objects-cifar10", "classifier", PRE, 10),
    ("traffic-signs-seq/traffic-signs-seq.onnx", "traffic-signs-seq", "sequence-step",
     PRE + ["imgrec.state-map"], 43),
    ("traffic-signs-gan/generator.onnx", "traffic-signs-gan-generator", "gan-generator",
     ["imgrec.kind", "imgrec.labels", "imgrec.latent-dim", "imgrec.num-classes", "imgrec.output-range",
      "imgrec.color-order", "imgrec.input-layout", "imgrec.class-input"], 43),
    ("traffic-signs-gan/discriminator.onnx", "traffic-signs-gan-discriminator", "gan-discriminator", PRE, 43),
    # image-to-image restoration generator (imgrecgan mode=generate): no labels; 4 synthetic images
    # clean + the same 4 degraded with a fixed seed (tools/export_restore.py)
    ("traffic-signs-restore/traffic-signs-restore.onnx", "traffic-signs-restore", "gan-image-to-image",
     [k for k in PRE if k != "imgrec.labels"] + ["imgrec.output-range"], 0),
    # one-class detector (imgrecdetect): YOLOv8 layout [1,5,4800] on a procedural road
    ("traffic-sign-detector/traffic-sign-detector.onnx", "traffic-sign-detector", "detector",
     ["imgrec.kind", "imgrec.labels", "imgrec.detector", "imgrec.resize", "imgrec.scale",
      "imgrec.detector-box", "imgrec.detector-units"], 1),
]

results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print("%s %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail else ""), flush=True)


def close(name, got, want):
    if got.shape != want.shape:
        check(name, False, "shape %s, expected %s" % (got.shape, want.shape))
        return
    err = np.abs(got.astype(np.float64) - want)
    bad = err > ATOL + RTOL * np.abs(want)
    detail = "max |diff| %.2e over %d values" % (err.max(), want.size)
    if want.ndim == 2 and want.shape[1] > 1:
        # arg-max must agree wherever the expected top-1 leads the runner-up by a clear margin
        top2 = np.sort(want, 1)[:, -2:]
        clear = (top2[:, 1] - top2[:, 0]) > 1e-3 + 10 * (ATOL + RTOL * np.abs(top2[:, 1]))
        same = (got.argmax(1) == want.argmax(1))[clear].all()
        detail += ", arg-max %s on %d of %d rows" % ("equal" if same else "DIFFERS", clear.sum(), len(want))
        bad = bad.any() or not same
    else:
        bad = bad.any()
    check(name, not bad, detail)


def inputs_of(vdir):
    """input_NAME.npy as stored; input_NAME.u8.npy holds 8-bit pixels (a 640x384 frame is
    4x smaller so), fed as pixel / 255 like the model's imgrec.scale says."""
    out = {}
    for f in sorted(os.listdir(vdir)):
        if f.startswith("input_") and f.endswith(".u8.npy"):
            out[f[len("input_"):-len(".u8.npy")]] = np.load(os.path.join(vdir, f)).astype(np.float32) / 255.0
        elif f.startswith("input_") and f.endswith(".npy"):
            out[f[len("input_"):-4]] = np.load(os.path.join(vdir, f))
    return out


def outputs_of(vdir):
    return {f[len("output_"):-4]: np.load(os.path.join(vdir, f)) for f in sorted(os.listdir(vdir))
            if f.startswith("output_") and f.endswith(".npy")}


def check_info(rel, path, kind, keys, nlabels, exe):
    try:
        text = E.info(path, exe)
    except RuntimeError as e:
        check(rel + " --info", False, str(e))
        return
    meta_lines = text.split("metadata_props:", 1)[1] if "metadata_props:" in text else ""
    shown = {ln.strip().split(":", 1)[0] for ln in meta_lines.splitlines() if ln.startswith("  ") and
             not ln.startswith("    ") and ":" in ln}
    missing = [k for k in keys if k not in shown]
    check(rel + " --info shows metadata keys", not missing, "missing %s" % missing if missing else
          "%d keys" % len(keys))
    check(rel + " --info opset 13", "opset: 13" in text)
    meta = E.metadata(path)
    check(rel + " imgrec.kind", meta.get("imgrec.kind") == kind, repr(meta.get("imgrec.kind")))
    if nlabels:
        labels = meta.get("imgrec.labels", "").split("\n")
        check(rel + " labels", len(labels) == nlabels and all(labels), "%d labels" % len(labels))
    if "imgrec.mean" in keys:
        ok = len(meta["imgrec.mean"].split(",")) == 3 and len(meta["imgrec.std"].split(",")) == 3
        check(rel + " mean/std", ok, "%s / %s" % (meta["imgrec.mean"], meta["imgrec.std"]))
    if "imgrec.state-map" in keys:
        pairs = [p.split(":") for p in meta["imgrec.state-map"].split(",")]
        ok = all(len(p) == 2 and ("  %s:" % p[0]) in text and ("  %s:" % p[1]) in text for p in pairs)
        check(rel + " state-map names exist", ok, meta["imgrec.state-map"])


def run_seq(rel, path, vdir, exe, work):
    meta = E.metadata(path)
    smap = [p.split(":") for p in meta["imgrec.state-map"].split(",")]
    frames = np.load(os.path.join(vdir, "input_frames.npy"))
    want = outputs_of(vdir)
    eng = E.Engine(path, exe, threads=1, workdir=work)
    shapes = {}
    for ln in E.info(path, exe).splitlines():
        t = ln.strip()
        for si, _ in smap:
            if t.startswith(si + ":") and "[" in t:
                shapes[si] = tuple(int(v) for v in t[t.index("[") + 1:t.index("]")].split(","))
    state = {si: np.zeros(shapes[si], np.float32) for si, _ in smap}
    scores = []
    try:
        for t in range(len(frames)):
            o = eng.run(dict(frame=frames[t:t + 1], **state), ["scores"] + [so for _, so in smap])
            scores.append(o["scores"][0])
            state = {si: o[so] for si, so in smap}
    except RuntimeError as e:
        check(rel + " run", False, str(e))
        return
    close(rel + " scores over %d steps" % len(frames), np.stack(scores), want["scores_per_step"])
    if "h_final" in want:
        close(rel + " final h", state[smap[0][0]], want["h_final"])
    if "c_final" in want:
        close(rel + " final c", state[smap[1][0]], want["c_final"])


def main():
    exe = sys.argv[1] if len(sys.argv) > 1 else None
    try:
        exe = E.find_imgrec_run(exe)
    except SystemExit as e:
        print("FAIL:", e)
        return 1
    with tempfile.TemporaryDirectory(prefix="imgrec-shipped-") as work:
        for rel, vname, kind, keys, nlabels in SHIPPED:
            path = os.path.join(MODELS, rel)
            if not os.path.exists(path):
                check(rel + " exists", False)
                continue
            size = os.path.getsize(path)
            check(rel + " size <= 5 MB", size <= MAX_BYTES, "%.2f MB" % (size / 1e6))
            check_info(rel, path, kind, keys, nlabels, exe)
            vdir = os.path.join(DATA, vname)
            if not os.path.isdir(vdir):
                check(rel + " test vectors", False, "no " + vdir)
                continue
            if kind == "sequence-step":
                run_seq(rel, path, vdir, exe, os.path.join(work, vname))
                continue
            eng = E.Engine(path, exe, threads=2, workdir=os.path.join(work, vname))
            want = outputs_of(vdir)
            try:
                got = eng.run(inputs_of(vdir), list(want))
            except RuntimeError as e:
                check(rel + " run", False, str(e))
                continue
            for k in want:
                close("%s output %s" % (rel, k), got[k], want[k])
    print("%d passed, %d failed" % (results["passed"], results["failed"]))
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
