#!/usr/bin/env python3
"""Writes the small GAN models and reference data the imgrecgansrc and
imgrecgan tests use.

Usage: make_gan_models.py OUTPUT_DIR

- tiny-generator.onnx: class-conditional generator: z [N,8] + one-hot
  class [N,4] -> Gemm -> image [N,3,8,8] in [-1,1] (tanh).
- tiny-generator-crlf.onnx: tiny-generator.onnx with CRLF line ends (and a
  trailing CRLF) in imgrec.labels, as a labels file written on Windows has.
- tiny-generator-gray.onnx: unconditional, z [1,5] -> [1,1,6,10] in [0,1].
- generator-not-image.onnx: z [1,8] -> [1,10] (not an image).
- tiny-discriminator.onnx: Conv-LeakyReLU-Gemm like the shipped one:
  image [N,3,16,16] (pixels mapped to [-1,1]) -> score [N,1],
  class_scores [N,4]; disc-frames.bin holds DISC_FRAMES RGB 16x16 frames
  (uint8) and disc-expected.bin the float32 logits PyTorch computes for them
  (numpy where PyTorch is not installed; disc-reference.txt says which).
- brightness-discriminator.onnx: logit = 20 * (mean pixel / 255 - 0.5), so a
  test controls the realism score with the frame's brightness.
- restore-invert.onnx: image-to-image "generator" [1,3,8,8] -> 1 - x, output
  range 0,1: a uniform colour c becomes 255 - c exactly.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

DISC_FRAMES = 6


def set_meta(path, meta):
    model = onnx.load(path)
    del model.metadata_props[:]
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(model)
    onnx.save(model, path)


def save(graph, path, meta):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="imgrec-tests")
    model.ir_version = 7
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(model)
    onnx.save(model, path)


def disc_reference(x, wc, bc, ws, bs):
    """Logits of the tiny discriminator for NCHW input x: PyTorch when it is
    installed (the reference the issue asks for), else the same in numpy."""
    try:
        import torch
        import torch.nn.functional as F
        with torch.no_grad():
            h = F.leaky_relu(F.conv2d(torch.from_numpy(x), torch.from_numpy(wc),
                                      torch.from_numpy(bc), stride=2, padding=1), 0.2)
            return F.linear(torch.flatten(h, 1), torch.from_numpy(ws),
                            torch.from_numpy(bs)).numpy().astype(np.float32), "pytorch"
    except ImportError:
        pass
    n = x.shape[0]
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    h = np.zeros((n, 4, 8, 8))
    for oy in range(8):
        for ox in range(8):
            patch = xp[:, :, 2 * oy:2 * oy + 3, 2 * ox:2 * ox + 3].reshape(n, -1)
            h[:, :, oy, ox] = patch @ wc.reshape(4, -1).T + bc
    h = np.where(h > 0, h, 0.2 * h)
    return (h.reshape(n, -1) @ ws.T + bs).astype(np.float32), "numpy"


def main(out):
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)

    rng = np.random.default_rng(1234)
    wg = rng.normal(0, 0.5, (3 * 8 * 8, 12)).astype(np.float32)
    bg = rng.normal(0, 0.1, (3 * 8 * 8,)).astype(np.float32)
    save(helper.make_graph(
        [helper.make_node("Concat", ["z", "class"], ["zc"], axis=1),
         helper.make_node("Gemm", ["zc", "Wg", "Bg"], ["fc"], transB=1),
         helper.make_node("Reshape", ["fc", "shape"], ["r"]),
         helper.make_node("Mul", ["r", "two"], ["r2"]),
         helper.make_node("Tanh", ["r2"], ["image"])], "tiny-generator",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", 8]),
         helper.make_tensor_value_info("class", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 8, 8])],
        [helper.make_tensor("Wg", TensorProto.FLOAT, wg.shape, wg.flatten()),
         helper.make_tensor("Bg", TensorProto.FLOAT, bg.shape, bg),
         helper.make_tensor("shape", TensorProto.INT64, [4], [-1, 3, 8, 8]),
         helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])]),
        p("tiny-generator.onnx"), {})
    set_meta(p("tiny-generator.onnx"), {
        "imgrec.kind": "gan-generator", "imgrec.latent-dim": "8",
        "imgrec.num-classes": "4", "imgrec.output-range": "-1,1",
        "imgrec.labels": "circle\ntriangle\nsquare\ndiamond",
        "imgrec.class-input": "one-hot"})
    crlf = onnx.load(p("tiny-generator.onnx"))
    for prop in crlf.metadata_props:
        if prop.key == "imgrec.labels":
            prop.value = "circle\r\ntriangle\r\nsquare\r\ndiamond\r\n"
    onnx.save(crlf, p("tiny-generator-crlf.onnx"))

    w = (np.arange(5 * 60, dtype=np.float32).reshape(5, 60) % 7 - 3) / 7
    save(helper.make_graph(
        [helper.make_node("MatMul", ["z", "W"], ["mm"]),
         helper.make_node("Sigmoid", ["mm"], ["s"]),
         helper.make_node("Reshape", ["s", "shape"], ["image"])], "gray-gen",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 5])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, 6, 10])],
        [helper.make_tensor("W", TensorProto.FLOAT, w.shape, w.flatten()),
         helper.make_tensor("shape", TensorProto.INT64, [4], [1, 1, 6, 10])]),
        p("tiny-generator-gray.onnx"),
        {"imgrec.kind": "gan-generator", "imgrec.output-range": "0,1"})

    w = np.ones((8, 10), np.float32)
    save(helper.make_graph(
        [helper.make_node("MatMul", ["z", "W"], ["y"])], "vector",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        [helper.make_tensor("W", TensorProto.FLOAT, w.shape, w.flatten())]),
        p("generator-not-image.onnx"), {})

    wc = rng.normal(0, 0.4, (4, 3, 3, 3)).astype(np.float32)
    bc = rng.normal(0, 0.1, (4,)).astype(np.float32)
    ws = rng.normal(0, 0.2, (1, 256)).astype(np.float32)
    bs = np.array([0.3], np.float32)
    wk = rng.normal(0, 0.2, (4, 256)).astype(np.float32)
    bk = np.zeros(4, np.float32)
    save(helper.make_graph(
        [helper.make_node("Conv", ["image", "Wc", "Bc"], ["c"], strides=[2, 2],
                          pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
         helper.make_node("LeakyRelu", ["c"], ["a"], alpha=0.2),
         helper.make_node("Flatten", ["a"], ["f"], axis=1),
         helper.make_node("Gemm", ["f", "Ws", "Bs"], ["score"], transB=1),
         helper.make_node("Gemm", ["f", "Wk", "Bk"], ["class_scores"], transB=1)],
        "tiny-discriminator",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 16, 16])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N", 1]),
         helper.make_tensor_value_info("class_scores", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor("Wc", TensorProto.FLOAT, wc.shape, wc.flatten()),
         helper.make_tensor("Bc", TensorProto.FLOAT, bc.shape, bc),
         helper.make_tensor("Ws", TensorProto.FLOAT, ws.shape, ws.flatten()),
         helper.make_tensor("Bs", TensorProto.FLOAT, bs.shape, bs),
         helper.make_tensor("Wk", TensorProto.FLOAT, wk.shape, wk.flatten()),
         helper.make_tensor("Bk", TensorProto.FLOAT, bk.shape, bk)]),
        p("tiny-discriminator.onnx"), {
            "imgrec.kind": "gan-discriminator", "imgrec.scale": "0.00392156862745098",
            "imgrec.mean": "0.5,0.5,0.5", "imgrec.std": "0.5,0.5,0.5"})
    rng = np.random.default_rng(7)
    frames = rng.integers(0, 256, (DISC_FRAMES, 16, 16, 3), dtype=np.uint8)
    frames[1] = 0                                   # black
    frames[2] = 255                                 # white
    frames[3, :, :8] = (200, 30, 30)                # half red
    x = (frames.astype(np.float32) / 255.0 - 0.5) / 0.5
    logits, reference = disc_reference(x.transpose(0, 3, 1, 2).copy(), wc, bc, ws, bs)
    frames.tofile(p("disc-frames.bin"))
    logits.astype("<f4").reshape(-1).tofile(p("disc-expected.bin"))
    with open(p("disc-reference.txt"), "w") as f:
        f.write(reference + "\n")

    save(helper.make_graph(
        [helper.make_node("ReduceMean", ["image"], ["m"], axes=[1, 2, 3], keepdims=0),
         helper.make_node("Sub", ["m", "half"], ["d"]),
         helper.make_node("Mul", ["d", "gain"], ["l"]),
         helper.make_node("Reshape", ["l", "shape"], ["score"])], "brightness",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [1, 1])],
        [helper.make_tensor("half", TensorProto.FLOAT, [], [0.5]),
         helper.make_tensor("gain", TensorProto.FLOAT, [], [20.0]),
         helper.make_tensor("shape", TensorProto.INT64, [2], [1, 1])]),
        p("brightness-discriminator.onnx"), {"imgrec.kind": "gan-discriminator"})

    save(helper.make_graph(
        [helper.make_node("Sub", ["one", "image"], ["restored"])], "invert",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("restored", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])]),
        p("restore-invert.onnx"),
        {"imgrec.kind": "gan-image-to-image", "imgrec.output-range": "0,1"})


if __name__ == "__main__":
    main(sys.argv[1])
