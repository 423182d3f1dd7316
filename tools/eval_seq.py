#!/usr/bin/python3
"""Score the traffic-signs-seq step model through imgrec's engine on held-out GTSRB tracks.

Held-out tracks, degradations and frame drops are exactly those of tools/train/traffic_signs_seq.py
(track split seed 1234, 15 % of tracks; make_eval_sets(seed=999): blur, contrast loss, occlusion,
noise, 30 % of frames dropped), built here on CPU. The step model (batch 1: frame [1,3,32,32],
h_in/c_in [1,1,H] -> scores, h_out, c_out) is stepped frame by frame through `imgrec-run`, one call
per frame, feeding each call's h_out/c_out back as the next h_in/c_in (the imgrec.state-map of the
file's metadata_props). Accuracy after 1, 5, 10 and all frames of a track is reported beside the
per-frame CNN (models/traffic-signs/traffic-signs.onnx, also through the engine, batched) on the
same frames, and beside PyTorch on the same tracks (the training run's weights, --runs).

All 196 held-out tracks take about 10,000 imgrec-run calls (~6 min on 2 busy cores); --tracks N
evaluates a fixed random subset instead (seed --subset-seed; PyTorch is then scored on the same
subset).

Usage: /usr/bin/python3 tools/eval_seq.py [--tracks N] [--json OUT.json]
Exits 77 (skip) when the GTSRB training file (which holds the tracks) is absent.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "train"))
import engine_run as E  # noqa: E402

KS = (1, 5, 10)


def parse_state_map(s):
    """'h_in:h_out,c_in:c_out' -> [(in, out), ...]"""
    return [tuple(p.split(":")) for p in s.split(",") if p]


def state_shapes(model, names, imgrec_run):
    """{input name: shape} of the state inputs, from `imgrec-run --info` (fixed dims)."""
    shapes = {}
    for line in E.info(model, imgrec_run).splitlines():
        t = line.strip()
        for n in names:
            if t.startswith(n + ":") and "[" in t:
                shapes[n] = tuple(int(v) for v in t[t.index("[") + 1:t.index("]")].split(","))
    return shapes


def scores_summary(step_scores, lens, y):
    """step_scores: list per track of [len,K] arrays -> accuracy after k frames / all."""
    r = {}
    for k in list(KS) + ["all"]:
        ok = []
        for s, n, t in zip(step_scores, lens, y):
            pos = n - 1 if k == "all" else min(n, k) - 1
            ok.append(int(s[pos].argmax()) == t)
        r["after_%s" % k] = float(np.mean(ok))
    return r


def per_frame_summary(frame_scores, lens, y):
    d = {}
    for k in KS:
        d["frame_%d_alone" % k] = float(np.mean([int(s[min(n, k) - 1].argmax()) == t
                                                 for s, n, t in zip(frame_scores, lens, y)]))
    d["last_frame_alone"] = float(np.mean([int(s[n - 1].argmax()) == t for s, n, t in zip(frame_scores, lens, y)]))
    corr = sum(int((s[:n].argmax(1) == t).sum()) for s, n, t in zip(frame_scores, lens, y))
    d["mean_over_frames"] = corr / float(sum(lens))
    d["softmax_vote_all"] = float(np.mean([int(E.softmax(s[:n]).sum(0).argmax()) == t
                                           for s, n, t in zip(frame_scores, lens, y)]))
    return d


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models-dir", default=os.path.join(REPO, "models"))
    p.add_argument("--data-dir", default=None, help="default: <repo>/.data if present, else ../shared/data")
    p.add_argument("--runs", default=os.path.join(os.path.dirname(REPO), "runs"),
                   help="training runs (traffic-signs-seq/weights.npz, traffic-signs/weights.npz) for PyTorch")
    p.add_argument("--imgrec-run", default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--tracks", type=int, default=0, help="random subset of N held-out tracks (0 = all)")
    p.add_argument("--subset-seed", type=int, default=0)
    p.add_argument("--json", default="")
    a = p.parse_args()

    import torch
    import common as C
    import traffic_signs_seq as S
    torch.set_num_threads(2)
    if a.data_dir is None:
        a.data_dir = C.default_data_dir()
    if not os.path.exists(os.path.join(a.data_dir, "gtsrb", "train-jpeg.npz")):
        print("SKIP: no gtsrb/train-jpeg.npz under", a.data_dir)
        sys.exit(77)
    step_onnx = os.path.join(a.models_dir, "traffic-signs-seq", "traffic-signs-seq.onnx")
    pf_onnx = os.path.join(a.models_dir, "traffic-signs", "traffic-signs.onnx")
    meta = E.metadata(step_onnx)
    smap = parse_state_map(meta["imgrec.state-map"])
    _, mean, std = E.preprocess_params(meta)
    shapes = state_shapes(step_onnx, [si for si, _ in smap], a.imgrec_run)
    H = shapes[smap[0][0]][-1]

    x, y, tr, fr = C.load_gtsrb_train(a.data_dir)
    isval = C.track_split(tr)
    idx, lens = S.track_table(tr, fr)
    tval = np.nonzero(isval[idx[:, 0]])[0]
    n_heldout = len(tval)
    if a.tracks and a.tracks < len(tval):
        tval = np.sort(np.random.RandomState(a.subset_seed).choice(tval, a.tracks, replace=False))
    ylab = y[idx[tval, 0]]
    print("held-out tracks: %d of %d (%d frames); evaluating %d (subset seed %d)" % (
        n_heldout, len(idx), int(isval.sum()), len(tval), a.subset_seed), flush=True)
    # the full held-out set must be built (the degradation RNG runs over all of it), then subset
    tall = np.nonzero(isval[idx[:, 0]])[0]
    sets_all = S.make_eval_sets(x, idx[tall], lens[tall], torch.device("cpu"))
    pos = np.searchsorted(tall, tval)
    sets = {k: (v[0][pos], v[1][pos]) for k, v in sets_all.items()}
    del sets_all

    res = {"heldout_tracks": int(n_heldout), "evaluated_tracks": int(len(tval)), "subset_seed": a.subset_seed,
           "onnx": os.path.relpath(step_onnx, REPO), "state_map": meta["imgrec.state-map"], "sets": {}}
    seq_eng = E.Engine(step_onnx, a.imgrec_run, threads=a.threads)
    pf_eng = E.Engine(pf_onnx, a.imgrec_run, threads=2)
    t_start = time.time()
    for sname, (frames, slen) in sets.items():
        frames = frames.numpy()
        slen = slen.numpy().astype(int)
        t0 = time.time()
        step_scores, frame_scores = [], []
        for i in range(len(tval)):
            n = int(slen[i])
            xs = ((frames[i, :n] - mean[None, :, None, None]) / std[None, :, None, None]).astype(np.float32)
            state = None
            out_s = []
            for t in range(n):
                inp = {"frame": xs[t:t + 1]}
                if state is None:
                    state = {si: np.zeros(shapes[si], np.float32) for si, _ in smap}
                inp.update(state)
                o = seq_eng.run(inp, ["scores"] + [so for _, so in smap])
                out_s.append(o["scores"][0])
                state = {si: o[so] for si, so in smap}
            step_scores.append(np.stack(out_s))
        t_seq = time.time() - t0
        # per-frame CNN on the same frames, batched
        allx = np.concatenate([((frames[i, :slen[i]] - mean[None, :, None, None]) / std[None, :, None, None])
                               for i in range(len(tval))]).astype(np.float32)
        pfs = pf_eng.run_batched("input", allx, "scores", batch=500)
        o = 0
        for i in range(len(tval)):
            frame_scores.append(pfs[o:o + slen[i]])
            o += slen[i]
        r = {"tracks": int(len(tval)), "frames": int(slen.sum()), "engine_seq": scores_summary(step_scores, slen, ylab),
             "engine_per_frame_traffic_signs": per_frame_summary(frame_scores, slen, ylab),
             "engine_step_calls": int(slen.sum()), "engine_seconds": round(t_seq, 1)}
        res["sets"][sname] = r
        res["sets"][sname]["_step_scores"] = step_scores
        print("%-8s engine (%d tracks, %d frames, %d imgrec-run calls, %.0fs): seq %s" % (
            sname, len(tval), slen.sum(), slen.sum(), t_seq, {k: round(v, 4) for k, v in r["engine_seq"].items()}),
            flush=True)
        print("%-8s engine per-frame traffic-signs: %s" % (
            "", {k: round(v, 4) for k, v in r["engine_per_frame_traffic_signs"].items()}), flush=True)

    # PyTorch on the same tracks (sequence form of the same weights)
    wseq = os.path.join(a.runs, "traffic-signs-seq", "weights.npz")
    wts = os.path.join(a.runs, "traffic-signs", "weights.npz")
    if os.path.exists(wseq):
        net = S.build({"hidden": H})
        C.load_npz_into(net, wseq)
        pf = {"traffic-signs": S.load_per_frame(wts, torch.device("cpu"))} if os.path.exists(wts) else {}
        pr = S.eval_tracks(net, sets, ylab, torch.device("cpu"), pf)
        # and the engine's step outputs vs PyTorch's sequence outputs, score by score
        for sname, (frames, slen) in sets.items():
            xb = C.normalize01(frames.reshape(-1, 3, 32, 32), S.MEAN, S.STD).reshape(frames.shape)
            with torch.no_grad():
                ref = torch.cat([net.forward_seq(xb[i:i + 32])[0] for i in range(0, len(xb), 32)]).numpy()
            d = 0.0
            for i, s in enumerate(res["sets"][sname]["_step_scores"]):
                d = max(d, float(np.abs(ref[i, :len(s)] - s).max()))
            res["sets"][sname]["pytorch_seq"] = pr[sname]["seq"]
            res["sets"][sname]["pytorch_per_frame"] = pr[sname]["per_frame"]
            res["sets"][sname]["engine_vs_pytorch_max_abs_score_diff"] = d
            print("%-8s PyTorch seq (same tracks): %s; engine vs PyTorch max |score diff| %.2e" % (
                sname, {k: round(v, 4) for k, v in pr[sname]["seq"].items()}, d), flush=True)
            for k, v in pr[sname]["per_frame"].items():
                print("%-8s PyTorch per-frame %s: %s" % ("", k, {kk: round(vv, 4) for kk, vv in v.items()}))
    mj = os.path.join(a.models_dir, "traffic-signs-seq", "metrics.json")
    if os.path.exists(mj):
        with open(mj) as f:
            em = json.load(f)
        full = em.get("heldout_pytorch_cpu")
        if full:
            res["pytorch_all_heldout_tracks_cpu"] = {k: v["seq"] for k, v in full.items()}
            for k, v in full.items():
                print("%-8s PyTorch seq on all %d held-out tracks (export, CPU): %s" % (
                    k, v["tracks"], {kk: round(vv, 4) for kk, vv in v["seq"].items()}))
    for sname, r in res["sets"].items():
        r.pop("_step_scores", None)
        pfm = r["engine_per_frame_traffic_signs"]["mean_over_frames"]
        r["engine_seq_all_minus_per_frame_mean_points"] = 100 * (r["engine_seq"]["after_all"] - pfm)
        print("%-8s engine: after all frames %.2f %% vs per-frame CNN mean %.2f %% -> %+.2f points" % (
            sname, 100 * r["engine_seq"]["after_all"], 100 * pfm, r["engine_seq_all_minus_per_frame_mean_points"]))
    res["wall_s"] = round(time.time() - t_start, 1)
    seq_eng.close()
    pf_eng.close()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
