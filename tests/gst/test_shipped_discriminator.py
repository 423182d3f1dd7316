#!/usr/bin/env python3
"""The shipped traffic-signs-gan discriminator in imgrecgan: PyTorch's scores, and camera alarms.

1. The images of tests/models/data/traffic-signs-gan-discriminator/ (on the 8-bit grid), pushed as
   32x32 RGB frames through imgrecgan mode=discriminate ! imgrecjson, get the realism logit that
   PyTorch computed at export (output_score.npy) and score = sigmoid(logit).
2. A sign camera's feed, made of the shipped generator's frames (imgrecgansrc, classes cycling,
latent walk), is interrupted twice: once by a covered lens (near-black frames with sensor noise),
once by a defocused lens (the same sign frames blurred). imgrecgan mode=discriminate with the
shipped discriminator must post `imgrec-anomaly` (anomaly=TRUE) during each interruption, a
recovery (anomaly=FALSE) after each, and nothing while the feed is sharp signs.

Usage: test_shipped_discriminator.py SOURCE_ROOT
Exit status 77 (skip) when python3-gi or a shipped model is missing.
"""
import json
import math
import os
import sys
import tempfile

import numpy as np

try:
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
except (ImportError, ValueError) as e:
    print(f"SKIP: {e}")
    sys.exit(77)

SIZE = 64          # frames are 64x64 RGB; the element scales them to the model's 32x32
FPS = 10
SEG = 20           # frames per segment
THRESHOLD, FRAMES, HYSTERESIS = 0.2, 5, 0.15


def sign_frames(generator, n):
    desc = (f'imgrecgansrc model="{generator}" seed=3 class-duration=500000000 latent-walk=true '
            f'walk-frames=10 num-buffers={n} ! videoconvert ! '
            f'video/x-raw,format=RGB,width={SIZE},height={SIZE},framerate={FPS}/1 ! '
            f'appsink name=sink sync=false')
    p = Gst.parse_launch(desc)
    sink = p.get_by_name("sink")
    p.set_state(Gst.State.PLAYING)
    frames = []
    while True:
        s = sink.emit("pull-sample")
        if s is None:
            break
        buf = s.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        assert ok
        stride = len(info.data) // SIZE   # RGB rows are padded to 4 bytes
        a = np.frombuffer(info.data, np.uint8).reshape(SIZE, stride)[:, :SIZE * 3].reshape(SIZE, SIZE, 3)
        frames.append(a.copy())
        buf.unmap(info)
    p.set_state(Gst.State.NULL)
    assert len(frames) == n, f"imgrecgansrc gave {len(frames)} frames, expected {n}"
    return frames


def covered(rng):
    """A hand over the lens: nearly black, a little sensor noise."""
    return np.clip(6 + 3 * rng.randn(SIZE, SIZE, 3), 0, 255).astype(np.uint8)


def defocused(frame, sigma=2.5):
    """Gaussian blur (separable, replicate border) of a uint8 frame; sigma in pixels of 64."""
    r = int(3 * sigma)
    k = np.exp(-np.arange(-r, r + 1) ** 2 / (2 * sigma * sigma))
    k /= k.sum()
    x = frame.astype(np.float64)
    x = np.pad(x, ((r, r), (0, 0), (0, 0)), mode="edge")
    x = sum(k[i] * x[i:i + SIZE] for i in range(2 * r + 1))
    x = np.pad(x, ((0, 0), (r, r), (0, 0)), mode="edge")
    x = sum(k[i] * x[:, i:i + SIZE] for i in range(2 * r + 1))
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def push_and_collect(desc, frames, fps, bus_types=None):
    """Run DESC (an appsrc named src first) on FRAMES (uint8 HxWx3); returns the bus messages of
    BUS_TYPES posted until EOS (an ERROR fails the test)."""
    p = Gst.parse_launch(desc)
    src = p.get_by_name("src")
    bus = p.get_bus()
    p.set_state(Gst.State.PLAYING)
    dur = Gst.SECOND // fps
    for i, f in enumerate(frames):
        buf = Gst.Buffer.new_wrapped(np.ascontiguousarray(f).tobytes())
        buf.pts, buf.duration = i * dur, dur
        assert src.emit("push-buffer", buf) == Gst.FlowReturn.OK
    src.emit("end-of-stream")
    msgs = []
    wanted = Gst.MessageType.EOS | Gst.MessageType.ERROR
    if bus_types is not None:
        wanted |= bus_types
    while True:
        msg = bus.timed_pop_filtered(30 * Gst.SECOND, wanted)
        assert msg is not None, "no EOS within 30 s"
        if msg.type == Gst.MessageType.ERROR:
            raise SystemExit(f"FAIL: {msg.parse_error()}")
        if msg.type == Gst.MessageType.EOS:
            break
        msgs.append(msg)
    p.set_state(Gst.State.NULL)
    return msgs


def check_pytorch_scores(root, dis):
    d = os.path.join(root, "tests", "models", "data", "traffic-signs-gan-discriminator")
    x = np.load(os.path.join(d, "input_image.npy"))            # [4,3,32,32] = RGB/255*2-1
    want = np.load(os.path.join(d, "output_score.npy"))[:, 0]   # PyTorch's realism logits
    u8 = np.round((x + 1) * 127.5)
    assert np.abs(u8 - (x + 1) * 127.5).max() < 1e-3, "the committed images are not 8-bit frames"
    frames = [f.transpose(1, 2, 0).astype(np.uint8) for f in u8]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "scores.jsonl")
        push_and_collect(f"appsrc name=src format=time caps=video/x-raw,format=RGB,width=32,height=32,"
                         f"framerate={FPS}/1 ! imgrecgan mode=discriminate model=\"{dis}\" ! "
                         f"imgrecjson location=\"{out}\" ! fakesink", frames, FPS)
        lines = [json.loads(line) for line in open(out)]
    assert len(lines) == len(want), f"{len(lines)} JSON lines for {len(want)} frames"
    for i, (obj, w) in enumerate(zip(lines, want)):
        r = [r for r in obj["results"] if r.get("role") == "discriminated"]
        assert len(r) == 1, obj
        logit, score = r[0]["logit"], r[0]["score"]
        print("frame %d: logit %.6f (PyTorch %.6f), score %.6f" % (i, logit, w, score))
        assert abs(logit - w) <= 1e-4 * max(1.0, abs(w)), f"frame {i}: logit {logit}, PyTorch {w}"
        assert abs(score - 1 / (1 + math.exp(-w))) <= 1e-4, f"frame {i}: score {score} != sigmoid({w})"
    print("ok: imgrecgan's realism logits equal PyTorch's on the committed images")


def main():
    root = sys.argv[1]
    gen = os.path.join(root, "models", "traffic-signs-gan", "generator.onnx")
    dis = os.path.join(root, "models", "traffic-signs-gan", "discriminator.onnx")
    for m in (gen, dis):
        if not os.path.exists(m):
            print(f"SKIP: {m} is not there")
            return 77
    Gst.init(None)
    check_pytorch_scores(root, dis)
    rng = np.random.RandomState(5)
    signs = sign_frames(gen, 4 * SEG)
    # sharp | covered | sharp | defocused | sharp
    feed = (signs[:SEG] + [covered(rng) for _ in range(SEG)] + signs[SEG:2 * SEG]
            + [defocused(f) for f in signs[2 * SEG:3 * SEG]] + signs[3 * SEG:])
    segments = ["sharp", "covered", "sharp", "defocused", "sharp"]

    desc = (f"appsrc name=src format=time caps=video/x-raw,format=RGB,width={SIZE},height={SIZE},"
            f"framerate={FPS}/1 ! imgrecgan mode=discriminate model=\"{dis}\" "
            f"anomaly-threshold={THRESHOLD} anomaly-frames={FRAMES} anomaly-hysteresis={HYSTERESIS} ! "
            f"fakesink sync=false")
    dur = Gst.SECOND // FPS
    events = []
    for msg in push_and_collect(desc, feed, FPS, Gst.MessageType.ELEMENT):
        s = msg.get_structure()
        if s.get_name() != "imgrec-anomaly":
            continue
        frame = s.get_value("timestamp") // dur
        events.append((bool(s.get_value("anomaly")), frame, segments[frame // SEG], s.get_value("score")))
    for e in events:
        print("imgrec-anomaly anomaly=%s at frame %d (%s segment), score %.3f" % e)
    got = [(a, seg) for a, _, seg, _ in events]
    # each alarm is raised inside its interruption; each recovery comes after it, in the sharp
    # segment that follows (recovering needs FRAMES sharp frames, so never inside the interruption)
    want = [(True, "covered"), (False, "sharp"), (True, "defocused"), (False, "sharp")]
    if got != want:
        raise SystemExit(f"FAIL: anomaly messages {got}, expected {want}")
    print("ok: covered and defocused lens raise imgrec-anomaly and recover; sharp signs raise none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
