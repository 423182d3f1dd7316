#!/usr/bin/env python3
"""Reads imgrecseq results from Python through GObject-introspection, and
checks imgrecjson's sequence members.

videotestsrc -> imgrecroi (two regions, one keyframed) -> imgrecseq
scope=roi -> videoscale -> imgrecjson -> appsink: for every buffer, the
sequence metas (label, confidence, top-k, steps, scope id, region scaled by
videoscale, kind "sequence"), the imgrec-sequence ROI param, and the JSON
line written for it.  Exit status 77 (skip) when python3-gi or the typelib is
missing.
"""
import json
import os
import sys
import tempfile

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
    model = os.path.join(os.environ["IMGREC_SEQ_TEST_DATA"], "seq-step.onnx")
    failures = []
    check = lambda cond, what: cond or failures.append(what)  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        jsonl = os.path.join(tmp, "out.jsonl")
        # 10 frames at 10 fps; region b exists from 0.2 s to 0.6 s
        desc = (f"videotestsrc num-buffers=10 ! video/x-raw,format=I420,width=320,"
                f"height=240,framerate=10/1 ! imgrecroi regions=\"a=0,0,64,64;"
                f"b=0.2:100,100,40,40/0.6:140,100,40,40\" ! imgrecseq scope=roi "
                f"top-k=3 model=\"{model}\" ! videoscale ! video/x-raw,width=160,"
                f"height=120 ! imgrecjson location=\"{jsonl}\" ! appsink name=sink "
                f"sync=false")
        pipeline = Gst.parse_launch(desc)
        sink = pipeline.get_by_name("sink")
        assert pipeline.set_state(Gst.State.PLAYING) != Gst.StateChangeReturn.FAILURE
        frame = 0
        while True:
            sample = sink.emit("pull-sample")
            if sample is None:
                break
            buf = sample.get_buffer()
            metas = GstImgRec.buffer_get_imgrec_sequence_metas(buf)
            expected_ids = [0, 1] if 2 <= frame <= 6 else [0]
            check(sorted(m.get_roi_id() for m in metas) == expected_ids,
                  f"frame {frame}: regions {[m.get_roi_id() for m in metas]}")
            for m in metas:
                rid = m.get_roi_id()
                check(m.get_scope_id() == rid, f"scope id {m.get_scope_id()}")
                # imgrecroi's regions carry tracking-id = their ROI id
                check(m.get_scope_tracked(), "imgrecroi's region: not a tracking id")
                steps = frame + 1 if rid == 0 else frame - 1
                check(m.get_steps() == steps, f"frame {frame} region {rid}: steps "
                      f"{m.get_steps()}, expected {steps}")
                check(m.get_label() == "beta" or m.get_label() in
                      ("alpha", "gamma", "delta", "epsilon"), f"label {m.get_label()}")
                ok, cid, label, conf = m.get_top(0)
                check(ok and label == m.get_label() and abs(conf - m.get_confidence()) < 1e-6,
                      f"top {ok} {label} {conf}")
                check(m.get_n_top() == 3, f"n_top {m.get_n_top()}")
                start, end = m.get_window()
                check(start == Gst.CLOCK_TIME_NONE and end == Gst.CLOCK_TIME_NONE,
                      "window times of a step model")
                check(m.get_model() == "seq-step", f"model {m.get_model()}")
                if rid == 0:
                    r = m.get_region()
                    check((r.x, r.y, r.width, r.height) == (0, 0, 32, 32), f"region {r}")
                roi = GstVideo.buffer_get_video_region_of_interest_meta_id(buf, rid)
                param = roi.get_param("imgrec-sequence") if roi else None
                check(param is not None and param.get_string("label") == m.get_label(),
                      "ROI param")
            frame += 1
        pipeline.set_state(Gst.State.NULL)
        check(frame == 10, f"{frame} buffers")
        lines = [json.loads(line) for line in open(jsonl)]
        check(len(lines) == 10, f"{len(lines)} JSON lines")
        for i, obj in enumerate(lines):
            for res in obj["results"]:
                check(res["kind"] == "sequence", f"kind {res['kind']}")
                check(res["steps"] >= 1 and res["scope-id"] == res["roi-id"]
                      and res["scope-tracked"] is True,
                      f"line {i}: {res}")
                check(res["window-start"] is None and len(res["top"]) == 3, f"line {i}: {res}")
    if failures:
        print("\n".join("FAIL: " + f for f in failures))
        return 1
    print("ok: sequence metas, ROI params and JSON read through GI")
    return 0


if __name__ == "__main__":
    sys.exit(main())
