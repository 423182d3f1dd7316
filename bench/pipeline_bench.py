#!/usr/bin/env python3
"""Pipeline benchmark (not a timed test):

    videotestsrc (1080p I420) -> imgrecclassify -> fakesink

Prints frames/s and where the element's time goes: in the engine
(set_input + run + output) versus outside it (GstVideoConverter
pre-processing, tensor fill, softmax/top-k, metas).  Target: outside-engine
time <= 5 % of the element's total with a 224x224 model.

    bench/pipeline_bench.py [--model M.onnx] [--frames N] [--threads T]
                            [--scaling bilinear|antialias] [--build BUILD_DIR] [--json]

The default model is the real ImageNet SqueezeNet 1.0 (224x224) from
../shared/models when present, else an ImageNet-sized MobileNetV2 with
random weights exported from torchvision into a temporary folder.
"""
import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SQUEEZENET = os.path.join(ROOT, "..", "shared", "models", "imagenet-squeezenet1.0",
                          "squeezenet1.0-fp32.onnx")


def default_model(tmp):
    if os.path.exists(SQUEEZENET):
        return os.path.abspath(SQUEEZENET), "squeezenet1.0 (224x224, ImageNet)"
    import torch
    import torchvision
    path = os.path.join(tmp, "mobilenet_v2.onnx")
    model = torchvision.models.mobilenet_v2().eval()
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), path, opset_version=13,
                      input_names=["input"], output_names=["scores"])
    return path, "mobilenet_v2 (224x224, random weights)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model")
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--scaling", default="bilinear", choices=["bilinear", "antialias"])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--json", action="store_true", help="print one JSON line only")
    args = ap.parse_args()

    os.environ["GST_PLUGIN_PATH"] = os.path.join(args.build, "gst")
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)

    with tempfile.TemporaryDirectory() as tmp:
        model, model_desc = (args.model, os.path.basename(args.model)) if args.model \
            else default_model(tmp)
        desc = (f"videotestsrc num-buffers={args.frames} pattern=ball ! "
                f"video/x-raw,format=I420,width=1920,height=1080,framerate=30/1 ! "
                f"imgrecclassify name=c model=\"{model}\" threads={args.threads} "
                f"scaling={args.scaling} qos=false ! "
                f"fakesink sync=false")
        pipeline = Gst.parse_launch(desc)
        classify = pipeline.get_by_name("c")
        bus = pipeline.get_bus()
        t0 = time.monotonic()
        pipeline.set_state(Gst.State.PLAYING)
        msg = bus.timed_pop_filtered(600 * Gst.SECOND,
                                     Gst.MessageType.EOS | Gst.MessageType.ERROR)
        wall = time.monotonic() - t0
        if msg is None or msg.type == Gst.MessageType.ERROR:
            err = msg.parse_error()[0].message if msg else "timeout"
            print(f"pipeline_bench: {err}", file=sys.stderr)
            pipeline.set_state(Gst.State.NULL)
            return 1
        stats = classify.get_property("stats")
        pipeline.set_state(Gst.State.NULL)

    frames = stats.get_uint64("frames")[1]
    engine = stats.get_uint64("engine-time")[1] / 1e9
    pre = stats.get_uint64("preprocess-time")[1] / 1e9
    total = stats.get_uint64("total-time")[1] / 1e9
    outside = total - engine
    result = {
        "model": model_desc, "input": "1920x1080 I420 videotestsrc", "frames": frames,
        "threads": args.threads, "scaling": args.scaling, "pipeline_fps": round(frames / wall, 2),
        "element_ms_per_frame": round(1000 * total / frames, 3),
        "engine_ms_per_frame": round(1000 * engine / frames, 3),
        "preprocess_ms_per_frame": round(1000 * pre / frames, 3),
        "outside_engine_ms_per_frame": round(1000 * outside / frames, 3),
        "outside_engine_share": round(outside / total, 4),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:28s} {v}")
        print("target: outside_engine_share <= 0.05 ->",
              "met" if result["outside_engine_share"] <= 0.05 else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
