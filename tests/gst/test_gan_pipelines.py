#!/usr/bin/env python3
"""Runs pipelines/demo-full.sh end to end: the synthetic feed (imgrecgansrc ->
imgrecclassify -> imgrecseq when built -> imgrecgan -> imgrecjson ->
imgrecoverlay -> MP4) and the same chain on the video it wrote (--file).

Usage: test_gan_pipelines.py SOURCE_ROOT BUILD_ROOT WORK_DIR
Exit status 77 (skip) when no H.264 encoder or a shipped model is missing.
Fails when a clean run prints anything a user would read as an error.
"""
import json
import os
import shutil
import subprocess
import sys

from pipeline_skips import skip, skip_reason

FRAMES = 40


def run(cmd, env):
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=600)
    print(p.stdout)
    if p.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(cmd)} exited with {p.returncode}")
    # A first-time user reads any of these as a failure: a clean run prints none.
    for alarming in ("rror", "CRITICAL", "WARNING", "cmInitParaError", "command not found"):
        if alarming in p.stdout:
            raise SystemExit(f"FAIL: {' '.join(cmd)} printed {alarming!r} on a clean run")
    return p.stdout


def results(path):
    lines = [json.loads(line) for line in open(path)]
    for i, obj in enumerate(lines):
        assert obj["frame"] == i, f"{path}:{i + 1}: frame {obj['frame']}"
    return [obj["results"] for obj in lines]


def roles(res):
    return sorted((r["kind"], r.get("role", "")) for r in res)


def main():
    root, build, work = sys.argv[1:4]
    env = dict(os.environ, IMGREC_BUILD=build, IMGREC_FRAMES=str(FRAMES))
    reason = skip_reason(root, ("traffic-signs/traffic-signs.onnx",
                                "traffic-signs-gan/generator.onnx",
                                "traffic-signs-gan/discriminator.onnx"), env)
    if reason:
        return skip(reason)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    script = os.path.join(root, "pipelines", "demo-full.sh")

    synthetic = os.path.join(work, "synthetic")
    text = run(["bash", script, synthetic], env)
    res = results(os.path.join(synthetic, "results.jsonl"))
    assert len(res) == FRAMES, f"{len(res)} JSON lines, expected {FRAMES}"
    for r in res:
        kinds = roles(r)
        assert ("gan", "generated") in kinds and ("gan", "discriminated") in kinds \
            and ("classification", "") in kinds, kinds
        gen = next(x for x in r if x.get("role") == "generated")
        assert gen["seed"] == 1 and gen["model"] == "generator" and gen["label"], gen
    assert f"frames: {FRAMES} in" in text, text
    assert "accuracy of classification (traffic-signs) against the generator's class" in text

    real = os.path.join(work, "file")
    run(["bash", script, "--file", os.path.join(synthetic, "annotated.mp4"), real], env)
    res = results(os.path.join(real, "results.jsonl"))
    assert len(res) == FRAMES, f"--file: {len(res)} JSON lines, expected {FRAMES}"
    for r in res:
        kinds = roles(r)
        assert ("gan", "generated") not in kinds and ("gan", "discriminated") in kinds \
            and ("classification", "") in kinds, kinds
    print("ok: demo-full.sh on the synthetic feed and on a video file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
