#!/usr/bin/python3
"""Score the traffic-signs-gan generator and discriminator ONNX files through imgrec's engine.

1. Agreement: the generator (models/traffic-signs-gan/generator.onnx, through imgrec-run) draws
   --per-class samples for each of the 43 classes, from the same z as tools/export_onnx.py's PyTorch
   evaluation (torch CPU generator seeded 12345, as traffic_signs_gan.sample_grid); the shipped
   classifier models/traffic-signs/traffic-signs.onnx (also through imgrec-run) classifies them; the
   share classified as their conditioning class is reported (overall and worst class), and the
   discriminator's own auxiliary class head likewise.
2. Discriminator ROC AUC (realism score, through imgrec-run): real held-out signs (2,000 images of the
   official GTSRB test set, RandomState(0)) against corrupted ones: gaussian noise sigma 0.25, gaussian
   blur sigma 1.5, and 2,000 CIFAR-10 test images; the same sets as tools/export_onnx.py.
PyTorch's numbers for the same weights (from models/traffic-signs-gan/metrics.json, written by the
export) are printed beside the engine's; with the training run's weights (--runs) the engine's
generated images are also compared with PyTorch's pixel by pixel.

Usage: /usr/bin/python3 tools/eval_gan.py [--per-class 50] [--json OUT.json]
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

NUM_CLASSES = 43


def roc_auc(pos, neg):
    """Mann-Whitney AUC with average ranks for ties (P(score_real > score_corrupted))."""
    s = np.concatenate([pos, neg])
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    _, inv, cnt = np.unique(s, return_inverse=True, return_counts=True)
    ranks = (np.bincount(inv, ranks) / cnt)[inv]
    rp = ranks[:len(pos)].sum()
    return float((rp - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models-dir", default=os.path.join(REPO, "models"))
    p.add_argument("--data-dir", default=None)
    p.add_argument("--runs", default=os.path.join(os.path.dirname(REPO), "runs"))
    p.add_argument("--imgrec-run", default=None)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--per-class", type=int, default=50)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--json", default="")
    a = p.parse_args()

    import torch
    import common as C
    torch.set_num_threads(2)
    if a.data_dir is None:
        a.data_dir = C.default_data_dir()
    gdir = os.path.join(a.models_dir, "traffic-signs-gan")
    g_onnx, d_onnx = os.path.join(gdir, "generator.onnx"), os.path.join(gdir, "discriminator.onnx")
    c_onnx = os.path.join(a.models_dir, "traffic-signs", "traffic-signs.onnx")
    gmeta, dmeta, cmeta = E.metadata(g_onnx), E.metadata(d_onnx), E.metadata(c_onnx)
    Z = int(gmeta["imgrec.latent-dim"])
    K = int(gmeta["imgrec.num-classes"])
    em = {}
    if os.path.exists(os.path.join(gdir, "metrics.json")):
        with open(os.path.join(gdir, "metrics.json")) as f:
            em = json.load(f)
    res = {"per_class": a.per_class, "samples": a.per_class * K}
    t0 = time.time()

    # ---- 1. generated samples -> shipped classifier, both through the engine
    gen = torch.Generator(device="cpu")
    gen.manual_seed(12345)
    y = torch.arange(K).repeat_interleave(a.per_class)
    z = torch.randn(len(y), Z, generator=gen).numpy()
    onehot = np.eye(K, dtype=np.float32)[y.numpy()]
    y = y.numpy()
    with E.Engine(g_onnx, a.imgrec_run, threads=a.threads) as ge:
        img = ge.run_batched("z", z, "image", batch=a.batch, extra={"class": onehot})   # [-1,1]
    _, cmean, cstd = E.preprocess_params(cmeta)
    xc = (((img + 1) / 2) - cmean[None, :, None, None]) / cstd[None, :, None, None]
    with E.Engine(c_onnx, a.imgrec_run, threads=a.threads) as ce:
        pred = ce.run_batched("input", xc.astype(np.float32), "scores", batch=a.batch).argmax(1)
    ok = (pred == y)
    pc = ok.reshape(K, a.per_class).mean(1)
    res.update({"engine_classifier_agreement": float(ok.mean()), "engine_classifier_agreement_worst_class":
                float(pc.min()), "engine_per_class_agreement": [round(float(v), 3) for v in pc],
                "classes_below_50pct": [int(k) for k in np.nonzero(pc < 0.5)[0]]})
    with E.Engine(d_onnx, a.imgrec_run, threads=a.threads) as de:
        aux = de.run_batched("image", img.astype(np.float32), "class_scores", batch=a.batch).argmax(1)
        res["engine_disc_aux_agreement"] = float((aux == y).mean())
        print("generated %d samples (%d per class) through the engine" % (len(y), a.per_class))
        print("  classifier agreement: engine %.4f (worst class %.2f) | PyTorch %s (worst %s) | training GPU %s" % (
            res["engine_classifier_agreement"], res["engine_classifier_agreement_worst_class"],
            em.get("pytorch_classifier_agreement"), em.get("pytorch_classifier_agreement_worst_class"),
            em.get("gpu_classifier_agreement")), flush=True)
        print("  classes under 50 %% agreement (engine): %s" % res["classes_below_50pct"])
        print("  discriminator aux-head agreement: engine %.4f | PyTorch %s" % (
            res["engine_disc_aux_agreement"], em.get("pytorch_disc_aux_agreement")), flush=True)
        wg = os.path.join(a.runs, "traffic-signs-gan", "generator.npz")
        if os.path.exists(wg):
            import traffic_signs_gan as G
            try:
                g = G.build_generator({"z_dim": Z})
                C.load_npz_into(g, wg)
            except (RuntimeError, KeyError, TypeError) as e:
                g = None
                print("  generator engine vs PyTorch: skipped, %s does not fit tools/train/traffic_signs_gan.py's "
                      "generator (%s...)" % (wg, str(e).splitlines()[0][:80]))
            if g is not None:
                g.eval()
                with torch.no_grad():
                    ref = torch.cat([g(torch.from_numpy(z[i:i + 500]), torch.from_numpy(onehot[i:i + 500]))
                                     for i in range(0, len(z), 500)]).numpy()
                res["engine_vs_pytorch_generator_max_abs_diff"] = float(np.abs(ref - img).max())
                print("  generator engine vs PyTorch: max |pixel diff| %.2e (range [-1,1])" %
                      res["engine_vs_pytorch_generator_max_abs_diff"])

        # ---- 2. discriminator ROC AUC: real held-out signs vs corrupted
        xte, _ = C.load_gtsrb_test(a.data_dir)
        if xte is None:
            print("  GTSRB test set absent: discriminator AUC skipped")
        else:
            rs = np.random.RandomState(0)
            sel = rs.choice(len(xte), min(2000, len(xte)), replace=False)
            real = torch.as_tensor(xte[sel]).permute(0, 3, 1, 2).float() / 255.0
            tg = torch.Generator().manual_seed(0)
            noisy = (real + 0.25 * torch.randn(real.shape, generator=tg)).clamp(0, 1)
            blur = C.gaussian_blur(real, torch.full((len(real),), 1.5))
            _, dmean, dstd = E.preprocess_params(dmeta)

            def score(x01):
                x = (x01.numpy() - dmean[None, :, None, None]) / dstd[None, :, None, None]
                return de.run_batched("image", x.astype(np.float32), "score", batch=a.batch)[:, 0]
            sr = score(real)
            negs = {"noise_sigma0.25": score(noisy), "blur_sigma1.5": score(blur)}
            cx, _, _ = C.load_cifar(a.data_dir, "test", 2000)
            if cx is not None:
                negs["cifar10"] = score(torch.as_tensor(cx).permute(0, 3, 1, 2).float() / 255.0)
            auc = {k: roc_auc(sr, v) for k, v in negs.items()}
            auc["all_corruptions"] = roc_auc(sr, np.concatenate(list(negs.values())))
            res["engine_discriminator_roc_auc"] = auc
            pa = em.get("discriminator_roc_auc", {})
            print("discriminator ROC AUC, real GTSRB test signs (%d) vs corrupted, through the engine:" % len(sr))
            for k, v in auc.items():
                print("  %-16s engine %.6f | PyTorch %s" % (k, v, pa.get(k)))
    res["wall_s"] = round(time.time() - t0, 1)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
