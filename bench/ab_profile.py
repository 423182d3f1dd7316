#!/usr/bin/python3
"""Two imgrec-run builds side by side, node for node: what a change did to each node.

Runs `A --profile --bench N` and `B --profile --bench N` in alternating rounds (load from other
processes and a shared virtual machine's slow phases hit both alike) and prints, for every node,
the fastest run of each build over all rounds (imgrec-run's "min ms" column, the minimum of
its runs), their ratio B / A, worst first, and the sums.  The order within a round
alternates too.  Across separate runs of
bench/profile_compare.py the same untouched node moved 10-20 % on one VM; within one
alternating run it does not.

Usage: /usr/bin/python3 bench/ab_profile.py A/imgrec-run B/imgrec-run MODEL.onnx
         [--threads 1] [--runs 20] [--rounds 4] [--top 30]
Env (IMGREC_ISA and the like) passes through to both."""
import argparse
import subprocess
import sys


def profile(binary, model, threads, runs):
    """{"index name": (op, output, min ms, kernel)} of one profiled run.  Keyed by the node's
    index too: the profile truncates names, and a block's depthwise and pointwise convs share
    the truncated prefix (keyed by name alone, one hid the other)."""
    p = subprocess.run([binary, model, "--bench", str(runs), "--warmup", "2", "--threads",
                        str(threads), "--random-inputs", "1", "--profile"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"ab_profile: {binary} failed: {p.stderr.strip()[-300:]}")
    nodes = {}
    for line in p.stdout.splitlines():
        if not line[:1].isdigit():
            continue
        f = line.split(None, 8)
        if len(f) < 6:
            continue
        nodes[f"{f[0]:>4} {f[1]}"] = (f[2], f[3], float(f[5]), f[8].strip() if len(f) > 8 else "")
    return nodes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args()
    best = {"a": {}, "b": {}}
    info = {}
    for r in range(args.rounds):
        # A first in even rounds, B first in odd ones: whichever runs second in a round met a
        # CPU past its first boost (identical builds came out 3 % apart, nodes 10 %)
        order = (("a", args.a), ("b", args.b))
        for key, binary in (order if r % 2 == 0 else order[::-1]):
            for name, (op, out, ms, kernel) in profile(binary, args.model, args.threads,
                                                        args.runs).items():
                best[key][name] = min(ms, best[key].get(name, ms))
                info.setdefault(name, (op, out, {}))[2][key] = kernel
    names = [n for n in best["a"] if n in best["b"]]
    rows = sorted(names, key=lambda n: best["a"][n] - best["b"][n])
    print(f"# {args.model}, {args.threads} thread(s), min of {args.rounds} x {args.runs} runs; "
          f"A = {args.a}, B = {args.b}")
    print("| node | op | output | A ms | B ms | B / A | B kernel |")
    print("| --- | --- | --- | ---: | ---: | ---: | --- |")
    for n in rows[:args.top]:
        op, out, kernels = info[n]
        a, b = best["a"][n], best["b"][n]
        print(f"| {n} | {op} | {out} | {a:.4f} | {b:.4f} | {b / a if a > 0 else 0:.2f} | "
              f"{kernels.get('b', '')} |")
    sa = sum(best["a"][n] for n in names)
    sb = sum(best["b"][n] for n in names)
    print(f"\nsum of per-node minima: A {sa:.3f} ms, B {sb:.3f} ms, B / A {sb / sa:.3f}")
    only = sorted(set(best["a"]) ^ set(best["b"]))
    if only:
        print("in one build only: " + ", ".join(only))


if __name__ == "__main__":
    main()
