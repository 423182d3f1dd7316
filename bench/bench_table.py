#!/usr/bin/python3
"""Formats bench/run_bench.sh's results (one JSON object per line, each with "bench_model",
"engine" and "round" added) as a Markdown table of median milliseconds and the ratios imgrec /
ONNX Runtime and imgrec / PyTorch (< 1 means imgrec is faster).  With several rounds, each
engine's figure is the median of its rounds' medians and each ratio the median of the rounds'
ratios (the engines of one round ran back to back), with the range of those ratios.
Usage: /usr/bin/python3 bench/bench_table.py RESULTS.jsonl"""
import json
import statistics
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
            rows[key].setdefault(r.get("round", 1), {})[r["engine"]] = r
    fmt = lambda v: f"{v:.2f}" if isinstance(v, (int, float)) else "n/a"  # noqa: E731
    rounds = max(len(v) for v in rows.values()) if rows else 0
    range_note = " (range over rounds)" if rounds > 1 else ""
    print(f"| model | threads | imgrec ms | ONNX Runtime ms | PyTorch ms | imgrec / ORT{range_note} | imgrec / PyTorch{range_note} |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    engines = ("imgrec", "onnxruntime", "pytorch")
    for key in order:
        per_round = rows[key]
        ms = {k: [e[k]["median_ms"] for e in per_round.values() if k in e and "error" not in e[k]]
              for k in engines}
        med = {k: statistics.median(v) if v else None for k, v in ms.items()}

        def ratio(other):
            rs = [e["imgrec"]["median_ms"] / e[other]["median_ms"] for e in per_round.values()
                  if all(k in e and "error" not in e[k] for k in ("imgrec", other))]
            if not rs:
                return "n/a"
            text = f"{statistics.median(rs):.2f}"
            return text + (f" ({min(rs):.2f}-{max(rs):.2f})" if len(rs) > 1 else "")
        print(f"| {key[0]} | {key[1]} | {fmt(med['imgrec'])} | {fmt(med['onnxruntime'])} | {fmt(med['pytorch'])} | "
              f"{ratio('onnxruntime')} | {ratio('pytorch')} |")
    errors = [f"{k[0]} t={k[1]} round {rd} {eng}: {r['error']}" for k in order
              for rd, e in rows[k].items() for eng, r in e.items() if "error" in r]
    for err in errors:
        print(f"\nerror: {err}")


if __name__ == "__main__":
    main()
