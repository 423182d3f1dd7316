#!/usr/bin/python3
"""Random MaxPool and AveragePool layers through imgrec-run under every ISA the machine has
(IMGREC_ISA=ref, avx2, avx512) on 1 and 2 threads, against a float64 loop reference in numpy: 1-D, 2-D and 3-D,
kernels 1-7, strides 1-4, explicit and asymmetric pads, MaxPool dilations, ceil_mode (with the
last window that would start in the end padding dropped), AveragePool with and without
count_include_pad, rows far shorter and far longer than a vector, 60 more 3x3 and 2x2 MaxPools (their
own kernels: W stride 1 and 2, any H stride, pads up to k - 1, ceil mode), 16 stride-1 MaxPools of
16-33 planes with outputs at most 16 wide (the 16-plane block kernel), plus the pools of ResNet
(3x3 stride 2 pad 1 on 112x112) and SqueezeNet (3x3 stride 2 ceil_mode on 111x111, 55x55,
27x27).  All cases of one ISA run as one model (one node per case, on its own input).
MaxPool must match exactly; AveragePool within 1e-6 x (1 + max |x|).

Usage: test_pool_random.py IMGREC_RUN [--cases N]"""
import itertools
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine_isas import machine_isas  # noqa: E402

RUN = sys.argv[1]
CASES = int(sys.argv[sys.argv.index("--cases") + 1]) if "--cases" in sys.argv else 120


def out_size(n, k, s, d, pb, pe, ceil):
    eff = (k - 1) * d + 1
    span = n + pb + pe - eff
    if ceil:
        o = -(-span // s) + 1
        if (o - 1) * s >= n + pb:
            o -= 1
    else:
        o = span // s + 1
    return o


def pool_ref(x, case):
    """The ONNX definition, one window at a time."""
    nsp, k, s, d = case["nsp"], case["k"], case["s"], case["d"]
    pb, pe = case["pad"][:nsp], case["pad"][nsp:]
    sp = x.shape[2:]
    outs = [out_size(sp[i], k[i], s[i], d[i], pb[i], pe[i], case["ceil"]) for i in range(nsp)]
    y = np.zeros(x.shape[:2] + tuple(outs))
    xd = x.astype(np.float64)
    for o in itertools.product(*[range(n) for n in outs]):
        taps, padded = [], 0
        for kk in itertools.product(*[range(n) for n in k]):
            pos = [o[i] * s[i] - pb[i] + kk[i] * d[i] for i in range(nsp)]
            if all(0 <= pos[i] < sp[i] for i in range(nsp)):
                taps.append(tuple(pos))
            if all(-pb[i] <= pos[i] < sp[i] + pe[i] for i in range(nsp)):
                padded += 1
        vals = np.stack([xd[(slice(None), slice(None)) + t] for t in taps], axis=-1)
        if case["op"] == "MaxPool":
            v = vals.max(axis=-1)
        else:
            v = vals.sum(axis=-1) / (padded if case["include_pad"] else len(taps))
        y[(slice(None), slice(None)) + o] = v
    return y


def random_case(rng, i):
    nsp = [2, 2, 2, 1, 3][i % 5]
    op = "MaxPool" if i % 3 != 2 else "AveragePool"
    k = [int(rng.choice([1, 2, 3, 3, 3, 5, 7])) for _ in range(nsp)]
    if nsp == 3:
        k = [min(v, 3) for v in k]
    s = [int(rng.choice([1, 1, 2, 2, 3, 4])) for _ in range(nsp)]
    d = [int(rng.choice([1, 1, 1, 2, 3])) if op == "MaxPool" and i % 4 == 0 else 1 for _ in range(nsp)]
    pad = [int(rng.integers(0, k[j % nsp])) if k[j % nsp] > 1 and i % 2 else 0
           for j in range(2 * nsp)]
    if nsp == 3:
        size = [int(rng.integers(1, 9)) for _ in range(nsp)]
    elif nsp == 1:
        size = [int(rng.integers(1, 200))]
    else:
        size = [int(rng.integers(1, 40)), int(rng.choice([int(rng.integers(1, 20)),
                                                           int(rng.integers(20, 140))]))]
    for j in range(nsp):
        while size[j] + pad[j] + pad[j + nsp] < (k[j] - 1) * d[j] + 1:
            size[j] += 1
    c = int(rng.integers(1, 6))
    batch = 2 if i % 7 == 0 else 1
    return dict(op=op, nsp=nsp, k=k, s=s, d=d, pad=pad, size=size, c=c, batch=batch,
                ceil=i % 5 in (1, 3), include_pad=op == "AveragePool" and i % 2 == 0)


def network_cases():
    base = dict(op="MaxPool", nsp=2, k=[3, 3], s=[2, 2], d=[1, 1], batch=1, include_pad=False)
    return [dict(base, pad=[1, 1, 1, 1], size=[112, 112], c=8, ceil=False),
            dict(base, pad=[0, 0, 0, 0], size=[111, 111], c=8, ceil=True),
            dict(base, pad=[0, 0, 0, 0], size=[55, 55], c=8, ceil=True),
            dict(base, pad=[0, 0, 0, 0], size=[27, 27], c=16, ceil=True),
            dict(base, op="AveragePool", pad=[1, 1, 1, 1], size=[56, 56], c=4, ceil=False,
                 s=[1, 1], include_pad=True)]


def max_small_cases(rng, n):
    """MaxPool 3x3 and 2x2 (the kernels that read the image straight, pool_max_small_row_*): W
    stride 1 or 2, H stride 1-3, pads 0 to k - 1 on each side, floor and ceil mode, 1- to 70-wide
    rows; every third case 2x2."""
    out = []
    for i in range(n):
        k = 2 if i % 3 == 2 else 3
        pad = [int(rng.integers(0, k)) for _ in range(4)]
        size = [int(rng.integers(1, 30)), int(rng.integers(1, 71))]
        for d in range(2):
            while size[d] + pad[d] + pad[d + 2] < k:
                size[d] += 1
        out.append(dict(op="MaxPool", nsp=2, k=[k, k], s=[int(rng.integers(1, 4)), 1 + i % 2],
                        d=[1, 1], pad=pad, size=size, c=int(rng.integers(1, 4)), batch=1,
                        ceil=i % 4 == 0, include_pad=False))
    return out


def block_cases(rng, n):
    """MaxPools on the AVX-512 16-plane block kernel (block16_avx512.c): 2-D, square windows 2-7,
    stride 1, outputs at most 16 wide, pads up to k - 1 (the -inf border), ceil mode, plane counts
    that leave a partial block (16, 17, 33 planes over one or two images)."""
    out = []
    for i in range(n):
        k = [3, 2, 5, 7][i % 4]
        pad = [int(rng.integers(0, k)) for _ in range(4)]
        size = [int(rng.integers(1, 15)), int(rng.integers(1, 17 - k + 1 + pad[1] + pad[3]))]
        for d in range(2):
            while size[d] + pad[d] + pad[d + 2] < k:
                size[d] += 1
        out.append(dict(op="MaxPool", nsp=2, k=[k, k], s=[1, 1], d=[1, 1], pad=pad, size=size,
                        c=[16, 17, 33][i % 3], batch=1 + i % 2, ceil=i % 3 == 1, include_pad=False))
    return out


def node_for(case, j):
    attrs = dict(kernel_shape=case["k"], strides=case["s"], pads=case["pad"],
                 ceil_mode=int(case["ceil"]))
    if case["op"] == "MaxPool":
        if any(v != 1 for v in case["d"]):
            attrs["dilations"] = case["d"]
    else:
        attrs["count_include_pad"] = int(case["include_pad"])
    return helper.make_node(case["op"], [f"x{j}"], [f"y{j}"], **attrs)


def run_group(tmp, group, isas):
    """One model with a node per case, run under each ISA; returns the failures."""
    nodes, ins, outs, feeds = [], [], [], []
    for j, case, x, y in group:
        nodes.append(node_for(case, j))
        ins.append(helper.make_tensor_value_info(f"x{j}", TensorProto.FLOAT, x.shape))
        outs.append(helper.make_tensor_value_info(f"y{j}", TensorProto.FLOAT, y.shape))
        np.save(os.path.join(tmp, f"x{j}.npy"), x)
        feeds += ["--input", f"x{j}=" + os.path.join(tmp, f"x{j}.npy")]
    model = helper.make_model(helper.make_graph(nodes, "pools", ins, outs),
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    path = os.path.join(tmp, f"pools{group[0][0]}.onnx")
    onnx.save(model, path)
    failed = 0
    for isa, threads in [(isa, t) for isa in isas for t in (1, 2)]:
        out_dir = os.path.join(tmp, f"out-{isa}-{threads}-{group[0][0]}")
        run = subprocess.run([RUN, path, *feeds, "--output-dir", out_dir, "--threads", str(threads)],
                             env=dict(os.environ, IMGREC_ISA=isa), capture_output=True, text=True)
        if run.returncode != 0:
            print(f"FAIL {isa}: imgrec-run exited {run.returncode}: {run.stderr.strip()}")
            failed += 1
            continue
        for j, case, x, y in group:
            got = np.load(os.path.join(out_dir, f"y{j}.npy"))
            desc = (f"{isa} {threads} thread(s) case {j}: {case['op']} x{list(x.shape)} k{case['k']} s{case['s']} "
                    f"d{case['d']} pads{case['pad']} ceil={case['ceil']} "
                    f"include_pad={case['include_pad']}")
            if got.shape != y.shape:
                print(f"FAIL {desc}: shape {list(got.shape)}, expected {list(y.shape)}")
                failed += 1
                continue
            if case["op"] == "MaxPool":
                bad = np.count_nonzero(got != y.astype(np.float32))
            else:
                bad = np.count_nonzero(np.abs(got - y) > 1e-6 * (1 + np.abs(x).max()))
            if bad:
                print(f"FAIL {desc}: {bad} of {y.size} outputs differ "
                      f"(worst by {np.abs(got - y).max():.3g})")
                failed += 1
    return failed


def main():
    rng = np.random.default_rng(11)
    cases = [random_case(rng, i) for i in range(CASES)] + network_cases() + max_small_cases(rng, 60) + block_cases(rng, 16)
    all_cases = []
    for j, case in enumerate(cases):
        x = rng.standard_normal((case["batch"], case["c"], *case["size"])).astype(np.float32)
        all_cases.append((j, case, x, pool_ref(x, case)))
    isas = machine_isas()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for g in range(0, len(all_cases), 60):   # imgrec-run takes at most 64 inputs
            failed += run_group(tmp, all_cases[g:g + 60], isas)
    if failed:
        raise SystemExit(f"{failed} pool case(s) failed")
    print(f"all {len(cases)} pool cases match the reference under {', '.join(isas)}")


if __name__ == "__main__":
    main()
