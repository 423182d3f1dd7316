#!/usr/bin/python3
"""Random Gemm and MatMul nodes through imgrec-run under every ISA the machine has (IMGREC_ISA=ref,
avx2, avx512) on 1 and 2 threads, against float64 numpy.

Gemm: transA / transB, alpha and beta (1, 0 and others), C absent or of every shape that
broadcasts ([], [1], [N], [1, N], [M, 1], [M, N]), B a constant (packed at load, its ONNX copy
freed) or a graph input, and a fused Relu (checked to fuse: one node).  MatMul: ranks 1 to 4 with
broadcast batch dimensions, B a constant 2-D matrix (packed) or an input, batches that fold into
one product and batches of separate products, many small ones and a few large.  M, N and K run
from 1 to past two register blocks (12 x 32 for AVX-512) and K past the SGEMM's K block (256).
Every eighth case is a batch-1 fully connected layer (Gemm, M = 1, B constant
and transposed), which runs as a row times the packed B.  The profiler must name our SGEMM (with "packed B" when B is a constant) for every product but the
GEMVs of contiguous rows with B an input (A's row times B^T's rows; A's rows times a column),
which run on the row GEMV.  Tolerance 1e-5 x sum |a b| + 1e-6.

Usage: test_matmul_random.py IMGREC_RUN [--cases N]"""
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
CASES = int(sys.argv[sys.argv.index("--cases") + 1]) if "--cases" in sys.argv else 40


def dim(rng, big=False):
    """1 to past two 12 x 32 blocks; sometimes past a K block."""
    r = rng.random()
    if big and r < 0.25:
        return int(rng.integers(250, 600))
    if r < 0.15:
        return 1
    return int(rng.integers(2, 80))


def gemm_case(rng, fc=False):
    m, n, k = 1 if fc else dim(rng), dim(rng), dim(rng, big=True)
    c_shape = [None, [], [1], [n], [1, n], [m, 1], [m, n]][int(rng.integers(0, 7))]
    return {
        "op": "Gemm", "m": m, "n": n, "k": k,
        "trans_a": int(rng.integers(0, 2)), "trans_b": int(rng.integers(0, 2)),
        "alpha": float(rng.choice([1.0, 0.5, -1.25])),
        "beta": float(rng.choice([1.0, 1.0, 0.0, 2.0])),
        "c_shape": c_shape, "const_b": bool(fc or rng.random() < 0.6),
        "relu": bool(rng.random() < 0.4),
    } | ({"trans_b": 1} if fc else {})


def matmul_case(rng):
    m, n, k = dim(rng), dim(rng), dim(rng, big=True)
    rank_a, rank_b = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    const_b = rank_b == 2 and rng.random() < 0.7
    batch = [int(rng.integers(1, 5)) for _ in range(2)]
    a_batch = [b if rng.random() < 0.7 else 1 for b in batch][2 - max(rank_a - 2, 0):]
    b_batch = [b if rng.random() < 0.7 else 1 for b in batch][2 - max(rank_b - 2, 0):]
    a_shape = [k] if rank_a == 1 else a_batch + [m, k]
    b_shape = [k] if rank_b == 1 else b_batch + [k, n]
    if rng.random() < 0.15 and rank_a >= 3 and rank_b >= 3:
        # many small products, spread over the threads
        a_shape = [24] + a_shape[-2:]
        b_shape = [24] + b_shape[-2:]
    return {"op": "MatMul", "a_shape": a_shape, "b_shape": b_shape, "const_b": const_b,
            "relu": bool(rng.random() < 0.3)}


def build(case, rng, path):
    """Writes the model; returns (feeds {name: array}, y, mag, on_sgemm, packed)."""
    inits, feeds, nodes = [], {}, []
    if case["op"] == "Gemm":
        m, n, k = case["m"], case["n"], case["k"]
        a = rng.standard_normal((k, m) if case["trans_a"] else (m, k)).astype(np.float32)
        b = rng.standard_normal((n, k) if case["trans_b"] else (k, n)).astype(np.float32)
        feeds["a"] = a
        (inits.append(numpy_helper.from_array(b, "b")) if case["const_b"] else feeds.__setitem__("b", b))
        inputs = ["a", "b"]
        if case["c_shape"] is not None:
            c = rng.standard_normal(case["c_shape"]).astype(np.float32)
            inits.append(numpy_helper.from_array(c, "c"))
            inputs.append("c")
        nodes.append(helper.make_node("Gemm", inputs, ["g" if case["relu"] else "y"],
                                      alpha=case["alpha"], beta=case["beta"],
                                      transA=case["trans_a"], transB=case["trans_b"]))
        opa = a.T if case["trans_a"] else a
        opb = b.T if case["trans_b"] else b
        prod = case["alpha"] * (opa.astype(np.float64) @ opb.astype(np.float64))
        mag = abs(case["alpha"]) * (np.abs(opa).astype(np.float64) @ np.abs(opb).astype(np.float64))
        y = prod
        if case["c_shape"] is not None and case["beta"] != 0.0:
            y = y + case["beta"] * np.broadcast_to(c.astype(np.float64), (m, n))
            mag = mag + abs(case["beta"]) * np.abs(np.broadcast_to(c, (m, n)))
        # the row GEMV takes contiguous rows: A's row times B^T's rows, or A's rows times a column
        on_sgemm = case["const_b"] or not ((m == 1 and case["trans_b"]) or (n == 1 and not case["trans_a"]))
    else:
        a = rng.standard_normal(case["a_shape"]).astype(np.float32)
        b = rng.standard_normal(case["b_shape"]).astype(np.float32)
        feeds["a"] = a
        (inits.append(numpy_helper.from_array(b, "b")) if case["const_b"] else feeds.__setitem__("b", b))
        nodes.append(helper.make_node("MatMul", ["a", "b"], ["g" if case["relu"] else "y"]))
        y = np.matmul(a.astype(np.float64), b.astype(np.float64))
        mag = np.matmul(np.abs(a).astype(np.float64), np.abs(b).astype(np.float64))
        m = 1 if a.ndim == 1 else a.shape[-2]
        n = 1 if b.ndim == 1 else b.shape[-1]
        on_sgemm = case["const_b"] or n > 1
    if case["relu"]:
        nodes.append(helper.make_node("Relu", ["g"], ["y"]))
        y = np.maximum(y, 0.0)
    graph_inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, list(v.shape))
                    for name, v in feeds.items()]
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    model = helper.make_model(helper.make_graph(nodes, "g", graph_inputs, [out], inits),
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return feeds, y, mag, on_sgemm, case["const_b"]


def main():
    rng = np.random.default_rng(11)
    isas = machine_isas()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(CASES):
            # every eighth: a batch-1 fully connected layer, one row times constant weights
            case = gemm_case(rng, fc=i % 8 == 0) if i % 2 == 0 else matmul_case(rng)
            if i % 8 == 4:
                # a row GEMV with B an input: one row times B^T's rows, or A's rows times a column
                case.update(const_b=False, trans_b=1, m=1, c_shape=[case["n"]]) if i % 16 == 4 else \
                    case.update(const_b=False, trans_a=0, n=1, c_shape=None)
            if i % 8 == 5:
                # batched matrix-vector products, B an input
                case.update(const_b=False, b_shape=case["b_shape"][:-1] + [1]
                            if len(case["b_shape"]) >= 2 else case["b_shape"])
            path = os.path.join(tmp, f"mm{i}.onnx")
            feeds, y, mag, on_sgemm, packed = build(case, rng, path)
            args = []
            for name, v in feeds.items():
                f = os.path.join(tmp, f"{name}{i}.npy")
                np.save(f, v)
                args += ["--input", f"{name}={f}"]
            # the profiler's row: one node (Relu fused), on our SGEMM unless a GEMV
            p = subprocess.run([RUN, path, *args, "--profile", "--bench", "1", "--threads", "1"],
                               capture_output=True, text=True, timeout=120)
            rows = [l for l in p.stdout.splitlines() if l[:1].isdigit()]
            want = "sgemm " if on_sgemm else "gemv"
            if len(rows) == 1 and want in rows[0] and (" packed B" in rows[0]) == (packed and on_sgemm):
                passed += 1
            else:
                failed += 1
                print(f"FAIL case {i} {case}: profile rows {rows} (want one, '{want}', packed {packed})"
                      f"{p.stderr.strip()}")
            ok, bad = check_under_isas(RUN, path, args, os.path.join(tmp, f"out{i}"), "y", y, mag, f"case {i} {case}",
                                       isas)
            passed += ok
            failed += bad
        print(f"# ISAs tested: {', '.join(isas)}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
