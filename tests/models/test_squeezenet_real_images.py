#!/usr/bin/python3
"""The real ImageNet SqueezeNet 1.0 (../shared/models/imagenet-squeezenet1.0/, float32 and
float16 files) run through imgrec-run must recognise real photos from Debian packages:
  - darknet's /usr/share/darknet/data/dog.jpg  -> a dog breed (ImageNet classes 151-268)
  - skimage's  data/chelsea.png                -> a cat (ImageNet classes 281-285)

Preprocessing is the model's own: RGB image resized (bilinear) to 224x224, channels reordered to
BGR, 0-255 minus the mean (B 104, G 117, R 123), NCHW; input data_0, output softmaxout_1.
dog.jpg shows a dog next to a bicycle with a truck behind: on the whole picture the top-1 is
"dogsled" (the dog with a vehicle), so the test classifies the bottom-left 384x384 square, where
the dog sits, as a detector's crop would. chelsea.png is classified whole.

Skips (exit status 77) when ../shared or the photos are absent (install them with
apt-get install darknet python3-skimage).
Usage: /usr/bin/python3 tests/models/test_squeezenet_real_images.py [IMGREC_RUN]
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("IMGREC_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
MODEL_DIR = os.path.join(SHARED, "models", "imagenet-squeezenet1.0")
DOG = "/usr/share/darknet/data/dog.jpg"
CAT = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png"
MEAN_BGR = np.array([104, 117, 123], np.float32)

# (name, photo, crop box (left, top, right, bottom) or None, class range, what)
CASES = [
    ("dog.jpg", DOG, (0, 192, 384, 576), range(151, 269), "a dog breed"),
    ("chelsea.png", CAT, None, range(281, 286), "a cat"),
]

results = {"passed": 0, "failed": 0}


def check(name, ok, detail):
    results["passed" if ok else "failed"] += 1
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)


def skip(reason):
    print(f"SKIP: {reason}", flush=True)
    sys.exit(77)


def load_labels():
    labels = {}
    with open(os.path.join(MODEL_DIR, "labels.csv"), encoding="utf-8") as f:
        for line in f:
            idx, _, name = line.rstrip("\n").partition(",")
            if idx.strip().isdigit():
                labels[int(idx)] = name.strip().strip('"')
    return labels


def preprocess(path, box):
    from PIL import Image
    img = Image.open(path).convert("RGB")
    if box:
        img = img.crop(box)
    img = img.resize((224, 224), Image.BILINEAR)
    bgr = np.asarray(img, np.float32)[:, :, ::-1] - MEAN_BGR
    return np.ascontiguousarray(bgr.transpose(2, 0, 1)[None])


def main():
    imgrec = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build", "engine", "imgrec-run")
    models = {"fp32": os.path.join(MODEL_DIR, "squeezenet1.0-fp32.onnx"),
              "fp16": os.path.join(MODEL_DIR, "squeezenet1.0-fp16.onnx")}
    if not os.path.isdir(MODEL_DIR) or not all(os.path.exists(p) for p in models.values()):
        skip(f"{MODEL_DIR} absent (../shared is not on this machine)")
    missing = [p for _, p, _, _, _ in CASES if not os.path.exists(p)]
    if missing:
        skip(f"{', '.join(missing)} absent (apt-get install darknet python3-skimage)")
    try:
        import PIL  # noqa: F401
    except ImportError:
        skip("PIL (python3-pil) not available")
    if not os.access(imgrec, os.X_OK):
        print(f"FAIL: {imgrec} not found or not executable")
        return 1
    labels = load_labels()
    check("labels.csv", len(labels) == 1000, f"{len(labels)} labels")

    with tempfile.TemporaryDirectory() as tmp:
        for name, photo, box, classes, what in CASES:
            x = preprocess(photo, box)
            tops = {}
            for precision, model in models.items():
                inp = os.path.join(tmp, f"{name}.{precision}.npy")
                np.save(inp, x.astype(np.float16) if precision == "fp16" else x)
                out = os.path.join(tmp, f"{name}.{precision}.out")
                p = subprocess.run([imgrec, model, "--input", f"data_0={inp}", "--output-dir", out],
                                   capture_output=True, text=True, timeout=300)
                label = f"{name} squeezenet1.0-{precision}"
                if p.returncode != 0:
                    check(label, False, f"imgrec-run exit status {p.returncode}: {p.stderr.strip()}")
                    continue
                y = np.load(os.path.join(out, "softmaxout_1.npy")).reshape(-1)
                top = int(np.argmax(y))
                tops[precision] = top
                top3 = ", ".join(f"{i} {labels.get(int(i), '?')!r} {y[i]:.3f}" for i in np.argsort(-y)[:3])
                in_class = float(y[list(classes)].sum())
                check(label, y.shape == (1000,) and abs(float(y.sum()) - 1) < 1e-3 and top in classes,
                      f"top-1 {top} {labels.get(top, '?')!r} (want {what}, classes {classes.start}-"
                      f"{classes.stop - 1}); top-3: {top3}; P({what}) = {in_class:.3f}; sum {y.sum():.4f}")
            if len(tops) == 2:
                check(f"{name} fp16 and fp32 agree", tops["fp16"] == tops["fp32"],
                      f"fp32 top-1 {tops['fp32']}, fp16 top-1 {tops['fp16']}")
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
