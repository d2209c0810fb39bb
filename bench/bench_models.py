"""Models for the experiments. Without torch: ONNX graphs built with onnx.helper (a MobileNetV2-style classifier,
a small U-Net, a small Fashion-MNIST CNN), seeded random weights. With torch: torchvision architectures
(weights=None, i.e. random) exported to ONNX. Every weight here is random unless a script trains it."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


class _G:
    """A tiny graph builder: each method adds a node and returns its output name."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.n = [], [], 0

    def _name(self, p):
        self.n += 1
        return "%s_%d" % (p, self.n)

    def const(self, arr, p="w"):
        name = self._name(p)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def conv(self, x, cin, cout, k, stride=1, groups=1, bias=True):
        fan_in = cin // groups * k * k
        w = self.rng.normal(0, np.sqrt(2.0 / fan_in), (cout, cin // groups, k, k)).astype(np.float32)
        ins = [x, self.const(w)]
        if bias:
            ins.append(self.const((self.rng.normal(0, 0.01, cout)).astype(np.float32), "b"))
        y = self._name("conv")
        self.nodes.append(helper.make_node("Conv", ins, [y], kernel_shape=[k, k], strides=[stride, stride],
                                           pads=[k // 2] * 4, group=groups))
        return y

    def bn(self, x, c):
        scale = self.const(self.rng.uniform(0.8, 1.2, c).astype(np.float32), "gamma")
        b = self.const(self.rng.normal(0, 0.05, c).astype(np.float32), "beta")
        mean = self.const(self.rng.normal(0, 0.05, c).astype(np.float32), "mean")
        var = self.const(self.rng.uniform(0.5, 1.5, c).astype(np.float32), "var")
        y = self._name("bn")
        self.nodes.append(helper.make_node("BatchNormalization", [x, scale, b, mean, var], [y], epsilon=1e-5))
        return y

    def op(self, op, ins, **attrs):
        y = self._name(op.lower())
        self.nodes.append(helper.make_node(op, list(ins), [y], **attrs))
        return y

    def relu6(self, x):
        return self.op("Clip", [x, self.const(np.array(0, np.float32), "lo"), self.const(np.array(6, np.float32), "hi")])

    def model(self, inp, out, name):
        graph = helper.make_graph(self.nodes, name, [inp], [out], self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="trtcore-bench")
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def mobilenet_v2_style(path, resolution=224, width=1.0, num_classes=1000, seed=0, blocks=None):
    """Inverted residual blocks (1×1 expand, 3×3 depthwise, 1×1 project; ReLU6; residual where shapes match),
    Conv+BN pairs as exported from frameworks, global average pool and a Gemm classifier. Dynamic batch axis."""
    g = _G(seed)
    c = lambda v: max(8, int(round(v * width / 8)) * 8)  # noqa: E731
    # (expansion, channels, repeats, first stride): MobileNetV2's table, or a shorter one for small runs.
    blocks = blocks or [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                        (6, 320, 1, 1)]
    x = g.relu6(g.bn(g.conv("input", 3, c(32), 3, 2, bias=False), c(32)))
    cin = c(32)
    for t, ch, n, s in blocks:
        cout = c(ch)
        for i in range(n):
            stride = s if i == 0 else 1
            hid = cin * t
            y = x
            if t != 1:
                y = g.relu6(g.bn(g.conv(y, cin, hid, 1, bias=False), hid))
            y = g.relu6(g.bn(g.conv(y, hid, hid, 3, stride, groups=hid, bias=False), hid))
            y = g.bn(g.conv(y, hid, cout, 1, bias=False), cout)
            x = g.op("Add", [x, y]) if stride == 1 and cin == cout else y
            cin = cout
    last = c(1280) if width > 0.5 else c(320)
    x = g.relu6(g.bn(g.conv(x, cin, last, 1, bias=False), last))
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)
    w = g.const((g.rng.normal(0, 0.01, (num_classes, last))).astype(np.float32))
    b = g.const(np.zeros(num_classes, np.float32), "b")
    g.nodes.append(helper.make_node("Gemm", [x, w, b], ["logits"], transB=1))
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, resolution, resolution])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", num_classes])
    return _save(g.model(inp, out, "mobilenet_v2_style"), path)


def unet(path, base=16, depth=3, in_channels=3, num_classes=4, seed=0):
    """A U-Net-style fully convolutional net: (conv3×3+ReLU)×2 per level, MaxPool down, nearest Resize ×2 up,
    skip Concat, 1×1 conv to class scores. Batch, height and width are dynamic (H, W divisible by 2**depth)."""
    g = _G(seed)
    x, cin, skips = "input", in_channels, []

    def block(x, cin, cout):
        x = g.op("Relu", [g.conv(x, cin, cout, 3)])
        return g.op("Relu", [g.conv(x, cout, cout, 3)])

    for d in range(depth):
        cout = base * 2 ** d
        x = block(x, cin, cout)
        skips.append((x, cout))
        x = g.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
        cin = cout
    x = block(x, cin, base * 2 ** depth)
    cin = base * 2 ** depth
    scales = g.const(np.array([1, 1, 2, 2], np.float32), "scales")
    roi = g.const(np.array([], np.float32), "roi")
    for skip, cs in reversed(skips):
        x = g.op("Resize", [x, roi, scales], mode="nearest")
        x = g.op("Concat", [x, skip], axis=1)
        x = block(x, cin + cs, cs)
        cin = cs
    w = g.const(g.rng.normal(0, np.sqrt(2.0 / cin), (num_classes, cin, 1, 1)).astype(np.float32))
    g.nodes.append(helper.make_node("Conv", [x, w], ["scores"], kernel_shape=[1, 1]))
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", in_channels, "H", "W"])
    out = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", num_classes, "H", "W"])
    return _save(g.model(inp, out, "unet"), path)


def _save(model, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
    onnx.save(model, path)
    return path


# ----------------------------------------------------------------------------------------------- torch

TORCHVISION = {"resnet50": "resnet50", "resnet18": "resnet18", "mobilenet_v2": "mobilenet_v2",
               "shufflenet_v2": "shufflenet_v2_x1_0", "squeezenet": "squeezenet1_0"}


def torch_available():
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
        return True
    except ImportError:
        return False


def export_torch(module, path, sample_shape, dynamic_batch=True, dynamic_hw=False):
    """Exports an nn.Module (eval mode, on the CPU) to ONNX with a dynamic batch axis (and H, W if asked)."""
    import torch

    module = module.eval().cpu()
    x = torch.randn(*sample_shape)
    axes = {}
    if dynamic_batch:
        axes = {"input": {0: "N"}, "output": {0: "N"}}
    if dynamic_hw:
        axes["input"].update({2: "H", 3: "W"})
        axes["output"].update({2: "H", 3: "W"})
    os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
    kwargs = dict(input_names=["input"], output_names=["output"], dynamic_axes=axes, opset_version=17)
    try:
        torch.onnx.export(module, (x,), path, dynamo=False, **kwargs)
    except TypeError:  # torch versions without the dynamo switch
        torch.onnx.export(module, (x,), path, **kwargs)
    return path


def torchvision_model(key, num_classes=1000):
    import torchvision
    return getattr(torchvision.models, TORCHVISION.get(key, key))(weights=None, num_classes=num_classes).eval()


def torch_unet(base=16, depth=3, in_channels=3, num_classes=4):
    """The same U-Net layout as unet() above, in PyTorch (random initial weights)."""
    import torch
    from torch import nn

    def block(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True),
                             nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True))

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            chans = [base * 2 ** d for d in range(depth)]
            self.down = nn.ModuleList()
            cin = in_channels
            for c in chans:
                self.down.append(block(cin, c))
                cin = c
            self.mid = block(cin, base * 2 ** depth)
            cin = base * 2 ** depth
            self.up = nn.ModuleList()
            for c in reversed(chans):
                self.up.append(block(cin + c, c))
                cin = c
            self.head = nn.Conv2d(cin, num_classes, 1)

        def forward(self, x):
            skips = []
            for b in self.down:
                x = b(x)
                skips.append(x)
                x = nn.functional.max_pool2d(x, 2)
            x = self.mid(x)
            for b, s in zip(self.up, reversed(skips)):
                x = nn.functional.interpolate(x, scale_factor=2.0, mode="nearest")
                x = b(torch.cat([x, s], dim=1))
            return self.head(x)

    return UNet().eval()


def torch_fashion_cnn():
    """A small CNN for 1×28×28 inputs: two conv+BN+ReLU+pool stages and two linear layers."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10))
