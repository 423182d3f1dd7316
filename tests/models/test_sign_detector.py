#!/usr/bin/env python3
"""The shipped traffic-sign-detector finds signs in road scenes through imgrecdetect.

Needs no data set: 60 scenes of 1280x720 are made from what the project
ships — procedural roads (tools/train/sign_scenes.py) with signs drawn by
the shipped traffic-signs-gan generator (through imgrec-run), 20-150 px,
half of them degraded — and run through `appsrc ! imgrecdetect ! appsink`.
Asserts AP@0.5 and recall at the model's operating threshold (the floors
below were measured when the model was shipped, minus a margin) and that a
scene without signs gives at most a few false detections.

Usage: test_sign_detector.py SOURCE_ROOT BUILD_ROOT (exit 77: no python3-gi or typelib)
"""
import os
import sys

ROOT, BUILD = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
GST_DIR = os.path.join(BUILD, "gst")
if os.environ.get("IMGREC_TEST_ENV") != GST_DIR:     # the loader reads LD_LIBRARY_PATH at start
    env = dict(os.environ, IMGREC_TEST_ENV=GST_DIR, GST_PLUGIN_PATH=GST_DIR,
               GI_TYPELIB_PATH=GST_DIR + os.pathsep + os.environ.get("GI_TYPELIB_PATH", ""),
               LD_LIBRARY_PATH=GST_DIR + os.pathsep + os.environ.get("LD_LIBRARY_PATH", ""),
               IMGREC_RUN=os.path.join(BUILD, "engine", "imgrec-run"))
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import numpy as np  # noqa: E402

try:
    import gi
    gi.require_version("Gst", "1.0")
    gi.require_version("GstImgRec", "1.0")
    from PIL import Image  # noqa: F401
except (ImportError, ValueError) as e:
    print(f"SKIP: {e}")
    sys.exit(77)

sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tools", "train"))
import engine_run as E  # noqa: E402
import eval_sign_detector as V  # noqa: E402
import sign_scenes as S  # noqa: E402

MODEL = os.path.join(ROOT, "models", "traffic-sign-detector", "traffic-sign-detector.onnx")
GENERATOR = os.path.join(ROOT, "models", "traffic-signs-gan", "generator.onnx")
SCENES = 60
# measured at shipping (models/README.md: AP@0.5 0.973, recall 0.962 at 0.3,
# 0.10 false detections per empty scene), with a margin for other CPUs' rounding
MIN_AP50 = 0.90
MIN_RECALL = 0.90
MAX_FALSE_PER_EMPTY_SCENE = 0.5
THRESHOLD = 0.3


def gan_signs(per_class=4, seed=5):
    meta = E.metadata(GENERATOR)
    z_dim, k = int(meta["imgrec.latent-dim"]), int(meta["imgrec.num-classes"])
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(k), per_class)
    z = rng.standard_normal((len(labels), z_dim)).astype(np.float32)
    with E.Engine(GENERATOR, threads=2) as eng:
        img = eng.run({"z": z, "class": np.eye(k, dtype=np.float32)[labels]}, ["image"])["image"]
    img = ((img.transpose(0, 2, 3, 1) + 1) * 127.5).clip(0, 255).round().astype(np.uint8)
    return S.SignSource(img, labels, "gan")


def main():
    gx = gan_signs()
    comp = S.Compositor(["procedural"], [(gx, 1.0)], width=1280, height=720, camera_width=1280,
                        min_px=20, max_px=150)
    rng = np.random.default_rng(11)
    scenes = []
    for i in range(SCENES):
        deg = "clean" if i % 2 == 0 else S.DEGRADATIONS[1 + (i // 2) % 4]
        img, boxes, _ = comp.scene(rng, degradation=deg, n_signs=int(rng.integers(1, 6)))
        scenes.append((img, boxes, deg))
    empty = [(comp.scene(rng, degradation="clean", n_signs=0)[0], np.zeros((0, 4)), "clean")
             for _ in range(10)]
    dets, fps = V.detect(MODEL, scenes + empty, BUILD, 2)
    gts = [s[1].astype(np.float64) for s in scenes]
    res = V.evaluate(dets[:SCENES], gts, 20, 1e9)
    false_empty = sum(int((d[:, 4] >= THRESHOLD).sum()) for d in dets[SCENES:]) / len(empty)
    hits = 0
    for d, g in zip(dets[:SCENES], gts):
        d = d[d[:, 4] >= THRESHOLD]
        if len(d) and len(g):
            hits += int((V.iou_matrix(g, d[:, :4]).max(1) >= 0.5).sum())
    recall = hits / sum(len(g) for g in gts)
    print(f"{res['signs']} signs in {SCENES} scenes: AP@0.5 {res['ap50']:.3f}, recall at "
          f"{THRESHOLD} {recall:.3f}, best F1 {res['best_f1']:.3f} at {res['best_f1_threshold']}; "
          f"{false_empty:.2f} false detections per empty scene; {fps:.1f} fps")
    ok = res["ap50"] >= MIN_AP50 and recall >= MIN_RECALL and false_empty <= MAX_FALSE_PER_EMPTY_SCENE
    if not ok:
        print(f"FAIL: AP@0.5 {res['ap50']:.3f} (floor {MIN_AP50}), recall {recall:.3f} (floor "
              f"{MIN_RECALL}), false detections per empty scene {false_empty:.2f} "
              f"(at most {MAX_FALSE_PER_EMPTY_SCENE})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
