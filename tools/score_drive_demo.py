#!/usr/bin/python3
"""Scores the driving demo (pipelines/drive-demo.sh) against imgrecdrivesrc's ground truth.

    /usr/bin/python3 tools/score_drive_demo.py --results RESULTS.jsonl
        [--no-restore RESULTS.jsonl] [--truth GROUND-TRUTH.jsonl] [--seconds S] [--json OUT.json]

RESULTS are imgrecjson lines (docs/metadata.md), GROUND-TRUTH imgrecdrivesrc's (its gst-inspect
documentation). Printed, and written to --json:

- detection recall and precision at IoU >= 0.5 (greedy by confidence) over the signs at least
  MIN_SIDE px on each side and not cut by the frame edge; a detection on a smaller or cut sign
  counts neither way; recall by size bucket and by segment; the same for the tracks' boxes;
- id switches: a sign's matched track id differs from the one it had when last matched;
- per-track final label: each sign followed by a track is judged on the last frame it was
  matched, by the per-frame classifier's and the CNN-RNN's label of that track's region there,
  split by that frame's segment (clean: day; degraded: the rest), for RESULTS (restorer) and
  --no-restore (the same chain without it); and the same accuracies over every matched frame;
- the restorer's gate: of the matched signs' regions on clean and on degraded segments, how many
  imgrecgan restored (`restored`), and the degradations it found;
- the alarm: each covered or defocused-lens segment is a hit when imgrecgan's anomaly state is
  on during it or within LATENCY_S after it ends, with the reasons seen there (`realism`: the
  discriminator, `defocus`: the lens-sharpness check); alarm frames starting outside those
  segments are false alarms, counted by reason too;
- frames per second (--seconds: the pipeline's wall time).

Without --truth (real footage) it prints what can be told without one: frames, detections, tracks,
each track's final CNN-RNN label, alarm frames (and by reason), whole-frame labels (there must be none: the
classifier runs on the detected regions only).
"""
import argparse
import collections
import json
import sys

import numpy as np

IOU = 0.5
MIN_SIDE = 20.0
BUCKETS = [(10, 20), (20, 40), (40, 80), (80, 1e9)]
CLEAN = {"day"}
LENS_FAULTS = {"covered", "defocus"}
LATENCY_S = 1.0


def load(path, what):
    try:
        with open(path) as f:
            lines = [json.loads(line) for line in f if line.strip()]
    except OSError as e:
        sys.exit(f"score_drive_demo: cannot read the {what} {path}: {e.strerror}.")
    except json.JSONDecodeError as e:
        sys.exit(f"score_drive_demo: {path} is not JSON Lines ({e.msg}, line {e.lineno}).")
    if not lines:
        sys.exit(f"score_drive_demo: the {what} {path} is empty.")
    return lines


def iou_matrix(a, b):
    """IoU of every box of a [N,4] with every box of b [M,4] (x0, y0, x1, y1)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    a, b = np.asarray(a, float)[:, None, :], np.asarray(b, float)[None, :, :]
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = w * h
    area = lambda x: (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])
    return inter / np.maximum(area(a) + area(b) - inter, 1e-9)


def greedy_match(ious, order):
    """Pairs (pred, truth) with IoU >= IOU, predictions taken in `order`, each truth once."""
    taken, pairs = set(), []
    for p in order:
        best, best_iou = None, IOU
        for t in range(ious.shape[1]):
            if t not in taken and ious[p, t] >= best_iou:
                best, best_iou = t, ious[p, t]
        if best is not None:
            taken.add(best)
            pairs.append((p, best))
    return pairs


def gt_boxes(truth_line):
    signs = truth_line["signs"]
    boxes = [[s["box"]["x-min"], s["box"]["y-min"], s["box"]["x-max"], s["box"]["y-max"]]
             for s in signs]
    side = [min(b[2] - b[0], b[3] - b[1]) for b in boxes]
    eligible = [side[i] >= MIN_SIDE and not s["truncated"] for i, s in enumerate(signs)]
    return signs, boxes, side, eligible


def region_box(r):
    g = r["region"]
    return [g["x"], g["y"], g["x"] + g["width"], g["y"] + g["height"]]


def predictions(r, kind):
    """Boxes of a frame's detections (best first) or track boxes (measured before predicted)."""
    if kind == "detection":
        dets = sorted((x for x in r["results"] if x["kind"] == "detection"),
                      key=lambda d: -d["confidence"])
        return [[d["box"]["x-min"], d["box"]["y-min"], d["box"]["x-max"], d["box"]["y-max"]]
                for d in dets]
    tracks = sorted((x for x in r["results"] if x["kind"] == "track"),
                    key=lambda x: x["state"] != "tracked")
    return [region_box(x) for x in tracks]


def score_boxes(truth, results, kind):
    tp = fp = fn = 0
    bucket_hit, bucket_all = collections.Counter(), collections.Counter()
    seg_hit, seg_all = collections.Counter(), collections.Counter()
    for t, r in zip(truth, results):
        pred = predictions(r, kind)
        signs, boxes, side, eligible = gt_boxes(t)
        ious = iou_matrix(pred, boxes)
        pairs = greedy_match(ious, range(len(pred)))
        matched_gt = {g for _, g in pairs}
        matched_pred = {p for p, _ in pairs}
        for p in range(len(pred)):
            if p in matched_pred:
                continue
            # a box on a sign too small or cut by the edge is not a false positive
            near_ignored = any(ious[p, g] >= IOU and not eligible[g] for g in range(len(boxes)))
            if not near_ignored:
                fp += 1
        for g in range(len(boxes)):
            hit = g in matched_gt
            for lo, hi in BUCKETS:
                if lo <= side[g] < hi and not signs[g]["truncated"]:
                    bucket_all[lo] += 1
                    bucket_hit[lo] += hit
            if not eligible[g]:
                continue
            seg_all[t["segment"]] += 1
            seg_hit[t["segment"]] += hit
            if hit:
                tp += 1
            else:
                fn += 1
        # a matched detection on an ineligible sign is neither a true nor a false positive
    ratio = lambda a, b: a / b if b else None
    return {
        "recall": ratio(tp, tp + fn), "precision": ratio(tp, tp + fp),
        "true-positives": tp, "false-positives": fp, "missed": fn,
        "recall-by-size": {f"{lo}-{hi if hi < 1e9 else ''}": ratio(bucket_hit[lo], bucket_all[lo])
                           for lo, hi in BUCKETS},
        "recall-by-segment": {s: ratio(seg_hit[s], seg_all[s]) for s in seg_all},
    }


def track_matches(truth, results):
    """Per frame, {gt track id: (pred track id, roi id)} for the eligible signs matched by a track."""
    out = []
    for t, r in zip(truth, results):
        tracks = [x for x in r["results"] if x["kind"] == "track"]
        signs, boxes, _, eligible = gt_boxes(t)
        ious = iou_matrix([region_box(x) for x in tracks], boxes)
        order = sorted(range(len(tracks)), key=lambda i: tracks[i]["state"] != "tracked")
        frame = {}
        for p, g in greedy_match(ious, order):
            if eligible[g]:
                frame[signs[g]["track-id"]] = (tracks[p]["track-id"], tracks[p]["roi-id"])
        out.append(frame)
    return out


def score_tracking(truth, matches):
    last, switches = {}, 0
    gt_tracks = set()
    for t in truth:
        _, _, _, eligible = gt_boxes(t)
        gt_tracks.update(s["track-id"] for s, e in zip(t["signs"], eligible) if e)
    for frame in matches:
        for gt, (pred, _) in frame.items():
            if gt in last and last[gt] != pred:
                switches += 1
            last[gt] = pred
    return {"signs": len(gt_tracks), "signs-tracked": len(last), "id-switches": switches}


def label_of(results_line, kind, roi_id):
    for x in results_line["results"]:
        if x["kind"] == kind and x["roi-id"] == roi_id:
            return x["class-id"]
    return None


def score_labels(truth, results, matches):
    """Accuracy of the classifier and the CNN-RNN: per followed sign on its last matched frame
    ("final"), and over every matched frame ("frames"), by clean/degraded segment."""
    final = {}
    for i, frame in enumerate(matches):
        for gt, (_, roi) in frame.items():
            final[gt] = (i, roi)
    classes = {}
    for t in truth:
        for s in t["signs"]:
            classes[s["track-id"]] = s["class-id"]
    kinds = ("classification", "sequence")
    acc = {w: {k: {"clean": [0, 0], "degraded": [0, 0], "all": [0, 0]} for k in kinds}
           for w in ("final", "frames")}

    def count(which, i, gt, roi):
        split = "clean" if truth[i]["segment"] in CLEAN else "degraded"
        for kind in kinds:
            ok = label_of(results[i], kind, roi) == classes[gt]
            for s in (split, "all"):
                acc[which][kind][s][0] += ok
                acc[which][kind][s][1] += 1

    for gt, (i, roi) in final.items():
        count("final", i, gt, roi)
    for i, frame in enumerate(matches):
        for gt, (_, roi) in frame.items():
            count("frames", i, gt, roi)
    out = {kind: {s: {"accuracy": (c / n if n else None), "signs": n}
                  for s, (c, n) in acc["final"][kind].items()} for kind in kinds}
    out["frames"] = {kind: {s: {"accuracy": (c / n if n else None), "frames": n}
                            for s, (c, n) in acc["frames"][kind].items()} for kind in kinds}
    return out


def score_restorer(truth, results, matches):
    """The restorer's gate on the matched signs: how many of their regions it restored, on clean
    and degraded segments, and for what (imgrecgan's `degradations`)."""
    out = {k: {"restored": 0, "regions": 0} for k in ("clean", "degraded")}
    why = collections.Counter()
    for i, frame in enumerate(matches):
        split = "clean" if truth[i]["segment"] in CLEAN else "degraded"
        for _, roi in frame.values():
            for x in results[i]["results"]:
                if x["kind"] == "gan" and x.get("role") == "restored" and x["roi-id"] == roi:
                    out[split]["regions"] += 1
                    # results written before the gate: every region restored
                    if x.get("restored", True):
                        out[split]["restored"] += 1
                        why.update(x.get("degradations") or [])
    out["degradations"] = dict(sorted(why.items()))
    return out


def alarm_reasons(results):
    """Per frame, the sorted reasons of the whole-frame alarm (empty: off)."""
    out = []
    for r in results:
        reasons = set()
        for x in r["results"]:
            if x["kind"] == "gan" and x.get("role") == "discriminated" and x.get("anomaly"):
                # results written before imgrecgan had reasons: its only check, realism
                reasons.update(x.get("anomaly-reasons") or ["realism"])
        out.append(sorted(reasons))
    return out


def count_by_reason(frames):
    c = collections.Counter()
    for reasons in frames:
        c.update(reasons)
    return dict(sorted(c.items()))


def score_alarm(truth, results, fps):
    reasons = alarm_reasons(results)
    on = [bool(x) for x in reasons]
    segments, start = [], 0
    for i in range(1, len(truth) + 1):
        if i == len(truth) or truth[i]["segment"] != truth[start]["segment"]:
            segments.append((truth[start]["segment"], start, i))
            start = i
    tail = int(round(LATENCY_S * fps))
    faults, allowed = [], np.zeros(len(on), bool)
    for name, a, b in segments:
        if name not in LENS_FAULTS:
            continue
        allowed[a:min(b + tail, len(on))] = True
        window = range(a, min(b + tail, len(on)))
        first = next((j for j in window if on[j]), None)
        faults.append({"segment": name, "start-s": a / fps, "seconds": (b - a) / fps,
                       "hit": first is not None,
                       "latency-s": None if first is None else (first - a) / fps,
                       "reasons": sorted({x for j in window for x in reasons[j]}),
                       "first-reasons": [] if first is None else reasons[first]})
    starts = [j for j in range(len(on)) if on[j] and not allowed[j] and (j == 0 or not on[j - 1])]
    return {"faults": faults, "hits": sum(f["hit"] for f in faults), "false-alarms": len(starts),
            "false-alarms-by-reason": count_by_reason(reasons[j] for j in starts),
            "alarm-frames": int(sum(on)), "alarm-frames-by-reason": count_by_reason(reasons)}


def fmt(x, pct=True):
    if x is None:
        return "n/a"
    return f"{100 * x:.1f} %" if pct else f"{x}"


def print_truth_report(s):
    d, t = s["detection"], s["tracking"]
    print(f"frames: {s['frames']} in {s['seconds']:.1f} s = {s['fps']:.1f} fps"
          if s["fps"] else f"frames: {s['frames']}")
    print(f"detection (IoU >= {IOU}, signs >= {MIN_SIDE:.0f} px, not cut by the edge): "
          f"recall {fmt(d['recall'])}, precision {fmt(d['precision'])} "
          f"({d['true-positives']} found, {d['missed']} missed, {d['false-positives']} false)")
    print("  recall by size (px): " + ", ".join(f"{k} {fmt(v)}" for k, v in d["recall-by-size"].items()))
    print("  recall by segment:   " + ", ".join(f"{k} {fmt(v)}" for k, v in d["recall-by-segment"].items()))
    b = s["tracked-boxes"]
    print(f"track boxes (what the overlay keeps on the signs): recall {fmt(b['recall'])}, "
          f"precision {fmt(b['precision'])}")
    print(f"tracking: {t['signs-tracked']} of {t['signs']} signs followed by a track, "
          f"{t['id-switches']} id switches")
    rows = [("final label per followed sign (its last matched frame)", None, "signs"),
            ("label on every matched frame", "frames", "frames")]
    for title, sub, unit in rows:
        print(f"{title}:")
        print(f"{'':<49}{'clean':>14}{'degraded':>14}{'all':>14}")
        for name, key in (("with restorer", "restore"), ("without restorer", "no-restore")):
            if key not in s["labels"]:
                continue
            for kind, who in (("classification", "per-frame classifier"), ("sequence", "CNN-RNN")):
                v = s["labels"][key][sub][kind] if sub else s["labels"][key][kind]
                cells = "".join(f"{fmt(v[x]['accuracy']):>8} ({v[x][unit]:>3})" for x in
                                ("clean", "degraded", "all"))
                print(f"  {who:<21} {name:<24} {cells}")
    g = s["restorer"]
    by = ", ".join(f"{k} {v}" for k, v in g["degradations"].items())
    print(f"restorer (its gate, on the matched signs): restored {g['clean']['restored']} of "
          f"{g['clean']['regions']} clean and {g['degraded']['restored']} of "
          f"{g['degraded']['regions']} degraded regions" + (f" ({by})" if by else ""))
    a = s["alarm"]
    for f in a["faults"]:
        res = (f"hit after {f['latency-s']:.2f} s ({', '.join(f['first-reasons'])})"
               if f["hit"] else "MISSED")
        print(f"alarm: {f['segment']} lens at {f['start-s']:.1f} s ({f['seconds']:.1f} s): {res}")
    by = ", ".join(f"{k} {v}" for k, v in a["false-alarms-by-reason"].items())
    print(f"alarm: {a['hits']} of {len(a['faults'])} lens faults raised it, "
          f"{a['false-alarms']} false alarms" + (f" ({by})" if by else ""))


def file_report(results, seconds):
    tracks = collections.defaultdict(list)
    dets = whole = 0
    for r in results:
        w, h = r["width"], r["height"]
        seq = {x["roi-id"]: x for x in r["results"] if x["kind"] == "sequence"}
        for x in r["results"]:
            if x["kind"] == "detection":
                dets += 1
            if x["kind"] in ("classification", "sequence") and x["region"]["width"] >= w \
                    and x["region"]["height"] >= h:
                whole += 1
            if x["kind"] == "track" and x["roi-id"] in seq:
                tracks[x["track-id"]].append(seq[x["roi-id"]]["label"])
    reasons = alarm_reasons(results)
    return {"frames": len(results), "detections": dets, "tracks": len(tracks),
            "track-labels": {str(k): v[-1] for k, v in sorted(tracks.items())},
            "whole-frame-labels": whole, "alarm-frames": sum(1 for x in reasons if x),
            "alarm-frames-by-reason": count_by_reason(reasons)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", required=True)
    ap.add_argument("--no-restore")
    ap.add_argument("--truth")
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--json")
    args = ap.parse_args()

    results = load(args.results, "results")
    seconds = args.seconds
    fps_out = len(results) / seconds if seconds else None
    if not args.truth:
        s = file_report(results, seconds)
        s.update(seconds=seconds, fps=fps_out)
        print(f"frames: {s['frames']}" + (f" in {seconds:.1f} s = {fps_out:.1f} fps" if seconds else ""))
        by = ", ".join(f"{k} {v}" for k, v in s["alarm-frames-by-reason"].items())
        print(f"detections: {s['detections']}, tracks: {s['tracks']}, alarm frames: {s['alarm-frames']}"
              + (f" ({by})" if by else "") + f", whole-frame labels: {s['whole-frame-labels']}")
        for k, v in list(s["track-labels"].items())[:20]:
            print(f"  track #{k}: {v}")
    else:
        truth = load(args.truth, "ground truth")
        if len(truth) != len(results):
            sys.exit(f"score_drive_demo: {args.truth} has {len(truth)} frames but {args.results} "
                     f"{len(results)}; they must come from the same run.")
        fps = 1e9 / (truth[1]["timestamp"] - truth[0]["timestamp"]) if len(truth) > 1 else 30.0
        matches = track_matches(truth, results)
        s = {"frames": len(results), "seconds": seconds, "fps": fps_out,
             "detection": score_boxes(truth, results, "detection"),
             "tracked-boxes": score_boxes(truth, results, "track"),
             "tracking": score_tracking(truth, matches),
             "labels": {"restore": score_labels(truth, results, matches)},
             "restorer": score_restorer(truth, results, matches),
             "alarm": score_alarm(truth, results, fps)}
        if args.no_restore:
            plain = load(args.no_restore, "results without the restorer")
            if len(plain) != len(results):
                sys.exit(f"score_drive_demo: {args.no_restore} has {len(plain)} frames, "
                         f"{args.results} {len(results)}.")
            s["labels"]["no-restore"] = score_labels(truth, plain, track_matches(truth, plain))
        print_truth_report(s)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(s, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
