#!/usr/bin/python3
"""Export traffic-signs-restore (the restoration GAN's generator) to ONNX for `imgrecgan mode=generate`.

Reads RUN/weights.npz + RUN/metrics.json written by tools/train/traffic_signs_restore.py, rebuilds
the U-Net, exports models/traffic-signs-restore/traffic-signs-restore.onnx (opset 13, dynamic batch)
with the metadata imgrecgan reads, writes models/traffic-signs-restore/metrics.json and (with
--test-vectors) the regression vectors tests/models/data/traffic-signs-restore/ computed by PyTorch on
synthetic inputs only (export_onnx.synthetic_images, each also degraded with a fixed seed).

Graph: input `image` [N,3,32,32] = RGB/255*2-1 (imgrec.scale 1/255, mean = std = 0.5) -> output
`restored` [N,3,32,32] in [-1, 1] (imgrec.output-range). ONNX forbids a graph output with the same
name as a graph input, so the output is `restored`; imgrecgan takes input 0 and output 0.

Usage: /usr/bin/python3 tools/export_restore.py --run OUT/traffic-signs-restore [--test-vectors tests/models/data]
"""
import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "train"))
import common as C  # noqa: E402
import export_onnx as X  # noqa: E402
import traffic_signs_restore as R  # noqa: E402

NAME = "traffic-signs-restore"


def build_from_run(run):
    tm = X.train_meta(run)
    g = R.UNet(int(tm.get("width", 24)))
    C.load_npz_into(g, os.path.join(run, "weights.npz"))
    g.eval()
    return g, tm


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", required=True, help="directory with weights.npz + metrics.json of the training run")
    p.add_argument("--models-dir", default=os.path.join(REPO, "models"))
    p.add_argument("--test-vectors", default="", help="also write input/output .npy files into DIR/traffic-signs-restore")
    a = p.parse_args()
    torch.set_num_threads(2)
    g, tm = build_from_run(a.run)
    meta = {"imgrec.kind": "gan-image-to-image", "imgrec.mean": X.fmt(R.MEAN), "imgrec.std": X.fmt(R.STD),
            "imgrec.scale": X.SCALE, "imgrec.color-order": "RGB", "imgrec.resize": "stretch",
            "imgrec.input-layout": "NCHW", "imgrec.output-range": "-1,1"}
    path = os.path.join(a.models_dir, NAME, NAME + ".onnx")
    size, ops = X.export(g, (torch.zeros(1, 3, 32, 32),), path, ["image"], ["restored"],
                         {"image": {0: "N"}, "restored": {0: "N"}}, meta)
    res = {"model": NAME, "params": C.count_params(g), "onnx": os.path.relpath(path, REPO), "bytes": size,
           "ops": ops, "io": "image [N,3,32,32] = RGB/255*2-1 -> restored [N,3,32,32] in [-1,1] (RGB, NCHW)",
           "metadata": meta,
           "training": {k: tm[k] for k in ("command", "steps", "train_time_s", "time_budget_s", "batch", "lr_g",
                                           "lr_d", "adv_weight", "adv_start", "width", "seed", "params_g",
                                           "params_d", "train_images", "degradations", "loss", "monitor_psnr",
                                           "monitor_psnr_degraded", "resumes", "finished", "threads", "torch")
                        if k in tm}}
    if a.test_vectors:
        clean = X.synthetic_images()
        deg = R.degrade(clean, np.random.RandomState(7))
        x = R.to_pm1(np.concatenate([clean, deg]))
        with torch.no_grad():
            y = g(x)
        X.save_vectors(a.test_vectors, NAME, {"image": x}, {"restored": y})
        print("  wrote", os.path.join(os.path.relpath(a.test_vectors, REPO), NAME), flush=True)
    X.write_metrics(os.path.join(a.models_dir, NAME, "metrics.json"), res)


if __name__ == "__main__":
    main()
