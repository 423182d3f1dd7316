#!/usr/bin/env python3
"""Runs pipelines/track-signs-seq.sh end to end on a synthetic video file.

Writes a 30-frame MP4 (videotestsrc, x264enc or openh264enc), runs the script with a
fixed and a keyframed region, and checks that the annotated MP4 decodes to
30 frames and that the JSON lines carry one sequence result per region
present, with steps counting up per region.

Usage: test_seq_pipeline.py SOURCE_ROOT BUILD_ROOT WORK_DIR
Exit status 77 (skip) without an H.264 encoder.
"""
import json
import os
import shutil
import subprocess
import sys

from pipeline_skips import NO_ENCODER, h264_encoders, skip


def decoded_frames(path):
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

    pipeline.get_by_name("sink").get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, probe)
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(120 * Gst.SECOND,
                                                Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    assert msg is not None and msg.type == Gst.MessageType.EOS, "decoding failed"
    return count[0]


def main():
    root, build, work = sys.argv[1:4]
    encoders = h264_encoders()
    if not encoders:
        return skip(NO_ENCODER)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    video = os.path.join(work, "in.mp4")
    subprocess.run(["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=30", "pattern=ball", "!",
                    "video/x-raw,width=320,height=240,framerate=10/1", "!", "videoconvert", "!",
                    "video/x-raw,format=I420", "!",
                    *encoders[0].split(), "!", "h264parse", "!", "mp4mux", "!", "filesink",
                    f"location={video}"], check=True)
    env = dict(os.environ, IMGREC_BUILD=build)
    out = os.path.join(work, "out.mp4")
    p = subprocess.run([os.path.join(root, "pipelines", "track-signs-seq.sh"), video,
                        "a=10,10,64,64;b=1.0:100,100,40,40/2.0:200,100,60,60", out],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=600)
    print(p.stdout)
    assert p.returncode == 0, f"track-signs-seq.sh exited with {p.returncode}"
    lines = [json.loads(line) for line in open(os.path.join(work, "out.jsonl"))]
    assert len(lines) == 30, f"{len(lines)} JSON lines"
    steps = {}
    for i, obj in enumerate(lines):
        res = {r["roi-id"]: r for r in obj["results"]}
        want = {0, 1} if 10 <= i <= 20 else {0}
        assert set(res) == want, f"frame {i}: regions {sorted(res)}"
        for rid, r in res.items():
            assert r["kind"] == "sequence" and r["model"] == "traffic-signs-seq"
            steps[rid] = steps.get(rid, 0) + 1
            assert r["steps"] == steps[rid], f"frame {i} region {rid}: steps {r['steps']}"
    frames = decoded_frames(out)
    assert frames == 30, f"the MP4 decodes to {frames} frames"
    print("ok: track-signs-seq.sh wrote a decodable MP4 and per-region sequence JSON")
    return 0


if __name__ == "__main__":
    sys.exit(main())
