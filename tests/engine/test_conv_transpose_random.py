#!/usr/bin/python3
"""Random ConvTranspose layers through imgrec-run under every ISA the machine has (IMGREC_ISA=ref,
avx2, avx512) on 1 and 2 threads, against a float64 scatter-loop reference in numpy: 1-D and 2-D,
kernels 1-5, strides 1-3, pads, dilations, output_padding, groups, with and without bias and a
fused Relu, weights a constant (packed at load for our SGEMM) or a graph input (packed per run),
1x1 stride-1 layers (the SGEMM writing Y itself) and the DCGAN generator's 4x4 stride-2 shape.
Tolerance 1e-5 x sum |w x| + 1e-6.

Usage: test_conv_transpose_random.py IMGREC_RUN [--cases N]"""
import itertools
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine_isas import check_under_isas, machine_isas  # noqa: E402

RUN = sys.argv[1]
CASES = int(sys.argv[sys.argv.index("--cases") + 1]) if "--cases" in sys.argv else 30


def conv_transpose_ref(x, w, b, stride, pad, dil, out_pad, group):
    """ONNX ConvTranspose by scattering every input value through the kernel; float64."""
    nsp = x.ndim - 2
    cin, mg, ks = w.shape[0], w.shape[1], w.shape[2:]
    cg = cin // group
    out_sp = [stride[i] * (x.shape[2 + i] - 1) + out_pad[i] + (ks[i] - 1) * dil[i] + 1
              - pad[i] - pad[nsp + i] for i in range(nsp)]
    y = np.zeros((x.shape[0], mg * group, *out_sp))
    mag = np.zeros_like(y)
    xd, wd = x.astype(np.float64), w.astype(np.float64)
    for n in range(x.shape[0]):
        for ic in range(cin):
            g = ic // cg
            for pos in itertools.product(*[range(s) for s in x.shape[2:]]):
                v = xd[(n, ic) + pos]
                for kk in itertools.product(*[range(k) for k in ks]):
                    o = [pos[i] * stride[i] + kk[i] * dil[i] - pad[i] for i in range(nsp)]
                    if all(0 <= o[i] < out_sp[i] for i in range(nsp)):
                        contrib = v * wd[(ic, slice(None)) + kk]
                        idx = (n, slice(g * mg, (g + 1) * mg)) + tuple(o)
                        y[idx] += contrib
                        mag[idx] += np.abs(contrib)
    if b is not None:
        y += b.astype(np.float64).reshape(1, -1, *([1] * nsp))
    return y, mag


def random_case(rng, i):
    nsp = 1 if i % 5 == 4 else 2
    k = int(rng.choice([1, 2, 3, 4, 5]))
    stride = [int(rng.integers(1, 4)) for _ in range(nsp)]
    dil = [int(rng.integers(1, 3)) if i % 4 == 1 else 1 for _ in range(nsp)]
    pad = [int(rng.integers(0, k)) for _ in range(2 * nsp)]
    out_pad = [int(rng.integers(0, min(stride[d], dil[d]))) if i % 3 == 0 else 0 for d in range(nsp)]
    group = int(rng.choice([1, 1, 2, 3]))
    size = [int(rng.integers(1, 14)) for _ in range(nsp)]
    case = dict(nsp=nsp, k=k, stride=stride, dil=dil, pad=pad, out_pad=out_pad, group=group,
                c=group * int(rng.integers(1, 12)), mg=int(rng.integers(1, 20)), size=size,
                bias=i // 2 % 2 == 0, relu=i % 3 == 1 or i % 12 == 5, const_w=i % 4 != 3,
                batch=2 if i % 7 == 0 else 1)
    if i % 6 == 5:   # 1x1 stride 1: the SGEMM writes Y
        case.update(k=1, stride=[1] * nsp, dil=[1] * nsp, pad=[0] * (2 * nsp), out_pad=[0] * nsp)
    if i % 10 == 2:  # the DCGAN generator's layers
        case.update(nsp=2, k=4, stride=[2, 2], dil=[1, 1], pad=[1, 1, 1, 1], out_pad=[0, 0], group=1,
                    c=64, mg=32, size=[8, 8])
    for d in range(case["nsp"]):   # the output must not be empty
        while (case["stride"][d] * (case["size"][d] - 1) + case["out_pad"][d]
               + (case["k"] - 1) * case["dil"][d] + 1 - case["pad"][d] - case["pad"][case["nsp"] + d]) < 1:
            case["size"][d] += 1
    return case


def build(case, rng, path):
    nsp, k = case["nsp"], case["k"]
    x = rng.standard_normal((case["batch"], case["c"], *case["size"])).astype(np.float32)
    w = (rng.standard_normal((case["c"], case["mg"], *([k] * nsp))) * 0.3).astype(np.float32)
    b = rng.standard_normal(case["mg"] * case["group"]).astype(np.float32) if case["bias"] else None
    y, mag = conv_transpose_ref(x, w, b, case["stride"], case["pad"], case["dil"], case["out_pad"],
                                case["group"])
    feeds = {"x": x}
    inits = []
    (inits.append(numpy_helper.from_array(w, "w")) if case["const_w"] else feeds.__setitem__("w", w))
    ins = ["x", "w"]
    if b is not None:
        inits.append(numpy_helper.from_array(b, "b"))
        ins.append("b")
    out = "c" if case["relu"] else "y"
    nodes = [helper.make_node("ConvTranspose", ins, [out], kernel_shape=[k] * nsp,
                              strides=case["stride"], pads=case["pad"], dilations=case["dil"],
                              output_padding=case["out_pad"], group=case["group"])]
    if case["relu"]:
        nodes.append(helper.make_node("Relu", ["c"], ["y"]))
        y = np.maximum(y, 0.0)
    graph_ins = [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(v.shape))
                 for n, v in feeds.items()]
    model = helper.make_model(
        helper.make_graph(nodes, "ct", graph_ins,
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits),
        opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return feeds, y, mag


def main():
    rng = np.random.default_rng(5)
    isas = machine_isas()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(CASES):
            case = random_case(rng, i)
            path = os.path.join(tmp, f"ct{i}.onnx")
            feeds, y, mag = build(case, rng, path)
            args = []
            for name, v in feeds.items():
                f = os.path.join(tmp, f"{name}{i}.npy")
                np.save(f, v)
                args += ["--input", f"{name}={f}"]
            ok, bad = check_under_isas(RUN, path, args, os.path.join(tmp, f"out{i}"), "y", y, mag, f"case {i} {case}",
                                       isas)
            passed += ok
            failed += bad
        print(f"# ISAs tested: {', '.join(isas)}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
