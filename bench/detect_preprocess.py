#!/usr/bin/env python3
"""imgrecdetect's pre-processing against its inference (not a timed test):

    videotestsrc (1920x1080) -> imgrecdetect (YOLOv8n-sized, 640x640 letterbox) -> fakesink

The element's own path is measured, in the element: GstVideoConverter
crop + scale of the frame in its own format, conversion to RGB at 640x640,
the float tensor fill (pre-processing), then the engine run, then decoding +
NMS.  imgrecdetect logs the three times of every frame at LOG level
(GST_DEBUG=imgrecdetect:6); this script runs gst-launch-1.0 with that
logging and reports per-frame medians and pre-processing / engine.
Target (issue 11): pre-processing <= 10 % of one 640x640 YOLOv8n inference.

    bench/detect_preprocess.py [--model M.onnx] [--frames N] [--threads T,...]
                               [--formats I420,NV12,BGRx] [--build BUILD_DIR] [--json]

Without --model a YOLOv8n-sized network with random weights is built with
bench/yolov8n.py (PyTorch) into a temporary folder.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINE = re.compile(r"pre-processing (\d+) us, engine (\d+) us, decoding \+ NMS (\d+) us")


def run(build, model, fmt, frames, threads):
    env = dict(os.environ, GST_PLUGIN_PATH=os.path.join(build, "gst"),
               GST_DEBUG="imgrecdetect:6", GST_DEBUG_NO_COLOR="1")
    cmd = ["gst-launch-1.0", "-q", "videotestsrc", f"num-buffers={frames}", "pattern=ball", "!",
           f"video/x-raw,format={fmt},width=1920,height=1080,framerate=30/1", "!",
           "imgrecdetect", f"model={model}", f"threads={threads}", "!",
           "fakesink", "sync=false"]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    times = [tuple(int(v) for v in m.groups()) for m in LINE.finditer(p.stderr)]
    if p.returncode != 0 or len(times) != frames:
        tail = "\n".join(l for l in p.stderr.splitlines() if "ERROR" in l or "rror" in l)[-2000:]
        raise RuntimeError(f"{fmt} threads={threads}: exit {p.returncode}, "
                           f"{len(times)} of {frames} frames timed\n{tail}")
    # the first frame pays for the converters' warm-up (page faults)
    times = times[1:] if len(times) > 1 else times
    pre, eng, dec = (statistics.median(t[i] for t in times) / 1000 for i in range(3))
    return {"format": fmt, "threads": threads, "frames": len(times),
            "preprocess_ms": round(pre, 3), "engine_ms": round(eng, 2),
            "decode_nms_ms": round(dec, 3), "preprocess_share_of_engine": round(pre / eng, 4)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model")
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--formats", default="I420,NV12,BGRx")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--json", action="store_true", help="JSON lines only")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            model = os.path.join(tmp, "yolov8n.onnx")
            subprocess.run([sys.executable, os.path.join(ROOT, "bench", "yolov8n.py"), model],
                           check=True, capture_output=True)
        results = [run(args.build, model, fmt, args.frames, int(t))
                   for t in args.threads.split(",") for fmt in args.formats.split(",")]
    for r in results:
        if args.json:
            print(json.dumps(r))
        else:
            print(f"{r['format']:5s} threads={r['threads']}  pre-processing {r['preprocess_ms']:7.3f} ms"
                  f"  engine {r['engine_ms']:8.2f} ms  decode+NMS {r['decode_nms_ms']:6.3f} ms"
                  f"  pre/engine {100 * r['preprocess_share_of_engine']:5.2f} %"
                  f"  ({r['frames']} frames, medians)")
    if not args.json:
        worst = max(r["preprocess_share_of_engine"] for r in results)
        print("target: pre-processing <= 10 % of the inference ->",
              "met" if worst <= 0.10 else "NOT met", f"(worst {100 * worst:.2f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
