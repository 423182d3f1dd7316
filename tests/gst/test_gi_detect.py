#!/usr/bin/env python3
"""Reads imgrecdetect's and imgrectrack's results from Python through
GObject-introspection: detection metas (label, confidence, box, region,
parent), track metas (id, state, hits) and the DL Streamer params, after a
videoscale that halves the frame.  Exit status 77 (skip) when python3-gi or
the typelib is missing.
"""
import os
import sys

try:
    import gi
    gi.require_version("Gst", "1.0")
    gi.require_version("GstVideo", "1.0")
    gi.require_version("GstImgRec", "1.0")
    from gi.repository import Gst, GstImgRec, GstVideo  # noqa: F401
except (ImportError, ValueError) as e:
    print(f"SKIP: {e}")
    sys.exit(77)


def main():
    Gst.init(None)
    data = os.environ["IMGREC_GST_TEST_DATA"]
    model = os.path.join(data, "det-yolov8-const.onnx")
    expected = []
    with open(os.path.join(data, "expected-const.txt")) as f:
        f.readline()
        for line in f:
            x0, y0, x1, y1, score, cls = line.split()
            expected.append((float(x0), float(y0), float(x1), float(y1), float(score), int(cls)))
    desc = (f"videotestsrc num-buffers=5 ! video/x-raw,format=I420,width=1280,height=720 ! "
            f"imgrecdetect model=\"{model}\" ! imgrectrack ! videoscale ! "
            f"video/x-raw,width=640,height=360 ! appsink name=sink sync=false")
    pipeline = Gst.parse_launch(desc)
    sink = pipeline.get_by_name("sink")
    assert pipeline.set_state(Gst.State.PLAYING) != Gst.StateChangeReturn.FAILURE
    failures = 0

    def check(cond, what):
        nonlocal failures
        if not cond:
            failures += 1
            print("FAIL:", what)

    frame = 0
    ids = None
    while True:
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        buf = sample.get_buffer()
        dets = GstImgRec.buffer_get_imgrec_detection_metas(buf)
        check(len(dets) == len(expected), f"frame {frame}: {len(dets)} detections")
        for m, e in zip(dets, expected):
            x0, y0, x1, y1 = m.get_box()
            # the frame was halved by videoscale: so were the boxes
            check(abs(x0 - e[0] / 2) < 0.01 and abs(y1 - e[3] / 2) < 0.01,
                  f"box {m.get_box()} vs {e}")
            check(abs(m.get_confidence() - e[4]) < 1e-4, "confidence")
            check(m.get_class_id() == e[5], "class id")
            check(m.get_parent_id() == -1, "parent id")
            check(m.get_label() == ["car", "person", "bike"][e[5]], "label")
            roi = GstVideo.buffer_get_video_region_of_interest_meta_id(buf, m.get_roi_id())
            check(roi is not None, "detection ROI")
            if roi:
                p = roi.get_param("detection")
                check(p is not None and abs(p.get_value("x_min") - e[0] / 1280) < 1e-3,
                      "DL Streamer detection param after scaling")
        tracks = GstImgRec.buffer_get_imgrec_track_metas(buf)
        if frame < 2:
            check(len(tracks) == 0, f"frame {frame}: tracks before min-hits")
        else:
            got = sorted(t.get_track_id() for t in tracks)
            check(len(got) == 4, f"frame {frame}: {len(got)} tracks")
            for t in tracks:
                check(t.get_state() == GstImgRec.TrackState.TRACKED, "state")
                check(t.get_hits() == frame + 1, f"hits {t.get_hits()}")
                roi = GstVideo.buffer_get_video_region_of_interest_meta_id(buf, t.get_roi_id())
                check(roi is not None and roi.get_param("object_id") is not None,
                      "object_id param after scaling")
            if ids is None:
                ids = got
            check(got == ids, f"ids changed: {got} vs {ids}")
        frame += 1
    pipeline.set_state(Gst.State.NULL)
    check(frame == 5, f"{frame} frames")
    print("detections and tracks read from Python:", "ok" if failures == 0 else f"{failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
