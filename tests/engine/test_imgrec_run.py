#!/usr/bin/python3
"""imgrec-run command-line behaviour: --info, running with .npy inputs of
several types, deterministic random inputs, --bench JSON, output file names,
and one-sentence errors with exit status 1 (never a signal)."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RUN = sys.argv[1]
TESTDATA = "/usr/share/libonnx-testdata/data/node"
results = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    if condition:
        results["passed"] += 1
        print(f"PASS {name}")
    else:
        results["failed"] += 1
        print(f"FAIL {name}: {detail}")


def run(*args):
    return subprocess.run([RUN, *args], capture_output=True, text=True, timeout=120)


def save_model(path, nodes, inputs, outputs, initializers=(), metadata=None, opset=13):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    for k, v in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(model, path)


def expect_error(name, proc, *words):
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    ok = proc.returncode == 1 and len(lines) == 1 and all(w in proc.stderr for w in words)
    check(name, ok, f"rc={proc.returncode} stderr={proc.stderr!r}")


with tempfile.TemporaryDirectory() as tmp:
    # A model with a symbolic batch, metadata, and an output name needing sanitising.
    add_model = os.path.join(tmp, "add.onnx")
    save_model(add_model,
               [helper.make_node("Add", ["x", "bias"], ["out/put:0"], name="add_bias")],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
               [helper.make_tensor_value_info("out/put:0", TensorProto.FLOAT, ["batch", 3])],
               [numpy_helper.from_array(np.array([1, 2, 3], np.float32), "bias")],
               {"imgrec.kind": "classifier", "imgrec.labels": "a\nb\nc"})

    p = run(add_model, "--info")
    check("info lists inputs, outputs and metadata",
          p.returncode == 0 and "x: float32 [batch, 3]" in p.stdout
          and "out/put:0: float32 [batch, 3]" in p.stdout and "imgrec.kind: classifier" in p.stdout,
          p.stdout + p.stderr)

    # Inputs of every accepted type are cast to the model's float input.
    for dtype in (np.float32, np.float16, np.int64, np.int32, np.bool_):
        x = (np.arange(6).reshape(2, 3) % 2 if dtype == np.bool_ else np.arange(6).reshape(2, 3)).astype(dtype)
        np.save(os.path.join(tmp, "x.npy"), x)
        out_dir = os.path.join(tmp, "out")
        p = run(add_model, "--input", f"x={tmp}/x.npy", "--output-dir", out_dir)
        path = os.path.join(out_dir, "out_put_0.npy")
        ok = p.returncode == 0 and os.path.exists(path)
        if ok:
            y = np.load(path)
            ok = y.dtype == np.float32 and y.shape == (2, 3) and np.allclose(
                y, x.astype(np.float32) + np.array([1, 2, 3], np.float32))
        check(f"run with {np.dtype(dtype).name} input writes sanitised float32 output", ok,
              p.stderr)

    # A real conformance model gives the reference output.
    conv_dir = os.path.join(TESTDATA, "test_conv_with_strides_padding")
    if os.path.isdir(conv_dir):
        ds = os.path.join(conv_dir, "test_data_set_0")
        names = []
        for i in range(2):
            t = onnx.TensorProto()
            t.ParseFromString(open(os.path.join(ds, f"input_{i}.pb"), "rb").read())
            np.save(os.path.join(tmp, f"in{i}.npy"), numpy_helper.to_array(t))
            names.append(t.name)
        ref = onnx.TensorProto()
        ref.ParseFromString(open(os.path.join(ds, "output_0.pb"), "rb").read())
        out_dir = os.path.join(tmp, "conv")
        p = run(os.path.join(conv_dir, "model.onnx"), "--input", f"{names[0]}={tmp}/in0.npy",
                "--input", f"{names[1]}={tmp}/in1.npy", "--output-dir", out_dir)
        y = np.load(os.path.join(out_dir, ref.name + ".npy")) if p.returncode == 0 else None
        check("conv model matches the ONNX reference output",
              y is not None and np.allclose(y, numpy_helper.to_array(ref), rtol=1e-3, atol=1e-5),
              p.stderr)

    # Random inputs are deterministic per seed, and differ between seeds.
    outs = []
    for seed in ("7", "7", "8"):
        d = os.path.join(tmp, "rand" + str(len(outs)))
        p = run(add_model, "--random-inputs", seed, "--output-dir", d)
        outs.append(np.load(os.path.join(d, "out_put_0.npy")) if p.returncode == 0 else None)
    check("random inputs are deterministic",
          outs[0] is not None and np.array_equal(outs[0], outs[1]) and not np.array_equal(outs[0], outs[2]))

    p = run(add_model, "--random-inputs", "1", "--bench", "5", "--warmup", "2", "--threads", "1")
    try:
        j = json.loads(p.stdout.strip())
        ok = (set(j) == {"model", "threads", "runs", "median_ms", "min_ms", "max_ms", "load_ms",
                         "peak_rss_mb", "session_mib", "arena_mib", "scratch_mib"}
              and j["runs"] == 5 and j["threads"] == 1
              and j["min_ms"] <= j["median_ms"] <= j["max_ms"]
              and j["session_mib"] >= j["arena_mib"] + j["scratch_mib"] - 0.01)
    except ValueError:
        ok = False
    check("bench prints one JSON line", ok and len(p.stdout.strip().splitlines()) == 1, p.stdout + p.stderr)

    # --profile: the per-node table (node name, op, ms), the per-op-type table, then the JSON.
    p = run(add_model, "--random-inputs", "1", "--profile", "--bench", "3", "--threads", "1")
    lines = p.stdout.strip().splitlines()
    try:
        j = json.loads(lines[-1])
        ok = j["runs"] == 3
    except (ValueError, IndexError):
        ok = False
    check("profile prints per-node and per-op-type tables, then the JSON",
          p.returncode == 0 and ok and lines[0].startswith("# imgrec profile: 3 runs")
          and any("add_bias" in l and " Add " in l for l in lines)
          and "# per op type" in lines, p.stdout + p.stderr)
    env = dict(os.environ, IMGREC_PROFILE="1")
    d = os.path.join(tmp, "prof_env")
    p = subprocess.run([RUN, add_model, "--random-inputs", "1", "--output-dir", d],
                       capture_output=True, text=True, timeout=60, env=env)
    check("IMGREC_PROFILE=1 reports on stderr when the session ends",
          p.returncode == 0 and "# imgrec profile: 1 runs" in p.stderr and "add_bias" in p.stderr,
          p.stdout + p.stderr)

    # Errors: one sentence, exit 1.
    expect_error("missing model file", run(os.path.join(tmp, "nope.onnx"), "--info"), "nope.onnx")

    # Paths that are not regular files fail at once (a FIFO used to block in
    # open() forever, /dev/zero to be read until memory ran out); so do files
    # over the size limit, and external data that is a FIFO.
    def run_bounded(*args):
        try:
            return subprocess.run([RUN, *args], capture_output=True, text=True, timeout=10)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(args, -1, "", "timed out (hang)")
    fifo = os.path.join(tmp, "model.fifo")
    os.mkfifo(fifo)
    expect_error("FIFO as model fails at once", run_bounded(fifo, "--info"),
                 "model.fifo", "not a regular file", "FIFO")
    expect_error("directory as model", run_bounded(tmp, "--info"), "a directory")
    expect_error("/dev/zero as model", run_bounded("/dev/zero", "--info"),
                 "/dev/zero", "character device")
    empty = os.path.join(tmp, "empty.onnx")
    open(empty, "wb").close()
    expect_error("empty model file", run_bounded(empty, "--info"), "empty.onnx", "is empty")
    huge = os.path.join(tmp, "huge.onnx")
    with open(huge, "wb") as f:
        f.truncate(3 << 30)         # sparse: no disk used
    expect_error("model over the size limit names file and limit", run_bounded(huge, "--info"),
                 "huge.onnx", "2 GiB limit")
    ext_dir = os.path.join(tmp, "ext")
    os.mkdir(ext_dir)
    ext_model = os.path.join(ext_dir, "ext.onnx")
    weight = numpy_helper.from_array(np.zeros(4, np.float32), "w")
    weight.ClearField("raw_data")
    weight.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "w.bin"), ("offset", "0"), ("length", "16")):
        e = weight.external_data.add()
        e.key, e.value = k, v
    save_model(ext_model, [helper.make_node("Add", ["x", "w"], ["y"])],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])], [weight])
    os.mkfifo(os.path.join(ext_dir, "w.bin"))
    expect_error("FIFO as external data fails at once", run_bounded(ext_model, "--info"),
                 "w.bin", "FIFO")
    os.unlink(os.path.join(ext_dir, "w.bin"))
    np.zeros(4, np.float32).tofile(os.path.join(ext_dir, "w.bin"))
    p = run_bounded(ext_model, "--info")
    check("regular external data still loads", p.returncode == 0, p.stderr)
    npy_fifo = os.path.join(tmp, "x.fifo")
    os.mkfifo(npy_fifo)
    expect_error("FIFO as .npy input fails at once",
                 run_bounded(add_model, "--input", f"x={npy_fifo}", "--output-dir",
                             os.path.join(tmp, "o")), "x.fifo", "FIFO")
    with open(os.path.join(tmp, "lying.npy"), "wb") as f:
        header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000,), }"
        header += b" " * (63 - len(header) % 64) + b"\n"
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header)
    expect_error(".npy header claiming more data than the file has",
                 run_bounded(add_model, "--input", f"x={tmp}/lying.npy", "--output-dir",
                             os.path.join(tmp, "o")), "lying.npy", "truncated")

    data = open(add_model, "rb").read()
    trunc = os.path.join(tmp, "trunc.onnx")
    open(trunc, "wb").write(data[: len(data) // 2])
    expect_error("truncated model", run(trunc, "--info"), "trunc.onnx")
    garbage = os.path.join(tmp, "garbage.onnx")
    open(garbage, "wb").write(b"\xff" * 100)
    expect_error("garbage model", run(garbage, "--info"), "not a valid ONNX model")
    unsupported = os.path.join(tmp, "unsupported.onnx")
    save_model(unsupported, [helper.make_node("Det", ["x"], ["y"], name="the_det_node")],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 3])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])])
    expect_error("unsupported operator names op and node", run(unsupported, "--info"),
                 "unsupported operator Det", "the_det_node")
    np.save(os.path.join(tmp, "bad.npy"), np.zeros((2, 4), np.float32))
    expect_error("shape mismatch", run(add_model, "--input", f"x={tmp}/bad.npy", "--output-dir",
                                       os.path.join(tmp, "o")), "dimension 1")
    expect_error("missing input", run(add_model, "--output-dir", os.path.join(tmp, "o")),
                 "input 'x' was not given")
    expect_error("unknown input name", run(add_model, "--input", f"nosuch={tmp}/x.npy",
                                           "--output-dir", os.path.join(tmp, "o")), "nosuch")
    np.save(os.path.join(tmp, "c.npy"), np.zeros((2, 3), np.complex64))
    expect_error("unsupported npy type", run(add_model, "--input", f"x={tmp}/c.npy",
                                             "--output-dir", os.path.join(tmp, "o")), "c.npy")
    cycle = os.path.join(tmp, "cycle.onnx")
    save_model(cycle, [helper.make_node("Relu", ["b"], ["a"]), helper.make_node("Relu", ["a"], ["b"])],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
               [helper.make_tensor_value_info("b", TensorProto.FLOAT, [1])])
    expect_error("cyclic graph", run(cycle, "--info"), "cycle")
    expect_error("bad option value", run(add_model, "--bench", "zero"), "--bench")

print(f"{results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
