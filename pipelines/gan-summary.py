#!/usr/bin/env python3
"""Summarises the JSON lines of pipelines/demo-full.sh.

Usage: gan-summary.py RESULTS.jsonl SECONDS

Prints the frames, the classifier's (and sequence model's) labels per class,
for synthetic frames the accuracy of each recogniser against the class the
generator was conditioned on, the discriminator's realism and anomalies, and
the processing rate.
"""
import collections
import json
import sys


def main():
    path, seconds = sys.argv[1], float(sys.argv[2])
    frames = 0
    counts = collections.Counter()
    hits = collections.Counter()
    judged = collections.Counter()
    realism = []
    anomaly_frames = 0
    for line in open(path):
        obj = json.loads(line)
        frames += 1
        results = obj["results"]
        truth = next((r.get("label") for r in results
                      if r["kind"] == "gan" and r.get("role") == "generated"), None)
        for r in results:
            if r["kind"] == "gan" and r.get("role") == "discriminated":
                realism.append(r["score"])
                anomaly_frames += bool(r["anomaly"])
            elif r["kind"] != "gan" and r.get("label") is not None:
                name = f"{r['kind']} ({r['model']})"
                if r["kind"] == "classification":
                    counts[r["label"]] += 1
                if truth is not None:
                    judged[name] += 1
                    hits[name] += r["label"] == truth
    print(f"frames: {frames} in {seconds:.1f} s ({frames / max(seconds, 1e-9):.1f} fps)")
    print("classifier labels:")
    for label, n in counts.most_common():
        print(f"  {n:6d}  {label}")
    for name in sorted(judged):
        print(f"accuracy of {name} against the generator's class: "
              f"{100.0 * hits[name] / judged[name]:.1f}% ({hits[name]}/{judged[name]})")
    if realism:
        print(f"discriminator realism: mean {sum(realism) / len(realism):.3f}, "
              f"min {min(realism):.3f}, max {max(realism):.3f}; "
              f"{anomaly_frames} frame(s) in the anomaly state")


if __name__ == "__main__":
    main()
