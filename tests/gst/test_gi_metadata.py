#!/usr/bin/env python3
"""Reads imgrec results from Python through GObject-introspection.

Runs videotestsrc -> imgrecclassify -> videoscale -> appsink and checks, for
every buffer, the label, confidence, ranked classes, region and flags that
libgstimgrec-1.0 exposes to Python (GstImgRec-1.0.typelib), and the ROI param
read through GstVideo.  Exit status 77 (skip) when python3-gi or the typelib
is missing.
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


def run(model, pattern, extra=""):
    desc = (f"videotestsrc num-buffers=6 pattern={pattern} ! "
            f"video/x-raw,format=I420,width=320,height=240 ! "
            f"imgrecclassify model=\"{model}\" top-k=3 {extra} ! videoscale ! "
            f"video/x-raw,width=160,height=120 ! appsink name=sink sync=false")
    pipeline = Gst.parse_launch(desc)
    sink = pipeline.get_by_name("sink")
    assert pipeline.set_state(Gst.State.PLAYING) != Gst.StateChangeReturn.FAILURE
    results = []
    while True:
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        buf = sample.get_buffer()
        metas = GstImgRec.buffer_get_imgrec_classification_metas(buf)
        assert len(metas) == 1, f"{len(metas)} metas on a buffer"
        m = metas[0]
        tops = [m.get_top(i) for i in range(m.get_n_top())]
        roi = GstVideo.buffer_get_video_region_of_interest_meta_id(buf, m.get_roi_id())
        param = roi.get_param("imgrec-classification") if roi else None
        results.append((m, tops, param, buf.pts))
        results[-1] = (m.get_label(), m.get_confidence(), m.get_class_id(),
                       [(t.class_id, t.label, t.confidence) for t in tops if t[0]],
                       m.get_region(), m.is_carried(), m.get_model(),
                       param.get_string("label") if param else None, buf.pts)
    pipeline.set_state(Gst.State.NULL)
    return results


def main():
    Gst.init(None)
    model = os.path.join(os.environ["IMGREC_GST_TEST_DATA"], "mean-colour.onnx")
    failures = 0

    def check(cond, what):
        nonlocal failures
        if not cond:
            failures += 1
            print("FAIL:", what)

    for pattern, label in (("red", "red"), ("green", "green"), ("blue", "blue")):
        res = run(model, pattern)
        check(len(res) == 6, f"{pattern}: {len(res)} buffers, expected 6")
        for lab, conf, cid, tops, region, carried, model_name, plabel, pts in res:
            check(lab == label, f"{pattern}: label {lab}")
            check(cid == ["red", "green", "blue", "gray"].index(label), f"class id {cid}")
            check(0.9 < conf <= 1.0, f"{pattern}: confidence {conf}")
            check(len(tops) == 3 and tops[0][1] == label and abs(tops[0][2] - conf) < 1e-6,
                  f"{pattern}: top-k {tops}")
            check(all(tops[i][2] >= tops[i + 1][2] for i in range(2)), "top-k order")
            # videoscale scaled the region with the frame
            check((region.x, region.y, region.width, region.height) == (0, 0, 160, 120),
                  f"region {region}")
            check(not carried, "fresh result flagged carried")
            check(model_name == "mean-colour", f"model {model_name}")
            check(plabel == label, f"ROI param label {plabel}")

    res = run(model, "red", "inference-interval=3")
    check([r[5] for r in res] == [False, True, True, False, True, True],
          f"carried flags {[r[5] for r in res]}")

    if failures:
        print(f"{failures} failure(s)")
        return 1
    print("ok: labels, confidences, top-k, regions, flags and ROI params read through GI")
    return 0


if __name__ == "__main__":
    sys.exit(main())
