#!/usr/bin/python3
"""Many streams on one model in one process: memory and aggregate throughput.

Memory: peak RSS of one gst-launch-1.0 process running 1 and 8 imgrecclassify
branches on the same model (elements that name the same file share one loaded
model; each has its own session).  Throughput: frames per second summed over
S streams (each with the element's default threads) against one stream, in one
process, on this machine's cores.

Usage: /usr/bin/python3 bench/multi_stream.py [--model M.onnx] [--build build]
           [--streams 8] [--throughput-streams 4] [--frames 60] [--repeat 3]
           [--threads N]
The one-stream and S-stream throughput runs alternate --repeat times (a loaded
machine drifts) and the medians are reported, with the ratio of each pair.
Without --model, ResNet-18 (bench/make_models.py, random weights) is built in
a temporary folder.  Prints one JSON line per measurement and a summary.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def run(model, branches, frames, threads=None, cpu=None):
    """Runs `branches` classifiers in one process; returns (seconds, peak RSS
    MiB); `cpu` (a list) gets the process's CPU seconds (user + system)."""
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
    if cpu is not None:
        cpu.append(usage.ru_utime + usage.ru_stime)
    return seconds, usage.ru_maxrss / 1024.0


def branches_desc(model, branches, frames, threads):
    props = f" threads={threads}" if threads is not None else ""
    return " ".join(f"videotestsrc num-buffers={frames} ! video/x-raw,width=320,height=240 ! "
                    f"imgrecclassify model=\"{model}\"{props} ! fakesink sync=false"
                    for _ in range(branches))


def resident_after_eos(model, branches, frames, threads=None):
    """Resident MiB of a process whose `branches` classifiers have run
    `frames` frames and still hold their sessions (after EOS, before the
    pipeline stops).  The peak RSS is set by loading the model (the file,
    the protobuf and the weights at once), and what the load frees is
    reused by the sessions: the peak hides their memory, this does not."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--resident",
                          branches_desc(model, branches, frames, threads)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if out.returncode != 0:
        sys.exit(f"multi_stream: {out.stdout}")
    return float(out.stdout.split()[-1])


def print_resident(desc):
    """(--resident DESC) Runs the pipeline to EOS, prints VmRSS in MiB."""
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)
    pipeline = Gst.parse_launch(desc)
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(
        600 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    if msg is None or msg.type != Gst.MessageType.EOS:
        print(msg.parse_error()[0].message if msg else "no EOS within 600 s")
        return 1
    with open("/proc/self/status") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    print(kib / 1024.0)
    pipeline.set_state(Gst.State.NULL)
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--resident":
        return print_resident(sys.argv[2])
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--streams", type=int, default=8)
    ap.add_argument("--throughput-streams", type=int, default=4)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", choices=["memory", "throughput"])
    ap.add_argument("--threads", type=int, help="every element's threads property "
                    "(default: unset, the share of the process's thread budget)")
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

    if a.only != "throughput":
        _, rss1 = run(model, 1, 5, a.threads)
        _, rssn = run(model, a.streams, 5, a.threads)
        res1 = resident_after_eos(model, 1, 5, a.threads)
        resn = resident_after_eos(model, a.streams, 5, a.threads)
        mem = {"bench": "memory", "model": name, "model_mib": round(mib, 1),
               "peak_rss_1_mib": round(rss1), f"peak_rss_{a.streams}_mib": round(rssn),
               "peak_ratio": round(rssn / rss1, 3),
               "resident_1_mib": round(res1), f"resident_{a.streams}_mib": round(resn),
               "resident_ratio": round(resn / res1, 3),
               "mib_per_extra_stream": round((resn - res1) / (a.streams - 1), 1)}
        print(json.dumps(mem))
        print(f"{name}: {a.streams} elements use {rssn:.0f} MiB at the peak, one {rss1:.0f} "
              f"MiB ({rssn / rss1:.2f}x); resident after the run {resn:.0f} MiB, one "
              f"{res1:.0f} MiB ({resn / res1:.2f}x)")
    if a.only == "memory":
        return 0

    # CPU seconds per frame too: on a machine other work loads, wall-clock
    # fps mostly says how much of the cores the scheduler gave (more threads
    # get more), while threads that spin and wait on each other show up as
    # CPU time spent per frame
    ones, manys, ratios, cpu1, cpus = [], [], [], [], []
    for _ in range(a.repeat):
        t1, _ = run(model, 1, a.frames, a.threads, cpu1)
        ts, _ = run(model, a.throughput_streams, a.frames, a.threads, cpus)
        ones.append(a.frames / t1)
        manys.append(a.throughput_streams * a.frames / ts)
        ratios.append(manys[-1] / ones[-1])
    cpu_ratio = [(c1 / a.frames) / (cs / (a.throughput_streams * a.frames))
                 for c1, cs in zip(cpu1, cpus)]
    fps1, fpss = statistics.median(ones), statistics.median(manys)
    thr = {"bench": "throughput", "model": name, "cpus": os.cpu_count(),
           "threads": a.threads if a.threads is not None else "budget",
           "fps_1_stream": [round(f, 2) for f in ones],
           f"fps_{a.throughput_streams}_streams": [round(f, 2) for f in manys],
           "ratios": [round(r, 3) for r in ratios],
           "median_ratio": round(statistics.median(ratios), 3),
           "cpu_ms_per_frame_1_stream": [round(1000 * c / a.frames, 1) for c in cpu1],
           f"cpu_ms_per_frame_{a.throughput_streams}_streams":
               [round(1000 * c / (a.throughput_streams * a.frames), 1) for c in cpus],
           "cpu_efficiency_ratios": [round(r, 3) for r in cpu_ratio],
           "median_cpu_efficiency_ratio": round(statistics.median(cpu_ratio), 3)}
    print(json.dumps(thr))
    print(f"{name}: {a.throughput_streams} streams {fpss:.1f} fps in all, one stream "
          f"{fps1:.1f} fps (medians of {a.repeat}; median ratio {statistics.median(ratios):.2f}x; "
          f"CPU time per frame, one stream / {a.throughput_streams}: "
          f"{statistics.median(cpu_ratio):.2f}x) on {os.cpu_count()} CPUs "
          f"(whole-process times, model load included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
