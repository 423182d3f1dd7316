#!/usr/bin/env python3
"""Runs pipelines/detect-track.sh end to end on a synthetic video file.

Writes a 30-frame 1280x720 MP4 (videotestsrc, x264enc or openh264enc), runs
the script with the constant-output YOLOv8 test detector, imgrecdetect
inference-interval=2 and the mean-colour classifier on every tracked object,
and checks the JSON lines: five detections on inferred frames, none between;
four tracks (the fifth detection is below imgrectrack's new-track threshold)
with the same ids from the third inference (frame 4) on, predicted on the
frames between inferences; one classification per tracked region; and that the annotated
MP4 decodes to 30 frames.

Usage: test_detect_pipeline.py SOURCE_ROOT BUILD_ROOT WORK_DIR TEST_DATA
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
    root, build, work, data = sys.argv[1:5]
    encoders = h264_encoders()
    if not encoders:
        return skip(NO_ENCODER)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    video = os.path.join(work, "in.mp4")
    subprocess.run(["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=30", "pattern=ball", "!",
                    "video/x-raw,width=1280,height=720,framerate=10/1", "!", "videoconvert", "!",
                    "video/x-raw,format=I420", "!",
                    *encoders[0].split(), "!", "h264parse", "!", "mp4mux", "!", "filesink",
                    f"location={video}"], check=True)
    env = dict(os.environ, IMGREC_BUILD=build, IMGREC_DETECT_OPTS="inference-interval=2")
    out = os.path.join(work, "out.mp4")
    p = subprocess.run([os.path.join(root, "pipelines", "detect-track.sh"), video,
                        os.path.join(data, "det-yolov8-const.onnx"), out,
                        os.path.join(data, "mean-colour.onnx")],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=600)
    print(p.stdout)
    assert p.returncode == 0, f"detect-track.sh exited with {p.returncode}"
    assert "4 tracks" in p.stdout, "the summary line does not count 4 tracks"
    lines = [json.loads(line) for line in open(os.path.join(work, "out.jsonl"))]
    assert len(lines) == 30, f"{len(lines)} JSON lines"
    ids = None
    for i, obj in enumerate(lines):
        kinds = {}
        for r in obj["results"]:
            kinds.setdefault(r["kind"], []).append(r)
        dets = kinds.get("detection", [])
        assert len(dets) == (5 if i % 2 == 0 else 0), f"frame {i}: {len(dets)} detections"
        for d in dets:
            assert set(d["box"]) == {"x-min", "y-min", "x-max", "y-max"}
            assert d["label"] in ("car", "person", "bike")
        tracks = kinds.get("track", [])
        if i < 4:   # min-hits=3 detections: frames 0, 2, 4
            assert not tracks, f"frame {i}: tracks before min-hits"
            continue
        got = sorted(t["track-id"] for t in tracks)
        assert len(got) == 4, f"frame {i}: tracks {got}"
        ids = ids or got
        assert got == ids, f"frame {i}: ids {got}, first {ids}"
        states = {t["state"] for t in tracks}
        assert states == {"tracked" if i % 2 == 0 else "predicted"}, f"frame {i}: {states}"
        cls = kinds.get("classification", [])
        tracked_rois = {t["roi-id"] for t in tracks}
        assert tracked_rois <= {c["roi-id"] for c in cls}, f"frame {i}: tracked ROIs unclassified"
        rois = {r["id"]: r for r in obj["rois"]}
        for t in tracks:
            params = rois[t["roi-id"]]["params"]
            assert params["imgrec-track"]["tracking-id"] == t["track-id"]
            assert params["object_id"]["id"] == t["track-id"]
    frames = decoded_frames(out)
    assert frames == 30, f"the MP4 decodes to {frames} frames"
    print("ok: detect-track.sh wrote a decodable MP4 and detection/track/classification JSON")
    return 0


if __name__ == "__main__":
    sys.exit(main())
