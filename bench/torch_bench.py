#!/usr/bin/python3
"""PyTorch (CPU) timing of a reference model, for bench/run_bench.sh.

Builds the model exactly as tools/export_reference_models.py does (same seeds, same weights as the
exported ONNX file), sets torch.set_num_threads(T), and times N forward passes under
torch.no_grad() after W warm-up passes on the given input. Prints one JSON line:
  {"model":…, "engine":"pytorch", "threads":T, "runs":N, "median_ms":…, "min_ms":…, "max_ms":…}
Usage: /usr/bin/python3 bench/torch_bench.py NAME --threads T --runs N --warmup W [--input X.npy]
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
import export_reference_models as E  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name", choices=E.ALL)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--input", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    model, x, _ = E.build(args.name)
    if args.input:
        x = torch.from_numpy(np.load(args.input))
    times = []
    with torch.no_grad():
        for _ in range(args.warmup):
            model(x)
        for _ in range(args.runs):
            t = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t) * 1e3)
    print(json.dumps({"model": args.name, "engine": "pytorch", "threads": args.threads, "runs": args.runs,
                      "median_ms": round(statistics.median(times), 4), "min_ms": round(min(times), 4),
                      "max_ms": round(max(times), 4), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
