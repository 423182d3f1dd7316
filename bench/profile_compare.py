#!/usr/bin/python3
"""imgrec's per-node profile beside ONNX Runtime's, node for node: where the time goes apart.

Runs `imgrec-run MODEL --bench N --profile` and `node bench/ort_run.js MODEL --bench N
--profile` (rounds alternate the engines, the order reversed in every other round, so load
from other processes and a CPU's boost hit both alike) and
prints, for every node that both engines run, the fastest run's milliseconds of each (the
minimum is what a kernel costs; the median of a busy virtual machine mostly shows its
neighbours), their difference and ratio, worst first, then the totals per op type.

Nodes are matched by op type, output shape and kernel size, in execution order within each
such group: ORT renames the nodes it fuses (Conv + Relu -> "relu_4_nchwc") and runs parallel
branches in another order, so names cannot be matched.  ORT's layout nodes (ReorderInput /
ReorderOutput) and nodes one engine fused away are listed as unmatched.

Usage: /usr/bin/python3 bench/profile_compare.py MODEL.onnx [--threads 1] [--runs 100]
         [--rounds 2] [--top 25] [--imgrec build/engine/imgrec-run]
Env: IMGREC_ISA and the like pass through to imgrec-run.  Needs ORT (bash bench/install_ort.sh)."""
import argparse
import collections
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# imgrec-run --profile node line: index, name, op, output, ms, min ms, %, GFLOP/s, kernel...
NODE_LINE = re.compile(r"^(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\S+)\s*(.*)$")


def imgrec_nodes(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"profile_compare: {' '.join(cmd)} failed: {p.stderr.strip()[-400:]}")
    nodes = []
    for line in p.stdout.splitlines():
        m = NODE_LINE.match(line)
        if not m:
            continue
        kernel = m.group(9)
        k = re.search(r"\bk(\d+)\b", kernel)
        nodes.append({
            "name": m.group(2), "op": m.group(3),
            "shape": tuple(int(d) for d in m.group(4).split("x")) if m.group(4) != "-" else (),
            "k": int(k.group(1)) if k else None,
            "min": float(m.group(6)), "kernel": kernel,
        })
    return nodes


def ort_nodes(cmd, prefix):
    for f in glob.glob(prefix + "*.json"):
        os.remove(f)
    p = subprocess.run(cmd + ["--profile", prefix], capture_output=True, text=True)
    files = glob.glob(prefix + "*.json")
    if p.returncode != 0 or not files:
        sys.exit(f"profile_compare: {' '.join(cmd)} failed: {p.stderr.strip()[-400:]}")
    runs, info, order = collections.defaultdict(list), {}, []
    for e in json.load(open(files[0])):
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time"):
            continue
        name = e["name"][: -len("_kernel_time")]
        if name not in info:
            args = e.get("args", {})
            outs = args.get("output_type_shape") or [{}]
            shape = tuple(next(iter(outs[0].values()), []))
            ins = args.get("input_type_shape") or []
            k = None
            if len(ins) > 1:
                w = next(iter(ins[1].values()), [])
                if len(w) == 4:
                    k = w[2]
            info[name] = {"name": name, "op": args.get("op_name", "?"), "shape": shape, "k": k}
            order.append(name)
        runs[name].append(e["dur"] / 1000.0)
    for f in files:
        os.remove(f)
    return [dict(info[n], min=min(runs[n])) for n in order]


def merge_min(rounds):
    """Per-node minimum over rounds (same node list each round)."""
    out = [dict(n) for n in rounds[0]]
    for r in rounds[1:]:
        for a, b in zip(out, r):
            a["min"] = min(a["min"], b["min"])
    return out


def key(n):
    return (n["op"], n["shape"], n["k"] if n["op"] in ("Conv", "ConvTranspose") else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--imgrec", default=os.path.join(REPO, "build", "engine", "imgrec-run"))
    a = ap.parse_args()
    common = ["--bench", str(a.runs), "--threads", str(a.threads), "--random-inputs", "1"]
    prefix = os.path.join(tempfile.mkdtemp(prefix="imgrec-profile-"), "ort")
    ours, theirs = [], []
    for rnd in range(a.rounds):
        # the order reversed in odd rounds: whoever runs second meets a CPU past its first boost
        if rnd % 2 == 0:
            ours.append(imgrec_nodes([a.imgrec, a.model] + common + ["--profile"]))
        theirs.append(ort_nodes(["node", os.path.join(HERE, "ort_run.js"), a.model] + common, prefix))
        if rnd % 2 == 1:
            ours.append(imgrec_nodes([a.imgrec, a.model] + common + ["--profile"]))
    ours, theirs = merge_min(ours), merge_min(theirs)

    pending = collections.defaultdict(collections.deque)
    for n in theirs:
        pending[key(n)].append(n)
    rows, unmatched = [], []
    for n in ours:
        q = pending.get(key(n))
        if q:
            rows.append((n, q.popleft()))
        else:
            unmatched.append(("imgrec", n))
    unmatched += [("ORT", n) for q in pending.values() for n in q]

    print(f"# {os.path.basename(a.model)}, {a.threads} thread(s), min of {a.rounds} x {a.runs} runs; "
          f"IMGREC_ISA={os.environ.get('IMGREC_ISA', '(machine)')}")
    print(f"| imgrec node | op | output | imgrec ms | ORT ms | diff ms | ratio | imgrec kernel |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | --- |")
    for n, o in sorted(rows, key=lambda r: r[1]["min"] - r[0]["min"])[: a.top]:
        ratio = n["min"] / o["min"] if o["min"] > 0 else float("inf")
        print(f"| {n['name']} | {n['op']} | {'x'.join(map(str, n['shape']))} | {n['min']:.4f} | "
              f"{o['min']:.4f} | {n['min'] - o['min']:+.4f} | {ratio:.2f} | {n['kernel']} |")
    by_op = collections.defaultdict(lambda: [0.0, 0.0])
    for n, o in rows:
        by_op[n["op"]][0] += n["min"]
        by_op[n["op"]][1] += o["min"]
    print("\n| op (matched) | imgrec ms | ORT ms | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for op, (x, y) in sorted(by_op.items(), key=lambda kv: -kv[1][0]):
        print(f"| {op} | {x:.3f} | {y:.3f} | {x / y if y else float('inf'):.2f} |")
    tot_ours = sum(n["min"] for n in ours)
    tot_theirs = sum(n["min"] for n in theirs)
    print(f"\nsum of per-node minima: imgrec {tot_ours:.3f} ms, ORT {tot_theirs:.3f} ms, "
          f"ratio {tot_ours / tot_theirs:.2f}")
    if unmatched:
        print("unmatched: " + ", ".join(f"{who} {n['name']} ({n['op']}) {n['min']:.4f}"
                                        for who, n in unmatched))


if __name__ == "__main__":
    main()
