#!/usr/bin/python3
"""imgrec vs ONNX Runtime, side by side, per ISA: ResNet-18, MobileNetV2, SqueezeNet 1.1
(bench/make_models.py: the torchvision architectures built with the onnx package, random
weights) at 1 and 2 threads, imgrec under each IMGREC_ISA the machine has.  Rounds alternate
the engines (imgrec ref/avx2/avx512, ORT, imgrec, ORT, ...; the order reversed in every other
round) so that load from other processes hits both alike; the figure per engine is the median
of the rounds' medians.

Prints a Markdown table: median ms, the ratio imgrec / ORT (< 1: imgrec faster), imgrec's
GFLOP/s (FLOPs from imgrec-run --profile) and its share of one core's fp32 peak at that thread
count (peak = FMA units x lanes x 2 x GHz, --ghz, default 2.3; two 512-bit FMA units for avx512,
two 256-bit for avx2).  Also the CPU and the load average before and after.

Usage: /usr/bin/python3 bench/isa_bench.py [--imgrec build/engine/imgrec-run] [--rounds 3]
         [--runs 20] [--threads 1,2] [--isa ref,avx2,avx512] [--models resnet18,...] [--ghz 2.3]
Needs ONNX Runtime in .cache/ort (bash bench/install_ort.sh) and node."""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def machine_isas():
    flags = open("/proc/cpuinfo").read()
    isas = ["ref"]
    if " avx2" in flags and " fma" in flags:
        isas.append("avx2")
        if all(f" {f}" in flags for f in ("avx512f", "avx512dq", "avx512bw", "avx512vl")):
            isas.append("avx512")
    return isas


def median_ms(cmd, env=None):
    """(median ms, peak RSS MB or None, fastest run's ms) of one --bench run."""
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    line = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    try:
        d = json.loads(line)
        return d["median_ms"], d.get("peak_rss_mb"), d["min_ms"]
    except (ValueError, KeyError):
        sys.exit(f"isa_bench: {' '.join(cmd)} failed: {p.stderr.strip()[-300:]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--imgrec", default=os.path.join(REPO, "build", "engine", "imgrec-run"))
    ap.add_argument("--models-dir", default=os.path.join(REPO, "build", "bench-models"))
    ap.add_argument("--models", default="resnet18,mobilenet_v2,squeezenet1_1")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--isa", default=",".join(machine_isas()))
    ap.add_argument("--ghz", type=float, default=2.3)
    a = ap.parse_args()
    models = a.models.split(",")
    if any(not os.path.exists(os.path.join(a.models_dir, m + ".onnx")) for m in models):
        subprocess.run([sys.executable, os.path.join(HERE, "make_models.py"), "--out", a.models_dir,
                        "--only", a.models], check=True, capture_output=True)
    cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read()).group(1)
    load0 = open("/proc/loadavg").read().split()[:3]
    isas = a.isa.split(",")
    rows = []
    for m in models:
        onnx = os.path.join(a.models_dir, m + ".onnx")
        x = os.path.join(a.models_dir, m + ".input.npy")
        prof = subprocess.run([a.imgrec, onnx, "--profile", "--bench", "1", "--warmup", "0",
                               "--threads", "1", "--input", f"input={x}"], capture_output=True, text=True)
        gflop = float(re.search(r"([0-9.]+) GFLOP per run", prof.stdout).group(1))
        for t in a.threads.split(","):
            common = ["--bench", str(a.runs), "--warmup", str(a.warmup), "--threads", t,
                      "--input", f"input={x}"]
            res = {k: [] for k in isas + ["ort"]}
            best = {k: [] for k in isas + ["ort"]}
            rss = {}
            for rnd in range(a.rounds):
                # each ISA then ORT; the whole order reversed in odd rounds, since whoever runs
                # second meets a CPU past its first boost (bench/ab_profile.py measured 3 %
                # between identical builds run always in the same order)
                jobs = [j for isa in isas for j in (isa, "ort")]
                for job in (jobs if rnd % 2 == 0 else jobs[::-1]):
                    if job == "ort":
                        ms, _, fast = median_ms(["node", os.path.join(HERE, "ort_run.js"), onnx,
                                                 *common])
                    else:
                        ms, r, fast = median_ms([a.imgrec, onnx, *common],
                                                dict(os.environ, IMGREC_ISA=job))
                        rss[job] = r
                    res[job].append(ms)
                    best[job].append(fast)
            ort = statistics.median(res["ort"])
            for isa in isas:
                ms = statistics.median(res[isa])
                lanes = {"avx512": 16, "avx2": 8, "ref": 4}[isa]
                peak = 2 * lanes * 2 * a.ghz * int(t)
                gfs = gflop / (ms / 1000)
                rows.append((m, t, isa, ms, ort, ms / ort, gfs, 100 * gfs / peak, rss[isa],
                             min(res[isa]), min(res["ort"]), min(best[isa]) / min(best["ort"])))
            print(f"  done: {m} threads={t}", file=sys.stderr)
    load1 = open("/proc/loadavg").read().split()[:3]
    print(f"- CPU: {cpu}, {os.cpu_count()} logical CPUs; load average before {' '.join(load0)}, "
          f"after {' '.join(load1)}")
    print(f"- {a.rounds} alternating rounds of {a.runs} runs (after {a.warmup} warm-up) per engine; "
          "figures: median of the rounds' medians (min of the medians in brackets); best runs: "
          "the ratio of the fastest single runs (robust to a shared virtual machine's slow phases, "
          "which hit whichever engine runs then)")
    print()
    print("| model | threads | IMGREC_ISA | imgrec ms | ONNX Runtime ms | imgrec / ORT | best runs | "
          "GFLOP/s | % of peak | peak RSS MB |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for m, t, isa, ms, ort, ratio, gfs, pct, r, ms_min, ort_min, best_ratio in rows:
        print(f"| {m} | {t} | {isa} | {ms:.2f} ({ms_min:.2f}) | {ort:.2f} ({ort_min:.2f}) | {ratio:.2f} | "
              f"{best_ratio:.2f} | {gfs:.1f} | {pct:.0f} | {r} |")


if __name__ == "__main__":
    main()
