#!/usr/bin/python3
"""ResNet-18, MobileNetV2 and SqueezeNet 1.1 (built by bench/make_models.py with the onnx
package alone: random weights, randomised BatchNorm) and the real SqueezeNet 1.0 and CIFAR-10
files in ../shared/models/, through imgrec-run under every ISA the machine has
(IMGREC_ISA=ref, avx2, avx512) at 1 and 2 threads, against ONNX Runtime on the same input:
max |imgrec - ort| <= 1e-4 * max |ort| and identical top-1.

Skips (exit 77) when ONNX Runtime is not installed in .cache/ort (bash bench/install_ort.sh) or
node is missing.  Usage: test_ort_isa.py IMGREC_RUN [--work DIR]"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine_isas import machine_isas  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
ORT_DIR = os.environ.get("IMGREC_ORT_DIR", os.path.join(REPO, ".cache", "ort", "node_modules"))
SHARED = os.environ.get("IMGREC_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
RUN = sys.argv[1]


def only_npy(d):
    return [f for f in sorted(os.listdir(d)) if f.endswith(".npy")]


def main():
    if not os.path.isdir(os.path.join(ORT_DIR, "onnxruntime-node")) or shutil.which("node") is None:
        print("SKIP: ONNX Runtime (bash bench/install_ort.sh) or node is not installed")
        sys.exit(77)
    work = sys.argv[sys.argv.index("--work") + 1] if "--work" in sys.argv else tempfile.mkdtemp()
    models = os.path.join(work, "models")
    subprocess.run([sys.executable, os.path.join(REPO, "bench", "make_models.py"), "--out", models],
                   check=True, capture_output=True)
    cases = [(os.path.join(models, m + ".onnx"), "input", os.path.join(models, m + ".input.npy"))
             for m in ("resnet18", "mobilenet_v2", "squeezenet1_1")]
    rng = np.random.default_rng(3)
    for path, iname, shape in (("imagenet-squeezenet1.0/squeezenet1.0-fp32.onnx", "data_0", (1, 3, 224, 224)),
                               ("third-party/cifar10-pytorch-opset10.onnx", "modelInput", (2, 3, 32, 32))):
        full = os.path.join(SHARED, "models", path)
        if os.path.exists(full):
            xin = os.path.join(work, os.path.basename(path) + ".input.npy")
            np.save(xin, rng.standard_normal(shape).astype(np.float32))
            cases.append((full, iname, xin))
    passed = failed = 0
    for model, input_name, x in cases:
        name = os.path.basename(model)
        ort_dir = os.path.join(work, "ort_" + name)
        extra = ["--input", f"{input_name}={x}"]
        p = subprocess.run(["node", os.path.join(REPO, "bench", "ort_run.js"), model, "--output-dir", ort_dir,
                            *extra], capture_output=True, text=True)
        if p.returncode != 0:
            print(f"FAIL {name}: ONNX Runtime failed: {p.stderr.strip()[-300:]}")
            failed += 1
            continue
        run_args = [model, "--output-dir"]
        for isa in machine_isas():
            for threads in ("1", "2"):
                out = os.path.join(work, f"ir_{name}_{isa}_{threads}")
                p = subprocess.run([RUN, *run_args, out, *extra, "--threads", threads],
                                   capture_output=True, text=True, env=dict(os.environ, IMGREC_ISA=isa))
                label = f"{name} IMGREC_ISA={isa} threads={threads}"
                if p.returncode != 0:
                    print(f"FAIL {label}: {p.stderr.strip()}")
                    failed += 1
                    continue
                ok, detail = True, []
                for f in only_npy(ort_dir):
                    ref = np.load(os.path.join(ort_dir, f)).astype(np.float64)
                    got = np.load(os.path.join(out, f)).astype(np.float64)
                    err = np.abs(ref - got).max() / max(np.abs(ref).max(), 1e-30)
                    same_top1 = ref.reshape(ref.shape[0], -1).argmax(1).tolist() == \
                        got.reshape(got.shape[0], -1).argmax(1).tolist()
                    ok = ok and err <= 1e-4 and same_top1
                    detail.append(f"{f}: max err / max |ort| = {err:.2e}, top-1 {'same' if same_top1 else 'DIFFERS'}")
                print(f"{'PASS' if ok else 'FAIL'} {label}: {'; '.join(detail)}", flush=True)
                passed += ok
                failed += not ok
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
