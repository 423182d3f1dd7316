#!/usr/bin/env python3
"""Elements that name the same model file share one loaded model.

1. Memory: one gst-launch-1.0 process with 1 and with 8 imgrecclassify
   branches on a model with 48 MiB of weights.  With the weights loaded once,
   the seven extra branches cost a small fraction of one model; loaded per
   element they would cost seven models (about 340 MiB).
2. Identity is the file, not the path: a pipeline keeps running on model A
   while the file is replaced by model B (other labels); a pipeline started
   after that on the same path runs B, the first one still A.  A second
   path to the file (a symlink) shares the model and gives the same result.
3. model-instance-id (DL Streamer's name): two elements naming two copies of
   the model with one id cost about nothing more than one element; without
   the id the copy is loaded again (the control: the measurement sees a
   second load).  One id with two different models fails with a sentence
   naming the id and both files.

Usage: test_model_sharing.py WORK_DIR (GST_PLUGIN_PATH names the plugin)
"""
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

import gi
gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

HIDDEN = 4096                       # 3072 x 4096 float32 = 48 MiB
LABELS_A = "red\ngreen\nblue\ngray"
LABELS_B = "rouge\nvert\nbleu\ngris"


def save(graph, path, labels):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="imgrec-tests")
    model.ir_version = 7
    p = model.metadata_props.add()
    p.key, p.value = "imgrec.labels", labels
    onnx.save(model, path)


def big_model(path):
    """Scores = (flatten(image) @ W1) @ W2: large weights, a trivial graph."""
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((3 * 32 * 32, HIDDEN), dtype=np.float32) * 0.01
    w2 = rng.standard_normal((HIDDEN, 4), dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["image"], ["flat"]),
         helper.make_node("MatMul", ["flat", "W1"], ["hidden"]),
         helper.make_node("MatMul", ["hidden", "W2"], ["scores"])],
        "big", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor("W1", TensorProto.FLOAT, w1.shape, w1.tobytes(), raw=True),
         helper.make_tensor("W2", TensorProto.FLOAT, w2.shape, w2.tobytes(), raw=True)])
    save(graph, path, LABELS_A)
    return w1.nbytes + w2.nbytes


def mean_colour_model(path, labels):
    """Class = the dominant channel of the mean colour (red, green, blue)."""
    w = np.array([[4, -2, -2, 0], [-2, 4, -2, 0], [-2, -2, 4, 0]], np.float32)
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["image"], ["mean"], axes=[2, 3], keepdims=0),
         helper.make_node("MatMul", ["mean", "W"], ["scores"])],
        "mean_colour",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor("W", TensorProto.FLOAT, w.shape, w.flatten())])
    save(graph, path, labels)


def launch(branches):
    """Runs one gst-launch-1.0 process with a classifier per (model, extra
    properties) branch; returns (exit code, output, peak RSS in MiB)."""
    args = ["gst-launch-1.0", "-q"]
    for model, extra in branches:
        args += ["videotestsrc", "num-buffers=10", "!", "video/x-raw,width=64,height=64", "!",
                 "imgrecclassify", f"model={model}", "threads=1", *extra,
                 "!", "fakesink", "sync=false"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status), out, usage.ru_maxrss / 1024.0


def peak_rss_mb(branches):
    code, out, rss = launch(branches)
    if code != 0:
        raise SystemExit(f"FAIL: {len(branches)} branches: gst-launch-1.0 exited with "
                         f"{code}: {out}")
    return rss


def prerolled_rss_mb(branches):
    """Resident memory of a process whose classifiers have all started
    (PAUSED: models loaded, sessions planned).  The peak would hide a second
    model: the first load's transient buffers, freed, hold the second."""
    desc = " ".join(f"videotestsrc ! video/x-raw,width=64,height=64 ! imgrecclassify "
                    f"model=\"{m}\" threads=1 {' '.join(extra)} ! fakesink" for m, extra in branches)
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--rss", desc],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"FAIL: {desc}: {proc.stdout}")
    return float(proc.stdout.split()[-1])


def rss_of_pipeline(desc):
    """(--rss) Prints VmRSS in MiB once the pipeline is PAUSED."""
    Gst.init(None)
    pipeline = Gst.parse_launch(desc)
    pipeline.set_state(Gst.State.PAUSED)
    ret, _, _ = pipeline.get_state(60 * Gst.SECOND)
    if ret == Gst.StateChangeReturn.FAILURE:
        msg = pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
        print(msg.parse_error()[0].message if msg else "state change failed")
        return 1
    with open("/proc/self/status") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    print(kib / 1024.0)
    pipeline.set_state(Gst.State.NULL)
    return 0


def check_instance_id(work, big, weights_mb):
    copy = os.path.join(work, "big-copy.onnx")
    shutil.copyfile(big, copy)
    one = prerolled_rss_mb([(big, [])])
    ids = ["model-instance-id=cam"]
    shared = prerolled_rss_mb([(big, ids), (copy, ids)])
    apart = prerolled_rss_mb([(big, []), (copy, [])])
    print(f"two copies of the model, resident once started: with one model-instance-id "
          f"{shared:.0f} MiB, without {apart:.0f} MiB, one element {one:.0f} MiB")
    if apart - one < 0.5 * weights_mb:
        print(f"FAIL: without an id the copy cost only {apart - one:.0f} MiB: the "
              "measurement cannot see a second load")
        return False
    if shared - one > 0.25 * weights_mb:
        print(f"FAIL: the second element with the same model-instance-id cost "
              f"{shared - one:.0f} MiB ({weights_mb:.0f} MiB of weights): not shared")
        return False

    other = os.path.join(work, "other.onnx")
    mean_colour_model(other, LABELS_A)
    code, out, _ = launch([(big, ids), (other, ids)])
    # whichever element starts first names the id's model
    expected = [f'model-instance-id "cam" already names model "{a}" in this process, '
                f'and "{b}" is a different model' for a, b in ((big, other), (other, big))]
    if code == 0 or not any(e in out for e in expected):
        print(f"FAIL: one id with two models: exit code {code}, output: {out}")
        return False
    return True


class Classifier:
    """A running pipeline: red frames -> imgrecclassify -> labels from bus messages."""

    def __init__(self, model):
        self.pipeline = Gst.parse_launch(
            "videotestsrc is-live=true pattern=red ! video/x-raw,width=32,height=32,"
            f"framerate=50/1 ! imgrecclassify model=\"{model}\" post-messages=true ! "
            "fakesink sync=false")
        self.bus = self.pipeline.get_bus()
        assert self.pipeline.set_state(Gst.State.PLAYING) != Gst.StateChangeReturn.FAILURE

    def next_label(self):
        types = Gst.MessageType.ELEMENT | Gst.MessageType.ERROR
        while True:
            msg = self.bus.timed_pop_filtered(10 * Gst.SECOND, types)
            assert msg is not None, "no classification within 10 s"
            if msg.type == Gst.MessageType.ERROR:
                raise SystemExit(f"FAIL: {msg.parse_error()}")
            s = msg.get_structure()
            if s.get_name() == "imgrec-classification":
                return s.get_value("label")

    def stop(self):
        self.pipeline.set_state(Gst.State.NULL)


def main():
    work = sys.argv[1]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    big = os.path.join(work, "big.onnx")
    weights_mb = big_model(big) / 2 ** 20
    one, eight = peak_rss_mb([(big, [])]), peak_rss_mb([(big, [])] * 8)
    extra = eight - one
    print(f"weights {weights_mb:.0f} MiB; peak RSS: 1 element {one:.0f} MiB, "
          f"8 elements {eight:.0f} MiB ({eight / one:.2f}x, +{extra:.0f} MiB)")
    if extra > 0.5 * weights_mb:
        print(f"FAIL: 7 more elements on the same model cost {extra:.0f} MiB, more than "
              f"half of the model's {weights_mb:.0f} MiB of weights: the model is not shared")
        return 1

    if not check_instance_id(work, big, weights_mb):
        return 1

    Gst.init(None)
    path = os.path.join(work, "colour.onnx")
    link = os.path.join(work, "colour-link.onnx")
    mean_colour_model(path, LABELS_A)
    os.symlink(path, link)
    first = Classifier(path)
    assert first.next_label() == "red"
    by_link = Classifier(link)
    assert by_link.next_label() == "red"
    mean_colour_model(path + ".new", LABELS_B)
    os.replace(path + ".new", path)         # a new file at the same path
    second = Classifier(path)
    got = second.next_label()
    if got != "rouge":
        print(f"FAIL: after the file was replaced, a new element runs the old model ({got!r})")
        return 1
    assert first.next_label() == "red", "the running element must keep its model"
    for c in (first, by_link, second):
        c.stop()
    print("ok: 8 elements share one model; a replaced file is loaded anew; "
          "a symlink shares; one model-instance-id shares copies and refuses "
          "another model")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--rss":
        sys.exit(rss_of_pipeline(sys.argv[2]))
    sys.exit(main())
