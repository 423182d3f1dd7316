#!/usr/bin/python3
"""Real models: imgrec must match ONNX Runtime (and PyTorch for the models it exported).

For each model exported by tools/export_reference_models.py (ResNet-18, MobileNetV2,
SqueezeNet 1.1, LSTM and GRU sequence classifiers, DCGAN generator) and each real third-party
ONNX file in ../shared/models/, runs build/engine/imgrec-run (1 and 2 threads) and ONNX Runtime
(bench/ort_run.js) on the same input and checks, per output:
  max |imgrec - ort| <= 1e-4 * max |ort|        and identical top-1 for classifiers;
and, for the exported models, the same against PyTorch's own output.
For the float16 SqueezeNet ONNX Runtime computes (and rounds its output) in float16 while imgrec
computes in float32, so it is held to float16 precision: 1e-2 * max |ort|; its float32 output is
also compared with imgrec's result for the float32 file.

Skips (prints "SKIP: reason", exit status 77) when ONNX Runtime is not installed in .cache/ort
(bash bench/install_ort.sh), when node or PyTorch is
missing, or when ../shared is absent (a user's fresh machine has none of them).

Usage: /usr/bin/python3 tests/models/compare_with_ort.py [IMGREC_RUN] [--work DIR] [--keep]
  IMGREC_RUN  defaults to build/engine/imgrec-run
  --work DIR  where the exported models are cached (re-exported when the exporter changes)
              and outputs written; default: a temporary folder
Prints one PASS/FAIL line per check and "N passed, N failed" at the end.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("IMGREC_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
ORT_DIR = os.environ.get("IMGREC_ORT_DIR", os.path.join(REPO, ".cache", "ort", "node_modules"))
ORT_RUN = os.path.join(REPO, "bench", "ort_run.js")
EXPORTER = os.path.join(REPO, "tools", "export_reference_models.py")
DOG = "/usr/share/darknet/data/dog.jpg"
REL_TOL = 1e-4
FP16_REL_TOL = 1e-2

results = {"passed": 0, "failed": 0}


def check(name, ok, detail):
    results["passed" if ok else "failed"] += 1
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)


def skip(reason):
    print(f"SKIP: {reason}", flush=True)
    sys.exit(77)


def sanitize(name):
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


def run_tool(cmd, timeout=600):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        msg = (p.stderr.strip().splitlines() or [f"exit status {p.returncode}"])[-1]
        if p.returncode < 0:
            msg = f"killed by signal {-p.returncode}: {msg}"
        return msg
    return None


def run_engine(cmd_prefix, model, inputs, out_dir, extra=()):
    os.makedirs(out_dir, exist_ok=True)
    cmd = [*cmd_prefix, model]
    for name, path in inputs.items():
        cmd += ["--input", f"{name}={path}"]
    cmd += ["--output-dir", out_dir, *extra]
    return run_tool(cmd)


def compare(label, got, ref, tol, classifier):
    if got.shape != ref.shape and got.size == ref.size:
        got = got.reshape(ref.shape)
    if got.shape != ref.shape:
        check(label, False, f"shape {got.shape} != reference {ref.shape}")
        return None
    scale = float(np.abs(ref).max()) or 1.0
    err = float(np.abs(got.astype(np.float64) - ref).max())
    rel = err / scale
    ok = bool(np.isfinite(got).all()) and rel <= tol
    detail = f"max|d|={err:.3g} max|ref|={scale:.3g} rel={rel:.2e} (tol {tol:g})"
    if classifier:
        g, r = got.reshape(got.shape[0], -1), ref.reshape(ref.shape[0], -1)
        top_g, top_r = g.argmax(1), r.argmax(1)
        srt = np.sort(r, axis=1)
        margin = float((srt[:, -1] - srt[:, -2]).min()) / scale
        same = bool((top_g == top_r).all())
        ok = ok and same
        detail += f" top1={top_g.tolist()} ref_top1={top_r.tolist()} {'same' if same else 'DIFFERENT'}" \
                  f" (ref margin {margin:.2e})"
    check(label, ok, detail)
    return rel


def ensure_exported(models_dir):
    index = os.path.join(models_dir, "models.json")
    if os.path.exists(index) and os.path.getmtime(index) >= os.path.getmtime(EXPORTER):
        with open(index) as f:
            return json.load(f)
    print(f"exporting reference models into {models_dir} ...", flush=True)
    p = subprocess.run([sys.executable, EXPORTER, "--out", models_dir], capture_output=True, text=True,
                       timeout=900)
    if p.returncode != 0:
        check("export reference models", False, p.stderr.strip()[-2000:])
        return []
    with open(index) as f:
        return json.load(f)


def shared_models(inputs_dir):
    """The third-party models with a deterministic input each: (name, path, inputs, classifier, fp16)."""
    rng = np.random.default_rng(7)
    sq = os.path.join(SHARED, "models", "imagenet-squeezenet1.0")
    tp = os.path.join(SHARED, "models", "third-party")
    # SqueezeNet 1.0: BGR 0-255 minus mean; a real photo when darknet's is installed, else noise.
    if os.path.exists(DOG):
        from PIL import Image
        img = np.asarray(Image.open(DOG).convert("RGB").resize((224, 224), Image.BILINEAR), np.float32)
        bgr = img[:, :, ::-1] - np.array([104, 117, 123], np.float32)
        x = np.ascontiguousarray(bgr.transpose(2, 0, 1)[None])
    else:
        x = rng.uniform(-120, 130, (1, 3, 224, 224)).astype(np.float32)
    np.save(os.path.join(inputs_dir, "squeezenet1.0.input.npy"), x)
    np.save(os.path.join(inputs_dir, "squeezenet1.0.input16.npy"), x.astype(np.float16))
    # MNIST (CNTK): 28x28 grey 0-255, a drawn "7".
    d = np.zeros((28, 28), np.float32)
    d[6:9, 6:22] = 255
    for r in range(9, 24):
        c = 21 - (r - 9) * 9 // 15
        d[r, c - 1:c + 2] = 255
    np.save(os.path.join(inputs_dir, "mnist.input.npy"), d[None, None])
    # CIFAR-10 (PyTorch, opset 10): (x/255 - 0.5)/0.5, batch of 2 (dynamic batch).
    c = ((rng.integers(0, 256, (2, 3, 32, 32)).astype(np.float32) / 255) - 0.5) / 0.5
    np.save(os.path.join(inputs_dir, "cifar10.input.npy"), c.astype(np.float32))
    j = lambda n: os.path.join(inputs_dir, n)  # noqa: E731
    return [
        ("squeezenet1.0-fp32", os.path.join(sq, "squeezenet1.0-fp32.onnx"),
         {"data_0": j("squeezenet1.0.input.npy")}, True, False),
        ("squeezenet1.0-fp16", os.path.join(sq, "squeezenet1.0-fp16.onnx"),
         {"data_0": j("squeezenet1.0.input16.npy")}, True, True),
        ("mnist-cntk-opset7", os.path.join(tp, "mnist-cntk-opset7.onnx"),
         {"Input3": j("mnist.input.npy")}, True, False),
        ("cifar10-pytorch-opset10", os.path.join(tp, "cifar10-pytorch-opset10.onnx"),
         {"modelInput": j("cifar10.input.npy")}, True, False),
    ]


def output_names(imgrec, model):
    p = subprocess.run([imgrec, model, "--info"], capture_output=True, text=True, timeout=120)
    names, section = [], None
    for line in p.stdout.splitlines():
        if line.strip() in ("inputs:", "outputs:"):
            section = line.strip()
        elif line.startswith("  ") and section == "outputs:":
            names.append(line.strip().split(":")[0])
        elif not line.startswith("  "):
            section = None
    return names


def check_model(imgrec, node, name, model, inputs, classifier, out_root, torch_ref=None, tol=REL_TOL):
    ort_dir = os.path.join(out_root, name, "ort")
    err = run_engine([node, ORT_RUN], model, inputs, ort_dir)
    if err:
        check(f"{name} onnxruntime", False, err)
        return {}
    summary = {}
    for threads in (1, 2):
        out_dir = os.path.join(out_root, name, f"imgrec-t{threads}")
        err = run_engine([imgrec], model, inputs, out_dir, ["--threads", str(threads)])
        if err:
            check(f"{name} imgrec threads={threads}", False, err)
            continue
        names = output_names(imgrec, model) or [os.path.splitext(f)[0] for f in os.listdir(ort_dir)]
        for out in names:
            fn = sanitize(out) + ".npy"
            if not os.path.exists(os.path.join(out_dir, fn)):
                check(f"{name}[{out}] imgrec threads={threads}", False, "no output file written")
                continue
            got = np.load(os.path.join(out_dir, fn))
            ref = np.load(os.path.join(ort_dir, fn))
            rel = compare(f"{name}[{out}] threads={threads} vs onnxruntime", got, ref, tol, classifier)
            summary.setdefault("ort", []).append(rel)
            if torch_ref is not None:
                rel = compare(f"{name}[{out}] threads={threads} vs pytorch", got, np.load(torch_ref), tol, classifier)
                summary.setdefault("torch", []).append(rel)
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("imgrec_run", nargs="?", default=os.path.join(REPO, "build", "engine", "imgrec-run"))
    ap.add_argument("--work", default=None)
    args = ap.parse_args()

    if not os.path.isdir(os.path.join(ORT_DIR, "onnxruntime-node")):
        skip(f"ONNX Runtime not installed ({ORT_DIR}/onnxruntime-node absent; "
             "bash bench/install_ort.sh)")
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        skip("node (Node.js) not found")
    if not os.path.isdir(SHARED):
        skip(f"{SHARED} absent")
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as e:
        skip(f"PyTorch not available to export the reference models ({e})")
    if not os.access(args.imgrec_run, os.X_OK):
        print(f"FAIL: {args.imgrec_run} not found or not executable")
        return 1

    tmp = None
    if args.work is None:
        tmp = tempfile.TemporaryDirectory()
        work = tmp.name
    else:
        work = args.work
    models_dir = os.path.join(work, "reference-models")
    out_root = os.path.join(work, "outputs")
    inputs_dir = os.path.join(work, "inputs")
    os.makedirs(inputs_dir, exist_ok=True)
    shutil.rmtree(out_root, ignore_errors=True)

    table = []
    for m in ensure_exported(models_dir):
        s = check_model(args.imgrec_run, node, m["name"], os.path.join(models_dir, m["onnx"]),
                        {m["input"]: os.path.join(models_dir, m["name"] + ".input.npy")},
                        m["kind"] == "classifier", out_root,
                        torch_ref=os.path.join(models_dir, m["name"] + ".torch.npy"))
        table.append((m["name"], s))
    for name, path, inputs, classifier, fp16 in shared_models(inputs_dir):
        if not os.path.exists(path):
            check(name, False, f"{path} missing")
            continue
        s = check_model(args.imgrec_run, node, name, path, inputs, classifier, out_root,
                        tol=FP16_REL_TOL if fp16 else REL_TOL)
        table.append((name, s))
    # The float16 SqueezeNet computed by imgrec must agree with the float32 file (same weights
    # up to float16 rounding, same image).
    f16 = os.path.join(out_root, "squeezenet1.0-fp16", "imgrec-t1", "softmaxout_1.npy")
    f32 = os.path.join(out_root, "squeezenet1.0-fp32", "ort", "softmaxout_1.npy")
    if os.path.exists(f16) and os.path.exists(f32):
        compare("squeezenet1.0-fp16 imgrec vs squeezenet1.0-fp32 onnxruntime", np.load(f16), np.load(f32),
                FP16_REL_TOL, True)

    print("\nmodel                     max rel err vs ORT   vs PyTorch")
    for name, s in table:
        fmt = lambda v: f"{max(x for x in v if x is not None):.2e}" if v and any(x is not None for x in v) else "-"  # noqa: E731
        print(f"{name:25s} {fmt(s.get('ort')):>20s} {fmt(s.get('torch')):>11s}")
    print(f"{results['passed']} passed, {results['failed']} failed")
    if tmp:
        tmp.cleanup()
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
