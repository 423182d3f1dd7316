#!/usr/bin/env python3
"""Writes one frame of imgrecdrivesrc's synthetic driving feed as a PNG.

    /usr/bin/python3 tools/render_drive_frame.py --out docs/drive-scene.png [--time 4.5] \
        [--seed 0] [--width 1280 --height 720] [--segments day:60] [--boxes]

The frame at --time seconds of the feed (frames 0.. are rendered up to it, as a run from the
start would). --boxes draws the ground-truth boxes with their track and class ids, to check them
by eye. The plugin is taken from --build-dir (default build/) unless GST_PLUGIN_PATH is set.
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np
from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--time", type=float, default=4.5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--segments", default=None)
    ap.add_argument("--speed", type=float, default=None)
    ap.add_argument("--boxes", action="store_true")
    ap.add_argument("--model", default=os.path.join(ROOT, "models/traffic-signs-gan/generator.onnx"))
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()

    if "GST_PLUGIN_PATH" not in os.environ:
        os.environ["GST_PLUGIN_PATH"] = os.path.join(args.build_dir, "gst")
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)

    n = int(round(args.time * args.fps)) + 1
    with tempfile.TemporaryDirectory() as tmp:
        gt_path = os.path.join(tmp, "truth.jsonl")
        props = f'model="{args.model}" seed={args.seed} num-buffers={n} ground-truth-location="{gt_path}"'
        if args.segments:
            props += f' segments="{args.segments}"'
        if args.speed is not None:
            props += f" speed={args.speed}"
        pipe = Gst.parse_launch(
            f"imgrecdrivesrc {props} ! video/x-raw,format=RGB,width={args.width},"
            f"height={args.height},framerate={args.fps}/1 ! appsink name=sink sync=false max-buffers=1 drop=true")
        sink = pipe.get_by_name("sink")
        pipe.set_state(Gst.State.PLAYING)
        last = None
        while True:
            sample = sink.emit("pull-sample")
            if sample is None:
                break
            last = sample
        bus = pipe.get_bus()
        msg = bus.pop_filtered(Gst.MessageType.ERROR)
        pipe.set_state(Gst.State.NULL)
        if msg is not None:
            err, dbg = msg.parse_error()
            sys.exit(f"imgrecdrivesrc: {err.message}")
        if last is None:
            sys.exit("no frame came out")
        buf = last.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        stride = len(info.data) // args.height
        img = np.frombuffer(info.data, np.uint8).reshape(args.height, stride)[:, :args.width * 3]
        img = img.reshape(args.height, args.width, 3).copy()
        buf.unmap(info)
        with open(gt_path) as f:
            truth = [json.loads(line) for line in f][-1]

    im = Image.fromarray(img)
    if args.boxes:
        draw = ImageDraw.Draw(im)
        for s in truth["signs"]:
            b = s["box"]
            draw.rectangle([b["x-min"], b["y-min"], b["x-max"], b["y-max"]], outline=(255, 0, 255))
            draw.text((b["x-min"], b["y-max"] + 2), f'{s["track-id"]}:{s["class-id"]}', fill=(255, 0, 255))
    im.save(args.out, optimize=True)
    print(f"{args.out}: frame {truth['frame']} ({truth['segment']}), {len(truth['signs'])} signs, "
          f"{os.path.getsize(args.out)} bytes")


if __name__ == "__main__":
    main()
