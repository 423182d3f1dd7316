#!/usr/bin/env python3
"""GTSRB held-out tracks rendered as video through imgrecroi ! imgrecseq.

Each held-out track (the tracks tools/train/traffic_signs_seq.py did not
train on: common.track_split) becomes a run of frames of one 128x128 video:
the sign's 32x32 frames scaled up 3x (nearest) at (16,16), in the track's
frame order, 25 fps, tracks one after the other.  imgrecroi attaches one
keyframed region per track (present exactly on that track's frames, ROI id =
track number), imgrecseq scope=roi runs the shipped traffic-signs-seq model
with one state per region.  Checks: the last result of each track is the
track's label for >= 98 % of the tracks, and the imgrec-sequence-change
message fires once per track (>= 98 % of the tracks exactly once, none more
than twice).

Needs ../shared/data/gtsrb/train-jpeg.npz (exit 77 = skip without it) and
PIL (python3-pil).  Usage: test_seq_gtsrb_tracks.py SOURCE_ROOT
"""
import os
import sys

import numpy as np

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "gtsrb", "train-jpeg.npz"))
if not os.path.exists(DATA):
    print(f"SKIP: {DATA} is not there")
    sys.exit(77)
try:
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    import PIL  # noqa: F401
except (ImportError, ValueError) as e:
    print(f"SKIP: {e}")
    sys.exit(77)

sys.path.insert(0, os.path.join(ROOT, "tools", "train"))
import data_io as C  # noqa: E402  (numpy + PIL only: no torch)

SCALE, OFFSET, SIZE, FPS = 3, 16, 128, 25


def heldout_tracks():
    d = np.load(DATA)
    tracks, frames, labels = d["track"], d["frame"], d["labels"]
    isval = C.track_split(tracks)
    idx = np.nonzero(isval)[0]
    x, _ = C.decode_jpeg_npz(DATA, indices=idx)
    out = []
    for t in np.unique(tracks[idx]):
        sel = np.nonzero(tracks[idx] == t)[0]
        sel = sel[np.argsort(frames[idx][sel], kind="stable")]
        out.append((int(labels[idx][sel[0]]), x[sel]))
    return out


def main():
    Gst.init(None)
    tracks = heldout_tracks()
    n_frames = sum(len(f) for _, f in tracks)
    print(f"{len(tracks)} held-out tracks, {n_frames} frames")
    dt = 1.0 / FPS
    regions, k = [], 0
    box = f"{OFFSET},{OFFSET},{32 * SCALE},{32 * SCALE}"
    for _, f in tracks:
        regions.append(f"sign={k * dt:.6f}:{box}/{(k + len(f) - 1) * dt:.6f}:{box}")
        k += len(f)
    model = os.path.join(ROOT, "models", "traffic-signs-seq", "traffic-signs-seq.onnx")
    pipeline = Gst.parse_launch(
        f"appsrc name=src format=time caps=video/x-raw,format=RGB,width={SIZE},"
        f"height={SIZE},framerate={FPS}/1 ! imgrecroi regions=\"{';'.join(regions)}\" ! "
        f"imgrecseq scope=roi roi-ttl=2 post-messages=true stable-frames=10 "
        f"min-confidence=0.5 model=\"{model}\" ! fakesink sync=false")
    src = pipeline.get_by_name("src")
    bus = pipeline.get_bus()
    last, changes = {}, {}

    def drain(timeout=0):
        """Reads the messages; with a timeout, until EOS."""
        types = Gst.MessageType.ELEMENT | Gst.MessageType.ERROR | Gst.MessageType.EOS
        while True:
            msg = bus.timed_pop_filtered(timeout, types)
            if msg is None:
                assert timeout == 0, "no EOS"
                return
            if msg.type == Gst.MessageType.ERROR:
                raise SystemExit(f"FAIL: {msg.parse_error()}")
            if msg.type == Gst.MessageType.EOS:
                return
            s = msg.get_structure()
            rid = s.get_value("roi-id")
            if s.get_name() == "imgrec-sequence":
                last[rid] = s.get_value("class-id")
            elif s.get_name() == "imgrec-sequence-change":
                changes[rid] = changes.get(rid, 0) + 1

    pipeline.set_state(Gst.State.PLAYING)
    canvas = np.zeros((SIZE, SIZE, 3), np.uint8)
    k = 0
    for _, frames in tracks:
        for f in frames:
            canvas[OFFSET:OFFSET + 32 * SCALE, OFFSET:OFFSET + 32 * SCALE] = \
                f.repeat(SCALE, 0).repeat(SCALE, 1)
            buf = Gst.Buffer.new_wrapped(canvas.tobytes())
            buf.pts = int(round(k * Gst.SECOND / FPS))
            buf.duration = Gst.SECOND // FPS
            assert src.emit("push-buffer", buf) == Gst.FlowReturn.OK
            k += 1
        drain()
    src.emit("end-of-stream")
    drain(600 * Gst.SECOND)
    pipeline.set_state(Gst.State.NULL)

    correct = sum(last.get(i) == lab for i, (lab, _) in enumerate(tracks))
    once = sum(changes.get(i, 0) == 1 for i in range(len(tracks)))
    many = [i for i in range(len(tracks)) if changes.get(i, 0) > 2]
    acc = correct / len(tracks)
    print(f"final label correct on {correct}/{len(tracks)} tracks ({100 * acc:.1f} %); "
          f"label-change message exactly once on {once}/{len(tracks)} tracks")
    ok = acc >= 0.98 and once >= 0.98 * len(tracks) and not many
    if not ok:
        print(f"FAIL: accuracy {acc:.3f} (>= 0.98), once {once}, more than twice on {many}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
