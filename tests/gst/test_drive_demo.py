#!/usr/bin/env python3
"""Runs the README demo's chain (pipelines/drive-demo.sh) on a short driving feed and asserts
floors on its score against imgrecdrivesrc's ground truth (tools/score_drive_demo.py):

- detection recall and precision (IoU 0.5, signs >= 20 px), id switches;
- the CNN-RNN's per-track final-label accuracy (with the restorer);
- the restorer's degradation gate: it leaves (almost) every clean sign untouched and restores
  some degraded ones;
- the camera alarm raised during the covered-lens segment (reason realism) and the
  defocused-lens one (reason defocus: the lens-sharpness check), and no false alarm;
- a clean run prints nothing a user would read as an error;
- --file on the MP4 it wrote and on 60 frames of ../shared/videos/dashcam-highway-960x540.mp4
  (when it is there): the same chain on a video, no whole-frame label (the classifier runs on
  the detected regions only), and no alarm on the real footage.

The floors are the shipped traffic-sign-detector's figures at the demo's threshold (see FLOORS)
less a margin; raise them with a better model.

Usage: test_drive_demo.py SOURCE_ROOT BUILD_ROOT WORK_DIR
Exit status 77 (skip) when no H.264 encoder, the detector or another shipped model is missing.
"""
import json
import os
import shutil
import sys

from pipeline_skips import skip, skip_reason
from test_gan_pipelines import run  # a clean run: exit status 0, nothing alarming printed

# 9 s: every condition that has signs, then the covered lens and day again for the alarm to leave,
# then the defocused lens.
SEGMENTS = "day:3,night:1,rain:1,motion-blur:1,covered:1,day:1,defocus:1"
SECONDS = 9
SEED = "3"
# Measured with the shipped traffic-sign-detector (b57989e, held-out AP@0.5 0.653) at
# drive-demo.sh's threshold 0.6: recall 0.583, precision 0.742, 8 of 10 signs followed, 0 id
# switches, CNN-RNN 6 of 8 signs, alarm after 0.5 s on the covered lens (realism) and 0.47 s on
# the defocused one (defocus).  (Without the defocus second: recall 0.650, precision 0.744, 8 of
# 9 signs; the detector finds none of the blurred signs, 0 % as on seed 1.)  Margins: 0.1 on
# the rates, one sign less
# for the CNN-RNN (5 of 8), two fewer signs followed, and one id switch (seeds 1, 11 and 12 have
# none since the tracker matches active tracks first and widens lost tracks' gates by their
# uncertainty; 2-3 on seeds 11 and 12 before), so that another CPU's rounding (AVX2 / AVX-512)
# moving a score across the threshold does not fail the test.  The restorer's gate restored 2 of
# the 135 matched clean regions (1.5 %, blurred) and 17 of 114 degraded ones: at most 5 % clean,
# at least one degraded.
MODELS = ("traffic-sign-detector/traffic-sign-detector.onnx", "traffic-signs/traffic-signs.onnx",
          "traffic-signs-gan/generator.onnx", "traffic-signs-gan/discriminator.onnx",
          "traffic-signs-restore/traffic-signs-restore.onnx",
          "traffic-signs-seq/traffic-signs-seq.onnx")
FLOORS = {
    "detection-recall": 0.48,
    "detection-precision": 0.64,
    "min-signs-tracked": 6,
    "max-id-switches": 1,
    "seq-accuracy": 0.6,
    "max-clean-restored": 0.05,
}


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")
    print(f"ok: {what}")


def main():
    root, build, work = sys.argv[1:4]
    env = dict(os.environ, IMGREC_BUILD=build, IMGREC_SEGMENTS=SEGMENTS, IMGREC_SEED=SEED)
    reason = skip_reason(root, MODELS, env)
    if reason:
        return skip(reason)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    script = os.path.join(root, "pipelines", "drive-demo.sh")

    synthetic = os.path.join(work, "synthetic")
    text = run(["bash", script, synthetic], env)
    for f in ("annotated.mp4", "results.jsonl", "results-no-restore.jsonl", "ground-truth.jsonl"):
        check(os.path.getsize(os.path.join(synthetic, f)) > 0, f"drive-demo wrote {f}")
    with open(os.path.join(synthetic, "score.json")) as f:
        s = json.load(f)
    check(s["frames"] == SECONDS * 30, f"{s['frames']} frames scored, {SECONDS * 30} expected")
    check("final label per followed sign" in text and "alarm:" in text, "the score is printed")
    d = s["detection"]
    check(d["recall"] >= FLOORS["detection-recall"],
          f"detection recall {d['recall']:.3f} >= {FLOORS['detection-recall']}")
    check(d["precision"] >= FLOORS["detection-precision"],
          f"detection precision {d['precision']:.3f} >= {FLOORS['detection-precision']}")
    t = s["tracking"]
    check(t["signs-tracked"] >= FLOORS["min-signs-tracked"],
          f"{t['signs-tracked']} of {t['signs']} signs followed (>= {FLOORS['min-signs-tracked']})")
    check(t["id-switches"] <= FLOORS["max-id-switches"],
          f"{t['id-switches']} id switches <= {FLOORS['max-id-switches']}")
    seq = s["labels"]["restore"]["sequence"]["all"]
    check(seq["accuracy"] >= FLOORS["seq-accuracy"],
          f"CNN-RNN final-label accuracy {seq['accuracy']:.3f} over {seq['signs']} signs "
          f">= {FLOORS['seq-accuracy']}")
    check("no-restore" in s["labels"], "the branch without the restorer is scored")
    g = s["restorer"]
    clean = g["clean"]["restored"] / max(g["clean"]["regions"], 1)
    check(clean <= FLOORS["max-clean-restored"],
          f"the gate restored {g['clean']['restored']} of {g['clean']['regions']} clean regions "
          f"(<= {FLOORS['max-clean-restored']:.0%})")
    check(g["degraded"]["restored"] >= 1,
          f"the gate restored {g['degraded']['restored']} of {g['degraded']['regions']} degraded "
          "regions (>= 1)")
    a = s["alarm"]
    covered = [f for f in a["faults"] if f["segment"] == "covered"]
    check(len(covered) == 1 and covered[0]["hit"] and "realism" in covered[0]["reasons"],
          f"the alarm is raised during the covered lens, reason realism ({covered})")
    defocus = [f for f in a["faults"] if f["segment"] == "defocus"]
    check(len(defocus) == 1 and defocus[0]["hit"] and "defocus" in defocus[0]["first-reasons"],
          f"the alarm is raised during the defocused lens, reason defocus ({defocus})")
    check(a["false-alarms"] == 0, f"{a['false-alarms']} false alarms")

    real = os.path.join(work, "file")
    text = run(["bash", script, "--file", os.path.join(synthetic, "annotated.mp4"), real], env)
    with open(os.path.join(real, "score.json")) as f:
        s = json.load(f)
    check(s["frames"] == SECONDS * 30, f"--file: {s['frames']} frames")
    check(s["detections"] > 0 and s["tracks"] > 0, f"--file: {s['detections']} detections, "
          f"{s['tracks']} tracks")
    check(s["whole-frame-labels"] == 0, "--file: no whole-frame label")
    check("whole-frame labels: 0" in text, "--file: the summary says so")

    # Real footage (../shared, next to the checkout): regions only, never a whole-frame label.
    video = os.path.join(root, "..", "shared", "videos", "dashcam-highway-960x540.mp4")
    if not os.path.exists(video):
        print(f"skipped: real footage ({video} is not there)")
        return 0
    dashcam = os.path.join(work, "dashcam")
    run(["bash", script, "--file", video, dashcam], dict(env, IMGREC_FRAMES="60"))
    with open(os.path.join(dashcam, "score.json")) as f:
        s = json.load(f)
    check(s["frames"] == 60, f"dashcam: {s['frames']} frames (IMGREC_FRAMES=60)")
    check(s["whole-frame-labels"] == 0, "dashcam: no whole-frame label")
    check(s["alarm-frames"] == 0, f"dashcam: {s['alarm-frames']} alarm frames on normal driving")
    return 0


if __name__ == "__main__":
    sys.exit(main())
