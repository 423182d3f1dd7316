#!/usr/bin/env python3
"""Writes the small ONNX models the GStreamer element tests use.

Usage: make_models.py OUTPUT_DIR

The classifiers compute their scores from the mean colour of each input
channel (ReduceMean over the image, then a 3x4 matrix), so a test can predict
the result for a uniformly coloured frame and also compare the element's
metadata with the engine run on the same pre-processed tensor.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

LABELS = "red\ngreen\nblue\ngray"
# Rows are input channels in R, G, B order; columns are the classes above.
W_RGB = np.array([[4, -2, -2, 0], [-2, 4, -2, 0], [-2, -2, 4, 0]], np.float32)
BIAS = np.array([0, 0, 0, 0.5], np.float32)


def save(graph, path, meta=None, opset=13):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="imgrec-tests")
    model.ir_version = 7
    for k, v in (meta or {}).items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(model)
    onnx.save(model, path)


def mean_colour_graph(shape, axes, weights, bias, softmax=False, name="g"):
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["mean"], axes=axes, keepdims=0),
        helper.make_node("MatMul", ["mean", "W"], ["mm"]),
        helper.make_node("Add", ["mm", "B"], ["logits" if softmax else "scores"]),
    ]
    if softmax:
        nodes.append(helper.make_node("Softmax", ["logits"], ["scores"], axis=1))
    n_out = weights.shape[1]
    return helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, n_out])],
        [helper.make_tensor("W", TensorProto.FLOAT, weights.shape, weights.flatten()),
         helper.make_tensor("B", TensorProto.FLOAT, bias.shape, bias)])


def main(out):
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)

    # RGB, NCHW, labels in the metadata, default pre-processing.
    save(mean_colour_graph([1, 3, 8, 8], [2, 3], W_RGB, BIAS), p("mean-colour.onnx"),
         {"imgrec.kind": "classifier", "imgrec.labels": LABELS})
    # Same, but the output already is a distribution.
    save(mean_colour_graph([1, 3, 8, 8], [2, 3], W_RGB, BIAS, softmax=True),
         p("mean-colour-softmax.onnx"),
         {"imgrec.kind": "classifier", "imgrec.labels": LABELS})
    # BGR, NHWC, mean/std, letterbox, non-square input.
    save(mean_colour_graph([1, 6, 10, 3], [1, 2], W_RGB[::-1].copy(), BIAS),
         p("mean-colour-bgr-nhwc.onnx"),
         {"imgrec.labels": LABELS, "imgrec.color-order": "BGR",
          "imgrec.input-layout": "NHWC", "imgrec.mean": "0.5",
          "imgrec.std": "0.25,0.25,0.25", "imgrec.resize": "letterbox"})
    # One grey channel, no labels: class 0 = bright, class 1 = dark.
    save(mean_colour_graph([1, 1, 4, 4], [2, 3], np.array([[10, -10]], np.float32),
                           np.array([-5, 5], np.float32)), p("gray.onnx"))
    # Bad models.
    save(mean_colour_graph([1, 3, 8, 8], [2, 3], W_RGB, BIAS), p("three-labels.onnx"),
         {"imgrec.labels": "red\ngreen\nblue"})
    save(mean_colour_graph([1, 3, 8, 8], [2, 3], W_RGB, BIAS), p("generator-kind.onnx"),
         {"imgrec.kind": "gan-generator"})
    save(mean_colour_graph([1, 3, "h", "w"], [2, 3], W_RGB, BIAS), p("dynamic-size.onnx"))
    w = np.ones((10, 2), np.float32)
    save(helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])], "vector",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 10])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor("W", TensorProto.FLOAT, w.shape, w.flatten())]),
        p("not-image.onnx"))
    with open(p("garbage.onnx"), "wb") as f:
        f.write(b"this is not an ONNX model\n" * 10)
    with open(p("labels4.txt"), "w") as f:
        f.write("rouge\nvert\nbleu\ngris\n")


if __name__ == "__main__":
    main(sys.argv[1])
