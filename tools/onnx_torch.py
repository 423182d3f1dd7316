"""Run a small ONNX graph (the ops imgrec's own CNNs use) with torch.nn.functional.

Used where PyTorch needs a shipped model whose training weights are not in the repository: the
restorer's evaluation (tools/eval_restore.py) and, frozen, as the task loss and agreement metric of
trainings (tools/train/traffic_signs_restore.py, traffic_signs_gan.py). No ONNX runtime involved:
the graph is walked node by node, so it differentiates like any torch module.
"""


class OnnxTorch:
    """Runs an ONNX graph (the ops our small CNNs use) with torch.nn.functional."""

    def __init__(self, path):
        import onnx
        from onnx import numpy_helper
        import torch
        self.torch = torch
        m = onnx.load(path)
        self.g = m.graph
        self.init = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in self.g.initializer}
        self.attrs = [{a.name: onnx.helper.get_attribute_value(a) for a in n.attribute} for n in self.g.node]
        self.input_name = self.g.input[0].name

    def to(self, device):
        """Moves the weights to `device` (returns self, like nn.Module.to)."""
        self.init = {k: v.to(device) for k, v in self.init.items()}
        return self

    def eval(self):
        """No-op (the graph is exported in inference mode); for code written for nn.Module."""
        return self

    def requires_grad_(self, flag):
        for v in self.init.values():
            if v.is_floating_point():
                v.requires_grad_(flag)
        return self

    def __call__(self, x):
        import torch.nn.functional as F
        torch = self.torch
        from onnx import numpy_helper
        env = dict(self.init)
        env[self.g.input[0].name] = x
        for n, at in zip(self.g.node, self.attrs):
            i = [env[k] if k else None for k in n.input]
            op = n.op_type
            if op == "Conv":
                pads = at.get("pads", [0, 0, 0, 0])
                assert pads[0] == pads[2] and pads[1] == pads[3] and at.get("group", 1) == 1
                y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, stride=tuple(at.get("strides", [1, 1])),
                             padding=(pads[0], pads[1]), dilation=tuple(at.get("dilations", [1, 1])))
            elif op == "Relu":
                y = F.relu(i[0])
            elif op == "Add":
                y = i[0] + i[1]
            elif op == "MaxPool":
                pads = at.get("pads", [0, 0, 0, 0])
                y = F.max_pool2d(i[0], tuple(at["kernel_shape"]), tuple(at.get("strides", at["kernel_shape"])),
                                 (pads[0], pads[1]))
            elif op == "GlobalAveragePool":
                y = i[0].mean(dim=(2, 3), keepdim=True)
            elif op == "Flatten":
                y = torch.flatten(i[0], at.get("axis", 1))
            elif op == "Gemm":
                a, b = i[0], i[1]
                if at.get("transA", 0):
                    a = a.t()
                if at.get("transB", 0):
                    b = b.t()
                y = at.get("alpha", 1.0) * (a @ b)
                if len(i) > 2 and i[2] is not None:
                    y = y + at.get("beta", 1.0) * i[2]
            elif op == "Clip":
                y = torch.clamp(i[0], float(i[1]) if len(i) > 1 and i[1] is not None else None,
                                float(i[2]) if len(i) > 2 and i[2] is not None else None)
            elif op == "Concat":
                y = torch.cat(i, at["axis"])
            elif op == "Resize":
                assert at.get("mode", b"nearest") in (b"nearest", "nearest")
                sc = i[2]
                y = F.interpolate(i[0], scale_factor=(float(sc[2]), float(sc[3])), mode="nearest")
            elif op == "Constant":
                y = torch.from_numpy(numpy_helper.to_array(at["value"]).copy()).to(x.device)
            elif op == "Identity":
                y = i[0]
            else:
                raise NotImplementedError("OnnxTorch: op %s" % op)
            for k, v in zip(n.output, [y]):
                env[k] = v
        return env[self.g.output[0].name]
