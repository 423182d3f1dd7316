#!/usr/bin/python3
"""Evaluates traffic-sign-detector through imgrecdetect on held-out road scenes.

The scenes are made by the training compositor (tools/train/sign_scenes.py)
from the two held-out sources only: GTSRB *test* signs pasted onto frames of
dashcam-cars-1280x720.mp4, at the camera's 1280x720, with a fixed seed, every
degradation equally often.  Each scene goes through a GStreamer pipeline
(appsrc ! imgrecdetect ! appsink); the detections are read from the
GstImgRecDetectionMeta of each buffer through GObject-introspection.

Reports AP@0.5 (all-point interpolated), recall at precision >= 0.9 and the
best F1 operating point, for signs >= 20 px and per size bucket (10-20,
20-40, 40-80, 80+ px, the sign's longer side in frame pixels) and per
degradation; detections that match a sign outside the bucket are ignored,
as COCO does for area ranges.  Also the element's frames per second.

  /usr/bin/python3 tools/eval_sign_detector.py MODEL.onnx [--split test|val] [--scenes 400] [--json OUT.json]
      [--build build] [--threads 2]
"""
import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "train"))
import sign_scenes as S  # noqa: E402

BUCKETS = (("10-20", 10, 20), ("20-40", 20, 40), ("40-80", 40, 80), ("80+", 80, 1e9))
FRAME_W, FRAME_H = 1280, 720


def make_scenes(n, seed, shared, split="test"):
    """The evaluation scenes: split "test" is the held-out measurement (GTSRB
    test signs on dashcam-cars); split "val" is for model selection and
    diagnosis: the validation tracks of GTSRB's training set (the same track
    split training leaves out) on frames of dashcam-highway, a training
    background, so a gap between the two says how much is the unseen road."""
    if split == "test":
        test = np.load(os.path.join(shared, "data", "gtsrb", "test.npz"))
        signs = S.SignSource(test["images"], test["labels"], "gtsrb-test")
        video = "dashcam-cars-1280x720.mp4"
    else:
        import data_io as D
        x, y, tracks, _ = D.load_gtsrb_train(os.path.join(shared, "data"))
        val = D.track_split(tracks)
        signs = S.SignSource(x[val], y[val], "gtsrb-val")
        video = "dashcam-highway-960x540.mp4"
    bg = S.read_video_frames(os.path.join(shared, "videos", video), FRAME_W, FRAME_H)
    comp = S.Compositor([bg], [(signs, 1.0)], width=FRAME_W, height=FRAME_H, camera_width=FRAME_W)
    rng = np.random.default_rng(seed)
    scenes = []
    for i in range(n):
        deg = S.DEGRADATIONS[i % len(S.DEGRADATIONS)]
        img, boxes, info = comp.scene(rng, degradation=deg, n_signs=int(rng.integers(1, 7)))
        scenes.append((img, boxes, deg))
    return scenes, video


def detect(model, scenes, build, threads):
    """Runs the scenes through imgrecdetect; returns per scene an array [K,5] (box, score), fps."""
    import gi
    gi.require_version("Gst", "1.0")
    gi.require_version("GstImgRec", "1.0")
    from gi.repository import Gst, GstImgRec
    Gst.init(None)
    p = Gst.parse_launch(
        f"appsrc name=src format=time caps=video/x-raw,format=RGB,width={FRAME_W},"
        f"height={FRAME_H},framerate=25/1 ! imgrecdetect name=det model=\"{model}\" "
        f"threshold=0.01 max-detections=100 threads={threads} ! appsink name=sink sync=false")
    src, sink = p.get_by_name("src"), p.get_by_name("sink")
    if p.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        msg = p.get_bus().timed_pop_filtered(0, Gst.MessageType.ERROR)
        sys.exit(f"eval_sign_detector: the pipeline did not start: {msg.parse_error() if msg else ''}")
    out = []
    t0 = time.monotonic()
    for i, (img, _, _) in enumerate(scenes):
        buf = Gst.Buffer.new_wrapped(np.ascontiguousarray(img).tobytes())
        buf.pts = i * Gst.SECOND // 25
        buf.duration = Gst.SECOND // 25
        src.emit("push-buffer", buf)
        sample = sink.emit("pull-sample")
        if sample is None:
            msg = p.get_bus().timed_pop_filtered(0, Gst.MessageType.ERROR)
            sys.exit(f"eval_sign_detector: no output for scene {i}: {msg.parse_error() if msg else ''}")
        dets = [list(m.get_box()) + [m.get_confidence()]
                for m in GstImgRec.buffer_get_imgrec_detection_metas(sample.get_buffer())]
        out.append(np.array(dets, np.float64).reshape(-1, 5))
    seconds = time.monotonic() - t0
    src.emit("end-of-stream")
    p.set_state(Gst.State.NULL)
    return out, len(scenes) / seconds


def iou_matrix(a, b):
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = ix * iy
    area = lambda r: (r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1])  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter + 1e-9)


def side(boxes):
    return np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])


def evaluate(dets, gts, lo, hi, select=None):
    """AP@0.5, recall at precision >= 0.9, best-F1 point for GT with longer side in [lo, hi)."""
    records, n_gt = [], 0
    for i, (d, g) in enumerate(zip(dets, gts)):
        if select is not None and not select[i]:
            continue
        in_range = (side(g) >= lo) & (side(g) < hi) if len(g) else np.zeros(0, bool)
        n_gt += int(in_range.sum())
        order = np.argsort(-d[:, 4])
        d = d[order]
        taken = np.zeros(len(g), bool)
        ious = iou_matrix(d[:, :4], g) if len(g) and len(d) else np.zeros((len(d), len(g)))
        for k in range(len(d)):
            j = int(np.argmax(ious[k])) if len(g) else -1
            if j >= 0 and ious[k, j] >= 0.5 and not taken[j]:
                taken[j] = True
                if in_range[j]:
                    records.append((d[k, 4], 1))
                # a match to a sign outside the range is neither right nor wrong
            else:
                s = side(d[k:k + 1, :4])[0]
                # an unmatched detection counts against the range it is sized for
                if lo * 0.8 <= s < hi * 1.25:
                    records.append((d[k, 4], 0))
    if n_gt == 0:
        return None
    records.sort(key=lambda r: -r[0])
    tp = np.cumsum([r[1] for r in records]) if records else np.zeros(0)
    fp = np.cumsum([1 - r[1] for r in records]) if records else np.zeros(0)
    recall = tp / n_gt
    precision = tp / np.maximum(tp + fp, 1)
    # all-point interpolated AP
    mrec = np.concatenate([[0], recall, [recall[-1] if len(recall) else 0]])
    mpre = np.concatenate([[1], precision, [0]])
    for k in range(len(mpre) - 2, -1, -1):
        mpre[k] = max(mpre[k], mpre[k + 1])
    ap = float(np.sum((mrec[1:] - mrec[:-1]) * mpre[1:]))
    ok = precision >= 0.9
    r90 = float(recall[ok].max()) if ok.any() else 0.0
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-9)
    best = int(np.argmax(f1)) if len(f1) else -1
    return {"signs": n_gt, "ap50": round(ap, 4), "recall_at_p90": round(r90, 4),
            "best_f1": round(float(f1[best]), 4) if best >= 0 else 0.0,
            "best_f1_threshold": round(float(records[best][0]), 4) if best >= 0 else None,
            "best_f1_precision": round(float(precision[best]), 4) if best >= 0 else 0.0,
            "best_f1_recall": round(float(recall[best]), 4) if best >= 0 else 0.0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--scenes", type=int, default=400)
    ap.add_argument("--seed", type=int, default=2027)
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--shared", default=os.path.normpath(os.path.join(REPO, "..", "shared")))
    ap.add_argument("--json", default="")
    ap.add_argument("--split", choices=("test", "val"), default="test",
                    help="test: the held-out measurement; val: validation scenes for model selection")
    a = ap.parse_args()
    # The plugin and libgstimgrec-1.0's typelib from the build tree; the
    # dynamic loader reads LD_LIBRARY_PATH only at start, hence the re-exec.
    gst_dir = os.path.join(os.path.abspath(a.build), "gst")
    if os.environ.get("IMGREC_EVAL_ENV") != gst_dir:
        env = dict(os.environ, IMGREC_EVAL_ENV=gst_dir, GST_PLUGIN_PATH=gst_dir,
                   GI_TYPELIB_PATH=gst_dir + os.pathsep + os.environ.get("GI_TYPELIB_PATH", ""),
                   LD_LIBRARY_PATH=gst_dir + os.pathsep + os.environ.get("LD_LIBRARY_PATH", ""))
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    if not os.path.exists(os.path.join(a.shared, "data", "gtsrb", "test.npz")):
        print(f"SKIP: {a.shared}/data/gtsrb/test.npz is not there")
        sys.exit(77)
    scenes, video = make_scenes(a.scenes, a.seed, a.shared, a.split)
    gts = [s[1].astype(np.float64) for s in scenes]
    dets, fps = detect(os.path.abspath(a.model), scenes, a.build, a.threads)
    res = {"model": os.path.basename(a.model), "scenes": a.scenes, "seed": a.seed,
           "frame": f"{FRAME_W}x{FRAME_H}", "split": a.split,
           "backgrounds": video + (" (held out)" if a.split == "test" else " (a training background)"),
           "signs_from": "GTSRB test set (held out)" if a.split == "test"
           else "GTSRB training set, validation tracks", "threads": a.threads,
           "imgrecdetect_fps": round(fps, 2),
           "signs_20px_and_larger": evaluate(dets, gts, 20, 1e9),
           "all_signs_10px_and_larger": evaluate(dets, gts, 10, 1e9),
           "by_size": {name: evaluate(dets, gts, lo, hi) for name, lo, hi in BUCKETS},
           "by_degradation_20px_and_larger": {
               deg: evaluate(dets, gts, 20, 1e9, [s[2] == deg for s in scenes])
               for deg in S.DEGRADATIONS}}
    print(json.dumps(res, indent=1))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
