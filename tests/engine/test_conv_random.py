#!/usr/bin/python3
"""Random Conv layers through imgrec-run under every ISA the machine has (IMGREC_ISA=ref, avx2,
avx512), against a float64 direct-loop reference in numpy: kernels 1/3/5/7, strides, pads,
dilations, groups and depthwise (with channel multipliers), 1-D and 2-D, maps that are not
multiples of any register or Winograd tile (20 cases on the AVX-512 direct path for few output
channels at W stride 2 and 12 on the 16-channel depthwise blocks for small maps, checked to take
them where the machine has AVX-512, and 16 forced onto the
Winograd F(4x4, 3x3) path:
3x3 stride 1, 16-128 channels, maps of 16x16 or more, checked to take it, and 8 dense ones dilated
2 or 3 along W at strides 1 and 2), with and without bias, with fused Relu / Clip (its bounds as
initializers or, as PyTorch exports ReLU6, Constant nodes; checked to fuse into one node) /
LeakyRelu / Sigmoid / SiLU (Sigmoid and Mul, as PyTorch exports it; checked to fuse) and a fused
residual Add (src/passes.c folds it into the Conv): the residual a
constant or a graph input of the output's shape, on either side of the Add, or one that broadcasts
(a per-channel constant, or a larger batch that grows the output).  Tolerance
1e-5 x sum |w * x| + 1e-6.

Usage: test_conv_random.py IMGREC_RUN [--cases N]"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine_isas import check_under_isas, machine_isas  # noqa: E402

RUN = sys.argv[1]
CASES = int(sys.argv[sys.argv.index("--cases") + 1]) if "--cases" in sys.argv else 48
WINOGRAD_CASES = 16
DILATED_CASES = 8
DIRECT_CASES = 20
DW_BLOCK_CASES = 12


def conv_ref(x, w, b, stride, pad, dil, group):
    """Direct convolution in float64; x [N, C, *S], w [M, C/g, *K]; returns (y, sum |w x|)."""
    nsp = x.ndim - 2
    xp = np.pad(x.astype(np.float64), [(0, 0), (0, 0)] + [(p, q) for p, q in zip(pad[:nsp], pad[nsp:])])
    m, cg = w.shape[0], w.shape[1]
    ks = w.shape[2:]
    out_sp = [(xp.shape[2 + i] - (dil[i] * (ks[i] - 1) + 1)) // stride[i] + 1 for i in range(nsp)]
    y = np.zeros((x.shape[0], m, *out_sp))
    mag = np.zeros_like(y)
    mg = m // group
    for oc in range(m):
        g = oc // mg
        xs = xp[:, g * cg:(g + 1) * cg]
        for kidx in np.ndindex(*ks):
            sl = [slice(None), slice(None)]
            for i in range(nsp):
                start = kidx[i] * dil[i]
                sl.append(slice(start, start + stride[i] * (out_sp[i] - 1) + 1, stride[i]))
            patch = xs[tuple(sl)]  # [N, cg, *out]
            wk = w[(oc, slice(None)) + tuple(kidx)].astype(np.float64).reshape(1, cg, *([1] * nsp))
            y[:, oc] += (patch * wk).sum(axis=1)
            mag[:, oc] += np.abs(patch * wk).sum(axis=1)
        if b is not None:
            y[:, oc] += b[oc]
    return y, mag


def random_case(rng, i):
    nsp = 1 if i % 6 == 5 else 2
    kind = i % 4   # 0 dense, 1 grouped, 2 depthwise, 3 pointwise
    k = [1, 3, 5, 7][rng.integers(0, 4)] if kind != 3 else 1
    group = 1
    c = int(rng.integers(1, 40))
    m = int(rng.integers(1, 70))
    if kind == 1:
        group = int(rng.integers(2, 4))
        c = group * int(rng.integers(1, 9))
        m = group * int(rng.integers(1, 12))
    elif kind == 2:
        c = int(rng.integers(1, 40))
        group = c
        m = c * int(rng.integers(1, 3))
    size = [int(rng.integers(k, k + 30)) for _ in range(nsp)]
    stride = [int(rng.integers(1, 3)) if kind != 3 else 1 for _ in range(nsp)]
    dil = [int(rng.integers(1, 3)) if k > 1 and i % 3 == 0 else 1 for _ in range(nsp)]
    pad = [int(rng.integers(0, k // 2 + 1)) if kind != 3 else 0 for _ in range(2 * nsp)]
    for d in range(nsp):
        while size[d] + pad[d] + pad[d + nsp] < dil[d] * (k - 1) + 1:
            size[d] += 1
    batch = 2 if i % 7 == 0 else 1
    return dict(nsp=nsp, k=k, group=group, c=c, m=m, size=size, stride=stride, dil=dil, pad=pad,
                batch=batch, bias=i % 2 == 0,
                act=["", "Relu", "Clip", "LeakyRelu", "Sigmoid" if i // 5 % 2 else "SiLU"][i % 5],
                residual=["const", "input", "const-left", "channel", "grow"][i // 3 % 5]
                if i % 3 == 1 else None, clip_constant_nodes=i % 10 == 7)


def dilated_case(rng, i):
    """A dense 2-D conv dilated along W (2 or 3), stride 1 or 2 there, padded: the im2col rows'
    tap offsets (the SIMD ones copy each tap out of one buffered input row)."""
    case = random_case(rng, 4)   # dense, 2-D
    k = [3, 5][i % 2]
    case.update(k=k, group=1, dil=[int(rng.integers(1, 3)), 2 + i % 2], stride=[1 + i % 2, 1 + (i // 2) % 2],
                pad=[int(rng.integers(0, k // 2 + 1)) for _ in range(4)], batch=1, residual=None)
    case["size"] = [int(rng.integers(k, k + 30)), int(rng.integers(2 * k + 6, 2 * k + 40))]
    for d in range(2):
        while case["size"][d] + case["pad"][d] + case["pad"][d + 2] < case["dil"][d] * (k - 1) + 1:
            case["size"][d] += 1
    return case


def winograd_case(rng, i):
    """A conv that takes the Winograd F(4x4, 3x3) path (2-D 3x3, stride 1, 16-128 channels,
    output maps of 16x16 or more): sizes not multiples of 4, asymmetric pads."""
    c, m = int(rng.integers(16, 49)), int(rng.integers(16, 49))
    if i % 4 == 3:
        c, m = 128, int(rng.integers(100, 129))
    size = [int(rng.integers(18, 41)) for _ in range(2)]
    pad = [int(rng.integers(0, 2)) for _ in range(4)]
    return dict(nsp=2, k=3, group=1, c=c, m=m, size=size, stride=[1, 1], dil=[1, 1], pad=pad,
                batch=2 if i % 5 == 0 else 1, bias=i % 2 == 0,
                act=["", "Relu", "Clip", "LeakyRelu", "Sigmoid"][i % 5],
                residual=["const", None, "channel"][i % 3], winograd=True)


def direct_case(rng, i):
    """A conv that takes the AVX-512 direct path (conv_direct.c: 2-D, group 1, W stride 2, 17-64
    output channels, K per 16 channels of at least 40 / 3, weights of 64 KB or less): kernels 3, 5, 7, H stride 1 or 2,
    pads on every side (border tiles), rows shorter and longer than a tile of 6-12 positions,
    output rows entirely in the padding."""
    k = [3, 3, 5, 7][i % 4]
    m = int(rng.integers(17, 65))
    v = (m + 15) // 16
    # at least 40 v / 3 of K, weights (K x 16 v floats) at most 64 KB
    c_min, c_max = -(-40 * v // (3 * k * k)), 16384 // (16 * v * k * k)
    c = int(rng.integers(c_min, max(c_min, min(c_max, 24)) + 1))
    size = [int(rng.integers(k, k + 20)), int(rng.integers(k, k + 50))]
    pad = [int(rng.integers(0, k // 2 + 1)) for _ in range(4)]
    if i % 5 == 4:
        pad[0] = pad[2] = k - 1   # first and last output rows read only padding and one row
    return dict(nsp=2, k=k, group=1, c=c, m=m, size=size, stride=[1 + i % 2, 2], dil=[1, 1],
                pad=pad, batch=2 if i % 6 == 0 else 1, bias=i % 3 != 0,
                act=["", "Relu", "Clip", "LeakyRelu", "Sigmoid", "SiLU"][i % 6],
                residual=["const", None, "channel", None][i % 4], direct=True)


def dw_block_case(rng, i):
    """A depthwise conv that takes the AVX-512 16-channel block kernel (conv_dw_block_avx512.c):
    one output channel per input channel, k 3-7, stride 1 (or 2 with k >= 5 and at most 8
    outputs a row), outputs at most 16 wide, channel counts that leave a partial block, pads."""
    k = [3, 5, 7, 5][i % 4]
    stride = 2 if i % 4 == 3 else 1
    c = int(rng.choice([16, 17, 33, 40, 64]))
    out_w = int(rng.integers(1, 9 if stride == 2 else 17))
    pad = [int(rng.integers(0, k // 2 + 1)) for _ in range(4)]
    size = [max(1, (int(rng.integers(1, 15)) - 1) * stride + k - pad[0] - pad[2]),
            max(1, (out_w - 1) * stride + k - pad[1] - pad[3])]
    return dict(nsp=2, k=k, group=c, c=c, m=c, size=size, stride=[stride, stride], dil=[1, 1],
                pad=pad, batch=2 if i % 5 == 0 else 1, bias=i % 2 == 0,
                act=["", "Relu", "Clip", "SiLU"][i % 4], residual=[None, "const"][i % 2],
                dw_block=True)


def build(case, rng, path):
    nsp, k = case["nsp"], case["k"]
    x = rng.standard_normal((case["batch"], case["c"], *case["size"])).astype(np.float32)
    w = (rng.standard_normal((case["m"], case["c"] // case["group"], *([k] * nsp))) * 0.3).astype(np.float32)
    b = rng.standard_normal(case["m"]).astype(np.float32) if case["bias"] else None
    y, mag = conv_ref(x, w, b, case["stride"], case["pad"], case["dil"], case["group"])
    inits = [numpy_helper.from_array(w, "w")]
    ins = ["x", "w"]
    if b is not None:
        inits.append(numpy_helper.from_array(b, "b"))
        ins.append("b")
    nodes = [helper.make_node("Conv", ins, ["y0"], kernel_shape=[k] * nsp, strides=case["stride"],
                              pads=case["pad"], dilations=case["dil"], group=case["group"])]
    last = "y0"
    extra = {}
    res = case["residual"]
    if res:
        shape = {"channel": (y.shape[1],) + (1,) * nsp, "grow": (2,) + y.shape[1:]}.get(res, y.shape)
        r = rng.standard_normal(shape).astype(np.float32)
        case["sum_broadcast"] = shape != y.shape
        if res == "input":
            extra["r"] = r
        else:
            inits.append(numpy_helper.from_array(r, "r"))
        nodes.append(helper.make_node("Add", ["r", last] if res == "const-left" else [last, "r"], ["y1"]))
        last = "y1"
        y = y + r
        mag = mag + np.abs(r)
    act = case["act"]
    if act:
        if act == "Clip":
            lo, hi = numpy_helper.from_array(np.array(-0.5, np.float32), "lo"), \
                numpy_helper.from_array(np.array(0.75, np.float32), "hi")
            if case.get("clip_constant_nodes"):
                # as PyTorch exports ReLU6: the bounds from Constant nodes
                nodes += [helper.make_node("Constant", [], ["lo"], value=lo),
                          helper.make_node("Constant", [], ["hi"], value=hi)]
            else:
                inits += [lo, hi]
            nodes.append(helper.make_node("Clip", [last, "lo", "hi"], ["out"]))
            y = np.clip(y, -0.5, 0.75)
        elif act == "LeakyRelu":
            nodes.append(helper.make_node("LeakyRelu", [last], ["out"], alpha=0.1))
            y = np.where(y >= 0, y, 0.1 * y)
        elif act == "Relu":
            nodes.append(helper.make_node("Relu", [last], ["out"]))
            y = np.maximum(y, 0)
        elif act == "SiLU":
            # as PyTorch exports nn.SiLU: Sigmoid, then Mul with the same tensor
            nodes.append(helper.make_node("Sigmoid", [last], ["sg"]))
            nodes.append(helper.make_node("Mul", [last, "sg"] if case["c"] % 2 else ["sg", last],
                                          ["out"]))
            y = y / (1 + np.exp(-y))
            mag = mag * 1.1
        else:
            nodes.append(helper.make_node("Sigmoid", [last], ["out"]))
            y = 1 / (1 + np.exp(-y))
            mag = mag * 0.25
        last = "out"
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, v.shape) for n, v in [("x", x), *extra.items()]]
    g = helper.make_graph(nodes, "conv", inputs,
                          [helper.make_tensor_value_info(last, TensorProto.FLOAT, y.shape)], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, path)
    return x, y, mag, last, extra


def main():
    rng = np.random.default_rng(7)
    isas = machine_isas()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        special = CASES + WINOGRAD_CASES + DILATED_CASES
        for i in range(special + DIRECT_CASES + DW_BLOCK_CASES):
            case = (random_case(rng, i) if i < CASES else winograd_case(rng, i)
                    if i < CASES + WINOGRAD_CASES else dilated_case(rng, i)
                    if i < special else direct_case(rng, i)
                    if i < special + DIRECT_CASES else dw_block_case(rng, i))
            path = os.path.join(tmp, f"conv{i}.onnx")
            x, y, mag, out_name, extra = build(case, rng, path)
            feeds = ["--input", "x=" + os.path.join(tmp, "x.npy")]
            np.save(os.path.join(tmp, "x.npy"), x)
            for n, v in extra.items():
                np.save(os.path.join(tmp, n + ".npy"), v)
                feeds += ["--input", f"{n}=" + os.path.join(tmp, n + ".npy")]
            # the algorithm the profiler names, for the cases made to take one
            for flag, want, what in (("winograd", "winograd F(4x4,3x3)", "Winograd"),
                                     ("direct", "direct avx512", "direct"),
                                     ("dw_block", "16-channel blocks", "depthwise block")):
                if not case.get(flag) or (flag != "winograd" and "avx512" not in isas):
                    continue
                p = subprocess.run([RUN, path, *feeds, "--profile", "--bench", "1", "--threads", "1"],
                                   capture_output=True, text=True, timeout=120)
                if want in p.stdout:
                    passed += 1
                else:
                    failed += 1
                    print(f"FAIL case {i} {case}: not on the {what} path:\n{p.stdout}{p.stderr}")
            if case["act"] and not case["residual"]:
                # The activation went into the Conv (Clip's bounds from initializers or
                # from Constant nodes alike): one node left.
                p = subprocess.run([RUN, path, *feeds, "--profile", "--bench", "1", "--threads", "1"],
                                   capture_output=True, text=True, timeout=120)
                rows = [l.split()[2] for l in p.stdout.splitlines() if l[:1].isdigit()]
                if rows == ["Conv"]:
                    passed += 1
                else:
                    failed += 1
                    print(f"FAIL case {i} {case}: the {case['act']} was not fused: {rows}")
            if case["residual"]:
                # The Add went into the Conv: one node, described with its sum.
                p = subprocess.run([RUN, path, *feeds, "--profile", "--bench", "1", "--threads", "1"],
                                   capture_output=True, text=True, timeout=120)
                rows = [l for l in p.stdout.splitlines() if l[:1].isdigit()]
                want = " +sum broadcast" if case["sum_broadcast"] else " +sum"
                if len(rows) == 1 and rows[0].endswith(want):
                    passed += 1
                else:
                    failed += 1
                    print(f"FAIL case {i} {case}: the residual Add was not fused:\n{p.stdout}{p.stderr}")
            ok, bad = check_under_isas(RUN, path, feeds, os.path.join(tmp, f"out{i}"), out_name,
                                       y, mag, f"case {i} {case}", isas)
            passed += ok
            failed += bad
        print(f"# ISAs tested: {', '.join(isas)}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
