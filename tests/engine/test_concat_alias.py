#!/usr/bin/python3
"""Concat inputs written in place: when only ones precede the axis, the planner lets each
producer write straight into its slice of the Concat's output and the run copies nothing
(SqueezeNet's fire modules).  Graphs where that must hold, and where it must not: a branch also
read after the Concat by a later node, a branch that is a graph output (and a Concat whose
output is one), the same value twice in one Concat, one value in two Concats, nested Concats, a
graph input and a constant among the inputs, a Concat along an inner axis and a batch of 2 (ones
do not precede the axis there).  Each output is checked against numpy at 1 and 2 threads and on
the process's thread budget (--threads 0: the session then runs in a leased arena), and the
profile must describe exactly the Concats that may be in place as "in place".

Usage: test_concat_alias.py IMGREC_RUN"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RUN = sys.argv[1]


def conv_w(rng, o, c):
    return (rng.standard_normal((o, c, 1, 1)) * 0.5).astype(np.float32)


def pointwise(x, w):
    return np.einsum("oc,nchw->nohw", w[:, :, 0, 0].astype(np.float64), x.astype(np.float64))


def build_and_reference(rng, batch):
    """x -> conv a, conv b, relu(a) ...: returns the model, feeds and the expected outputs."""
    c = 3
    x = rng.standard_normal((batch, c, 5, 6)).astype(np.float32)
    k = rng.standard_normal((batch, 2, 5, 6)).astype(np.float32)   # a constant branch
    wa, wb, wd = conv_w(rng, 4, c), conv_w(rng, 2, c), conv_w(rng, 3, c)
    wt = conv_w(rng, 12, c)
    inits = [numpy_helper.from_array(wa, "wa"), numpy_helper.from_array(wb, "wb"),
             numpy_helper.from_array(wd, "wd"), numpy_helper.from_array(k, "k"),
             numpy_helper.from_array(wt, "wt")]
    nodes = [
        helper.make_node("Conv", ["x", "wa"], ["a"]),
        # temporaries that die between a and the Concat: the Concat's buffer must
        # already be reserved while they live, since a is in it
        helper.make_node("Conv", ["x", "wt"], ["t1"]),
        helper.make_node("Neg", ["t1"], ["t2"]),
        helper.make_node("Neg", ["t2"], ["t3"]),
        helper.make_node("ReduceMean", ["t3"], ["t4"], axes=[1], keepdims=1),
        helper.make_node("Add", ["x", "t4"], ["xt"]),
        helper.make_node("Conv", ["xt", "wb"], ["b"]),
        helper.make_node("Conv", ["x", "wd"], ["d"]),
        # plain: two branches
        helper.make_node("Concat", ["a", "b"], ["cat1"], axis=1, name="cat1"),
        # a is read again after cat1 (by Relu)
        helper.make_node("Relu", ["a"], ["a_relu"]),
        # e is a graph output too: cat5 copies
        helper.make_node("Conv", ["x", "wa"], ["e"]),
        helper.make_node("Conv", ["x", "wd"], ["f"]),
        helper.make_node("Concat", ["e", "f"], ["cat5"], axis=1, name="cat5"),
        # the same value twice
        helper.make_node("Concat", ["d", "d"], ["cat2"], axis=1, name="cat2"),
        # nested: cat1 inside cat3, with a graph input and a constant
        helper.make_node("Concat", ["cat1", "x", "k"], ["cat3"], axis=1, name="cat3"),
        # b in a second Concat, along an inner axis (never in place)
        helper.make_node("Neg", ["b"], ["b2"]),
        helper.make_node("Concat", ["b", "b2"], ["cat4"], axis=2, name="cat4"),
        helper.make_node("Sigmoid", ["cat2"], ["cat2_s"]),
        helper.make_node("Add", ["cat3", "cat3"], ["cat3_twice"]),
    ]
    outs = {"a_relu": (batch, 4, 5, 6), "e": (batch, 4, 5, 6),
            "cat5": (batch, 7, 5, 6),
            "cat2_s": (batch, 6, 5, 6), "cat3_twice": (batch, 11, 5, 6),
            "cat4": (batch, 2, 10, 6)}
    graph = helper.make_graph(
        nodes, "concat_alias",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s)) for n, s in outs.items()],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    t4 = pointwise(x, wt).mean(axis=1, keepdims=True)
    a, b, d = pointwise(x, wa), pointwise(x + t4, wb), pointwise(x, wd)
    cat1 = np.concatenate([a, b], 1)
    cat3 = np.concatenate([cat1, x, k], 1)
    want = {"a_relu": np.maximum(a, 0), "e": a, "cat5": np.concatenate([a, d], 1),
            "cat2_s": 1 / (1 + np.exp(-np.concatenate([d, d], 1))), "cat3_twice": 2 * cat3,
            "cat4": np.concatenate([b, -b], 2)}
    return model, x, want


def main():
    rng = np.random.default_rng(3)
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for batch in (1, 2):
            model, x, want = build_and_reference(rng, batch)
            path = os.path.join(tmp, f"cat{batch}.onnx")
            onnx.save(model, path)
            np.save(os.path.join(tmp, "x.npy"), x)
            feeds = ["--input", "x=" + os.path.join(tmp, "x.npy")]
            for threads in ("1", "2", "0"):
                odir = os.path.join(tmp, f"out{batch}_{threads}")
                p = subprocess.run([RUN, path, *feeds, "--output-dir", odir, "--threads", threads],
                                   capture_output=True, text=True, timeout=120)
                if p.returncode != 0:
                    failed += 1
                    print(f"FAIL batch {batch} T{threads}: {p.stderr.strip()}")
                    continue
                for name, ref in want.items():
                    got = np.load(os.path.join(odir, name + ".npy"))
                    if got.shape == ref.shape and np.allclose(got, ref, rtol=1e-5, atol=1e-5):
                        passed += 1
                    else:
                        failed += 1
                        err = np.abs(got - ref).max() if got.shape == ref.shape else got.shape
                        print(f"FAIL batch {batch} T{threads} {name}: {err}")
            # How each Concat ran (its profile description): only cat1, two conv
            # branches read as a whole, is written in place, and only at batch 1.
            p = subprocess.run([RUN, path, *feeds, "--profile", "--bench", "1", "--threads", "1"],
                               capture_output=True, text=True, timeout=120)
            rows = {l.split()[1]: l for l in p.stdout.splitlines() if l[:1].isdigit()}
            for name in ("cat1", "cat2", "cat3", "cat4", "cat5"):
                want_in_place = batch == 1 and name == "cat1"
                row = rows.get(name, "")
                if row.endswith("in place" if want_in_place else "copy"):
                    passed += 1
                else:
                    failed += 1
                    print(f"FAIL batch {batch} {name}: expected {'in place' if want_in_place else 'copy'}: {row!r}")
            print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
