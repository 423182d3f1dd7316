#!/usr/bin/python3
"""Writes the README's demo pictures: one annotated frame of the driving demo's synthetic feed and
one of real footage, each the output of pipelines/drive-demo.sh (its MP4, decoded).

    /usr/bin/python3 tools/render_demo_frames.py [--drive-out docs/drive-demo.png] [--time 3.3]
        [--video ../shared/videos/dashcam-highway-960x540.mp4] [--video-out docs/dashcam-demo.png]
        [--video-frame N] [--build-dir build]

--time: the synthetic frame's time (seconds; the chain runs from the start up to it, with the
demo's default seed and segments). --video-frame: the real footage's frame; by default the one
with the most tracked signs (the first of them; the last frame when none is). --video ''
skips the real footage. Needs the detector (models/traffic-sign-detector/*.onnx).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FPS = 30


def run_chain(env, outdir, extra):
    cmd = ["bash", os.path.join(ROOT, "pipelines", "drive-demo.sh")] + extra + [outdir]
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        sys.exit(f"render_demo_frames: {' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}")
    return p.stdout


def decode_frame(mp4, index):
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)
    pipe = Gst.parse_launch(f'filesrc location="{mp4}" ! decodebin ! videoconvert ! '
                            'video/x-raw,format=RGB ! appsink name=sink sync=false')
    sink = pipe.get_by_name("sink")
    pipe.set_state(Gst.State.PLAYING)
    img, i = None, 0
    while img is None:
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        if i == index:
            s = sample.get_caps().get_structure(0)
            w, h = s.get_value("width"), s.get_value("height")
            buf = sample.get_buffer()
            ok, info = buf.map(Gst.MapFlags.READ)
            stride = len(info.data) // h
            img = np.frombuffer(info.data, np.uint8).reshape(h, stride)[:, :w * 3]
            img = img.reshape(h, w, 3).copy()
            buf.unmap(info)
        i += 1
    pipe.set_state(Gst.State.NULL)
    if img is None:
        sys.exit(f"render_demo_frames: {mp4} has {i} frames, frame {index} asked for.")
    return img


def tracked_signs(results_path):
    counts = []
    with open(results_path) as f:
        for line in f:
            r = json.loads(line)
            counts.append(sum(1 for x in r["results"] if x["kind"] == "track"
                              and x["state"] == "tracked"))
    return counts


def save(img, out, what):
    Image.fromarray(img).save(out, optimize=True)
    print(f"{out}: {what}, {img.shape[1]}x{img.shape[0]}, {os.path.getsize(out)} bytes")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--drive-out", default=os.path.join(ROOT, "docs", "drive-demo.png"))
    ap.add_argument("--time", type=float, default=3.3)
    ap.add_argument("--video", default=os.path.join(ROOT, "..", "shared", "videos",
                                                    "dashcam-highway-960x540.mp4"))
    ap.add_argument("--video-out", default=os.path.join(ROOT, "docs", "dashcam-demo.png"))
    ap.add_argument("--video-frame", type=int)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()

    env = dict(os.environ, IMGREC_BUILD=os.path.abspath(args.build_dir))
    with tempfile.TemporaryDirectory() as tmp:
        n = int(round(args.time * FPS))
        run_chain(dict(env, IMGREC_FRAMES=str(n + 1)), os.path.join(tmp, "drive"), [])
        truth = [json.loads(line) for line in open(os.path.join(tmp, "drive", "ground-truth.jsonl"))]
        save(decode_frame(os.path.join(tmp, "drive", "annotated.mp4"), n), args.drive_out,
             f"synthetic feed frame {n} ({truth[n]['segment']}, {len(truth[n]['signs'])} signs drawn)")
        if not args.video:
            return 0
        if not os.path.exists(args.video):
            print(f"render_demo_frames: {args.video} is not there; no real-footage frame written")
            return 0
        out = os.path.join(tmp, "video")
        run_chain(env, out, ["--file", args.video])
        counts = tracked_signs(os.path.join(out, "results.jsonl"))
        k = args.video_frame
        if k is None:  # the frame with the most tracked signs, else the last one
            k = int(np.argmax(counts)) if max(counts) > 0 else len(counts) - 1
        save(decode_frame(os.path.join(out, "annotated.mp4"), k), args.video_out,
             f"{os.path.basename(args.video)} frame {k} ({counts[k]} tracked signs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
