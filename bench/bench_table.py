#!/usr/bin/python3
"""Formats bench/run_bench.sh's results (one JSON object per line, each with "bench_model" and
"engine" added) as a Markdown table of median milliseconds and the ratios imgrec / ONNX Runtime
and imgrec / PyTorch (< 1 means imgrec is faster).
Usage: /usr/bin/python3 bench/bench_table.py RESULTS.jsonl"""
import json
import sys


def main():
    rows = {}
    order = []
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            key = (r["bench_model"], int(r["threads"]))
            if key not in rows:
                rows[key] = {}
                order.append(key)
            rows[key][r["engine"]] = r
    fmt = lambda v: f"{v:.2f}" if isinstance(v, (int, float)) else "n/a"  # noqa: E731
    print("| model | threads | imgrec ms | ONNX Runtime ms | PyTorch ms | imgrec / ORT | imgrec / PyTorch |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key in order:
        e = rows[key]
        ms = {k: (e[k].get("median_ms") if k in e and "error" not in e[k] else None)
              for k in ("imgrec", "onnxruntime", "pytorch")}
        ratio = lambda a, b: f"{a / b:.2f}" if a and b else "n/a"  # noqa: E731
        print(f"| {key[0]} | {key[1]} | {fmt(ms['imgrec'])} | {fmt(ms['onnxruntime'])} | {fmt(ms['pytorch'])} | "
              f"{ratio(ms['imgrec'], ms['onnxruntime'])} | {ratio(ms['imgrec'], ms['pytorch'])} |")
    errors = [f"{k[0]} t={k[1]} {eng}: {r['error']}" for k in order for eng, r in rows[k].items() if "error" in r]
    for err in errors:
        print(f"\nerror: {err}")


if __name__ == "__main__":
    main()
