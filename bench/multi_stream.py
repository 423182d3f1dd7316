#!/usr/bin/python3
"""Many streams on one model in one process: memory and aggregate throughput.

Memory: peak RSS of one gst-launch-1.0 process running 1 and 8 imgrecclassify
branches on the same model (elements that name the same file share one loaded
model; each has its own session).  Throughput: frames per second summed over
S streams (each with the element's default threads) against one stream, in one
process, on this machine's cores.

Usage: /usr/bin/python3 bench/multi_stream.py [--model M.onnx] [--build build]
           [--streams 8] [--throughput-streams 4] [--frames 60]
Without --model, ResNet-18 (bench/make_models.py, random weights) is built in
a temporary folder.  Prints one JSON line per measurement and a summary.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def run(model, branches, frames, threads=None):
    """Runs `branches` classifiers in one process; returns (seconds, peak RSS MiB)."""
    args = ["gst-launch-1.0", "-q"]
    for _ in range(branches):
        args += ["videotestsrc", f"num-buffers={frames}", "!",
                 "video/x-raw,width=320,height=240", "!", "imgrecclassify", f"model={model}"]
        if threads is not None:
            args.append(f"threads={threads}")
        args += ["!", "fakesink", "sync=false"]
    t0 = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"multi_stream: gst-launch-1.0 failed: {out.decode(errors='replace')}")
    return seconds, usage.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--streams", type=int, default=8)
    ap.add_argument("--throughput-streams", type=int, default=4)
    ap.add_argument("--frames", type=int, default=60)
    a = ap.parse_args()
    os.environ["GST_PLUGIN_PATH"] = os.path.join(os.path.abspath(a.build), "gst")
    tmp = tempfile.TemporaryDirectory()
    model = a.model
    if model is None:
        subprocess.run([sys.executable, os.path.join(HERE, "make_models.py"), "--out", tmp.name,
                        "--only", "resnet18"], check=True, stdout=subprocess.DEVNULL)
        model = os.path.join(tmp.name, "resnet18.onnx")
    name = os.path.basename(model)
    mib = os.path.getsize(model) / 2 ** 20

    _, rss1 = run(model, 1, 5)
    _, rssn = run(model, a.streams, 5)
    mem = {"bench": "memory", "model": name, "model_mib": round(mib, 1), "rss_1_mib": round(rss1),
           f"rss_{a.streams}_mib": round(rssn), "ratio": round(rssn / rss1, 3)}
    print(json.dumps(mem))

    t1, _ = run(model, 1, a.frames)
    ts, _ = run(model, a.throughput_streams, a.frames)
    fps1 = a.frames / t1
    fpss = a.throughput_streams * a.frames / ts
    thr = {"bench": "throughput", "model": name, "cpus": os.cpu_count(),
           "fps_1_stream": round(fps1, 2), f"fps_{a.throughput_streams}_streams": round(fpss, 2),
           "ratio": round(fpss / fps1, 3)}
    print(json.dumps(thr))
    print(f"{name}: {a.streams} elements use {rssn:.0f} MiB, one {rss1:.0f} MiB "
          f"({rssn / rss1:.2f}x); {a.throughput_streams} streams {fpss:.1f} fps in all, "
          f"one stream {fps1:.1f} fps ({fpss / fps1:.2f}x) on {os.cpu_count()} CPUs "
          f"(whole-process times, model load included)")


if __name__ == "__main__":
    main()
