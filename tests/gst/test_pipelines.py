#!/usr/bin/env python3
"""Runs the pipelines/ scripts end to end and checks what they write.

- pipelines/demo.sh: an MP4 that GStreamer can decode back, and one JSON line
  per frame with a classification in each;
- pipelines/annotate-file.sh on the demo's video: the same checks;
- pipelines/classify-photos.sh on darknet's photos (when the `darknet`
  package is installed): one labelled line per photo.

Usage: test_pipelines.py SOURCE_ROOT BUILD_ROOT WORK_DIR
Exit status 77 (skip) when no H.264 encoder or the shipped model is missing.
"""
import json
import os
import shutil
import subprocess
import sys

from pipeline_skips import skip, skip_reason


def run(cmd, env):
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=600)
    print(p.stdout)
    if p.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(cmd)} exited with {p.returncode}")
    return p.stdout


def check_jsonl(path, min_lines):
    lines = open(path).read().splitlines()
    assert len(lines) >= min_lines, f"{path}: {len(lines)} lines, expected >= {min_lines}"
    for i, line in enumerate(lines):
        obj = json.loads(line)
        assert obj["frame"] == i, f"{path}:{i + 1}: frame {obj['frame']}"
        res = obj["results"]
        assert len(res) == 1 and res[0]["kind"] == "classification", f"{path}:{i + 1}: {res}"
        assert res[0]["label"] and 0.0 < res[0]["confidence"] <= 1.0
    return len(lines)


def decoded_frames(path):
    """Decodes the file with GStreamer and counts the frames."""
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)
    pipeline = Gst.parse_launch(f"filesrc location=\"{path}\" ! decodebin ! "
                                "fakesink name=sink sync=false")
    count = [0]

    def probe(pad, info):
        count[0] += 1
        return Gst.PadProbeReturn.OK

    pipeline.get_by_name("sink").get_static_pad("sink").add_probe(
        Gst.PadProbeType.BUFFER, probe)
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(120 * Gst.SECOND,
                                                Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    assert msg is not None and msg.type == Gst.MessageType.EOS, f"{path} does not decode"
    return count[0]


def main():
    root, build, work = sys.argv[1:4]
    model = os.path.join(root, "models", "objects-cifar10", "objects-cifar10.onnx")
    env = dict(os.environ, IMGREC_BUILD=build)
    reason = skip_reason(root, ("objects-cifar10/objects-cifar10.onnx",), env)
    if reason:
        return skip(reason)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    demo = os.path.join(work, "demo")
    run(["bash", os.path.join(root, "pipelines", "demo.sh"), model, demo], env)
    n = check_jsonl(os.path.join(demo, "results.jsonl"), 250)
    frames = decoded_frames(os.path.join(demo, "annotated.mp4"))
    assert frames == n, f"annotated.mp4 decodes to {frames} frames, JSON has {n} lines"

    out = os.path.join(work, "annotated.mp4")
    run(["bash", os.path.join(root, "pipelines", "annotate-file.sh"),
         os.path.join(demo, "annotated.mp4"), out, model], env)
    assert check_jsonl(os.path.join(work, "annotated.jsonl"), n) == n
    assert decoded_frames(out) == n

    if os.path.isdir("/usr/share/darknet/data"):
        text = run(["bash", os.path.join(root, "pipelines", "classify-photos.sh"), model],
                   dict(env, IMGREC_JSON=os.path.join(work, "photos.jsonl")))
        labelled = [l for l in text.splitlines() if l.endswith("%)")]
        photos = [f for f in os.listdir("/usr/share/darknet/data") if f.endswith(".jpg")]
        assert len(labelled) == len(photos), f"{len(labelled)} labels for {len(photos)} photos"
    print("ok: demo, annotate-file and classify-photos pipelines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
