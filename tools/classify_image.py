#!/usr/bin/python3
"""Classify images with a shipped imgrec classifier through the engine (imgrec-run).

Pre-processing comes from the model's metadata_props: the image is converted to the declared
colour order, resized (stretched) to the model's input size (bilinear), scaled by imgrec.scale,
normalised with imgrec.mean / imgrec.std and laid out NCHW; the top classes are printed with their
softmax confidence.

  /usr/bin/python3 tools/classify_image.py models/objects-cifar10/objects-cifar10.onnx photo.jpg ...
  /usr/bin/python3 tools/classify_image.py models/traffic-signs/traffic-signs.onnx synthetic:no-entry

An IMAGE of the form `synthetic:NAME` is drawn here (no file, no PIL needed): no-entry (red disc,
white bar), priority-road (yellow diamond with white border), keep-right (blue disc, white arrow
down-right). Real image files need PIL (python3-pil); IMAGE@L,T,R,B classifies that crop box.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import engine_run as E  # noqa: E402


def synthetic(name, size=32):
    """A simple drawn sign, uint8 [size,size,3] RGB, on a grey-green background."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    c = size / 2.0
    im = np.zeros((size, size, 3), np.float32)
    im[:] = (90, 110, 80)
    r = np.hypot(xx - c, yy - c)
    if name == "no-entry":
        im[r < 0.42 * size] = (200, 25, 35)
        im[(r < 0.42 * size) & (np.abs(yy - c) < 0.09 * size) & (np.abs(xx - c) < 0.28 * size)] = (245, 245, 245)
    elif name == "priority-road":
        d = np.abs(xx - c) + np.abs(yy - c)
        im[d < 0.46 * size] = (240, 240, 240)
        im[d < 0.33 * size] = (250, 190, 20)
    elif name == "keep-right":
        im[r < 0.42 * size] = (30, 80, 200)
        u, v = (xx - c + yy - c) / np.sqrt(2), (yy - c - xx + c) / np.sqrt(2)   # along / across the arrow
        shaft = (np.abs(v) < 0.06 * size) & (u > -0.25 * size) & (u < 0.12 * size)
        head = (u >= 0.05 * size) & (u < 0.27 * size) & (np.abs(v) < (0.27 * size - u))
        im[shaft | head] = (245, 245, 245)
    else:
        raise SystemExit("unknown synthetic image %r (no-entry, priority-road, keep-right)" % name)
    return im.astype(np.uint8)


def load_image(spec, size):
    """-> (uint8 [H,W,3] RGB at the model's input size, description)."""
    if spec.startswith("synthetic:"):
        im = synthetic(spec.split(":", 1)[1], 64)
        desc = spec
    else:
        path, box = spec, None
        if "@" in spec:
            path, b = spec.rsplit("@", 1)
            box = tuple(int(v) for v in b.split(","))
        try:
            from PIL import Image
        except ImportError:
            raise SystemExit("reading %s needs PIL (apt-get install python3-pil)" % path)
        pil = Image.open(path).convert("RGB")
        if box:
            pil = pil.crop(box)
        im = np.asarray(pil)
        desc = os.path.basename(path) + (" (crop %s)" % ",".join(map(str, box)) if box else "")
    if im.shape[:2] != (size[0], size[1]):
        try:
            from PIL import Image
            im = np.asarray(Image.fromarray(im).resize((size[1], size[0]), Image.BILINEAR))
        except ImportError:   # synthetic images without PIL: nearest-neighbour
            ys = (np.arange(size[0]) * im.shape[0] // size[0])
            xs = (np.arange(size[1]) * im.shape[1] // size[1])
            im = im[ys][:, xs]
    return im, desc


def input_spec(model, exe):
    """(input name, (H, W)) from imgrec-run --info (first input, NCHW)."""
    text = E.info(model, exe)
    sec = text.split("inputs:", 1)[1].split("outputs:", 1)[0]
    line = [ln.strip() for ln in sec.splitlines() if ln.strip()][0]
    name = line.split(":", 1)[0]
    dims = [d.strip() for d in line[line.index("[") + 1:line.index("]")].split(",")]
    out = text.split("outputs:", 1)[1].split("metadata_props:", 1)[0]
    oname = [ln.strip() for ln in out.splitlines() if ln.strip()][0].split(":", 1)[0]
    return name, (int(dims[2]), int(dims[3])), oname


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("images", nargs="+")
    p.add_argument("--top", type=int, default=3)
    p.add_argument("--imgrec-run", default=None)
    a = p.parse_args()
    exe = E.find_imgrec_run(a.imgrec_run)
    meta = E.metadata(a.model)
    labels = meta["imgrec.labels"].split("\n")
    iname, size, oname = input_spec(a.model, exe)
    ims, descs = [], []
    for spec in a.images:
        im, d = load_image(spec, size)
        ims.append(im)
        descs.append(d)
    x = E.preprocess_u8(np.stack(ims), meta)
    with E.Engine(a.model, exe) as eng:
        prob = E.softmax(eng.run({iname: x}, [oname])[oname])
    mname = os.path.basename(a.model)
    w = max(len(d) for d in descs)
    for d, pr in zip(descs, prob):
        order = np.argsort(-pr)[:a.top]
        best = order[0]
        rest = ", ".join("%s %.1f %%" % (labels[k], 100 * pr[k]) for k in order[1:])
        print("%-*s  %s: %-12s %5.1f %%   (next: %s)" % (w, d, mname, labels[best], 100 * pr[best], rest))


if __name__ == "__main__":
    main()
