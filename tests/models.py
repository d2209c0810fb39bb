"""ONNX model builders for the tests: single ops, a MobileNetV2-style net, a small U-Net, and the onnx wheel's light
CNN graphs with their ConstantOfShape placeholder weights replaced by seeded random initializers."""
import os
from collections import defaultdict

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F32 = TensorProto.FLOAT
INT64 = TensorProto.INT64

LIGHT_MODELS = ["resnet50", "squeezenet", "shufflenet", "densenet121", "inception_v1"]
SLOW_LIGHT_MODELS = set()  # names here run only with --runslow


def _np_to_onnx_dtype(dtype):
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def value_info(name, dtype=np.float32, shape=None):
    """A graph input/output; shape None leaves it unknown (outputs), strings are symbolic dims."""
    elem = dtype if isinstance(dtype, int) else _np_to_onnx_dtype(dtype)
    return helper.make_tensor_value_info(name, elem, shape)


def make_model(nodes, inputs, outputs, initializers=None, opset=13, name="test", check=True):
    """inputs/outputs: ValueInfoProtos or (name, dtype, shape) tuples; initializers: {name: ndarray}."""
    def vi(x):
        if isinstance(x, onnx.ValueInfoProto):
            return x
        if isinstance(x, str):
            return value_info(x)
        return value_info(*x)

    inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in (initializers or {}).items()]
    graph = helper.make_graph(nodes, name, [vi(i) for i in inputs], [vi(o) for o in outputs], inits)
    model = helper.make_model_gen_version(graph, opset_imports=[helper.make_opsetid("", opset)],
                                          producer_name="trtcore-tests")
    # IR 3 (opset <= 8) wants every initializer listed as a graph input; IR 4 lifts that and loads everywhere
    model.ir_version = max(model.ir_version, 4)
    if any(not o.type.tensor_type.HasField("shape") for o in model.graph.output):
        # fill unknown output shapes from ONNX shape inference (the checker wants a shape field)
        inferred = onnx.shape_inference.infer_shapes(model)
        for o, io in zip(model.graph.output, inferred.graph.output):
            if not o.type.tensor_type.HasField("shape") and io.type.tensor_type.HasField("shape"):
                o.type.CopyFrom(io.type)
            elif not o.type.tensor_type.HasField("shape"):
                o.type.tensor_type.shape.SetInParent()
    if check:
        onnx.checker.check_model(model)
    return model


# ---------------------------------------------------------------------------------------------------------------
# a small graph-building helper for the hand-written nets

class NetBuilder:
    def __init__(self, seed, opset=13):
        self.rng = np.random.default_rng(seed)
        self.opset = opset
        self.nodes = []
        self.inits = {}
        self.count = defaultdict(int)

    def _name(self, kind):
        self.count[kind] += 1
        return f"{kind}_{self.count[kind]}"

    def const(self, kind, array):
        name = self._name(kind)
        self.inits[name] = np.asarray(array)
        return name

    def node(self, op, inputs, n_out=1, **attrs):
        base = self._name(op.lower())
        outs = [base] if n_out == 1 else [f"{base}_o{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=base, **attrs))
        return outs[0] if n_out == 1 else outs

    def conv(self, x, cin, cout, k, stride=1, groups=1, bias=True, pad=None, dilation=1):
        pad = (k // 2) * dilation if pad is None else pad
        fan_in = cin // groups * k * k
        w = self.const("w", (self.rng.standard_normal((cout, cin // groups, k, k)) * np.sqrt(2.0 / fan_in))
                       .astype(np.float32))
        ins = [x, w]
        if bias:
            ins.append(self.const("b", (self.rng.standard_normal(cout) * 0.05).astype(np.float32)))
        return self.node("Conv", ins, kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4,
                         group=groups, dilations=[dilation, dilation])

    def bn(self, x, c):
        r = self.rng
        scale = self.const("bn_s", r.uniform(0.5, 1.5, c).astype(np.float32))
        bias = self.const("bn_b", (r.standard_normal(c) * 0.1).astype(np.float32))
        mean = self.const("bn_m", (r.standard_normal(c) * 0.1).astype(np.float32))
        var = self.const("bn_v", r.uniform(0.5, 1.5, c).astype(np.float32))
        return self.node("BatchNormalization", [x, scale, bias, mean, var], epsilon=1e-5)

    def relu(self, x):
        return self.node("Relu", [x])

    def relu6(self, x):
        if self.opset >= 11:
            lo = self.const("clip_min", np.array(0.0, np.float32))
            hi = self.const("clip_max", np.array(6.0, np.float32))
            return self.node("Clip", [x, lo, hi])
        return self.node("Clip", [x], min=0.0, max=6.0)

    def gemm(self, x, k, n):
        w = self.const("fc_w", (self.rng.standard_normal((n, k)) * np.sqrt(1.0 / k)).astype(np.float32))
        b = self.const("fc_b", (self.rng.standard_normal(n) * 0.05).astype(np.float32))
        return self.node("Gemm", [x, w, b], transB=1)

    def model(self, inputs, outputs, name):
        return make_model(self.nodes, inputs, outputs, self.inits, opset=self.opset, name=name)


def _rename_output(nb, old, new):
    for n in nb.nodes:
        n.output[:] = [new if o == old else o for o in n.output]
    return new


def mobilenet_v2(batch="N", size=64, width=0.5, classes=10, seed=0, opset=13):
    """MobileNetV2-style classifier: inverted residuals (1x1 expand, 3x3 depthwise, 1x1 project), BN, Relu6 as Clip,
    residual Adds, GlobalAveragePool, Flatten and Gemm. Input 'input' [batch, 3, size, size], output 'logits'."""
    nb = NetBuilder(seed, opset)

    def ch(c):
        return max(8, int(c * width + 4) // 8 * 8)

    c = ch(32)
    x = nb.relu6(nb.bn(nb.conv("input", 3, c, 3, stride=2, bias=False), c))
    # (expansion t, channels c, repeats n, stride s) as in the paper, shortened
    for t, cc, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 2, 2), (6, 96, 2, 1), (6, 160, 1, 2)]:
        cout = ch(cc)
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = c * t
            y = x
            if t != 1:
                y = nb.relu6(nb.bn(nb.conv(y, c, hidden, 1, bias=False), hidden))
            y = nb.relu6(nb.bn(nb.conv(y, hidden, hidden, 3, stride=stride, groups=hidden, bias=False), hidden))
            y = nb.bn(nb.conv(y, hidden, cout, 1, bias=False), cout)
            if stride == 1 and c == cout:
                y = nb.node("Add", [x, y])
            x, c = y, cout
    last = ch(320)
    x = nb.relu6(nb.bn(nb.conv(x, c, last, 1, bias=False), last))
    x = nb.node("GlobalAveragePool", [x])
    x = nb.node("Flatten", [x], axis=1)
    x = nb.gemm(x, last, classes)
    _rename_output(nb, x, "logits")
    return nb.model([("input", np.float32, [batch, 3, size, size])], [("logits", np.float32, None)], "mobilenet_v2")


def unet(batch="N", size=64, base=8, classes=2, seed=0, opset=13):
    """A small U-Net: (Conv BN Relu)x2 blocks, MaxPool down, one ConvTranspose and one Resize(nearest)+1x1 Conv up,
    Concat skip connections. Input 'input' [batch, 3, size, size], output 'mask' [batch, classes, size, size]."""
    nb = NetBuilder(seed, opset)

    def block(x, cin, cout):
        x = nb.relu(nb.bn(nb.conv(x, cin, cout, 3, bias=False), cout))
        return nb.relu(nb.bn(nb.conv(x, cout, cout, 3), cout))

    e1 = block("input", 3, base)
    e2 = block(nb.node("MaxPool", [e1], kernel_shape=[2, 2], strides=[2, 2]), base, 2 * base)
    mid = block(nb.node("MaxPool", [e2], kernel_shape=[2, 2], strides=[2, 2]), 2 * base, 4 * base)
    # up 1: learned ConvTranspose 2x2 stride 2
    wt = nb.const("wt", (nb.rng.standard_normal((4 * base, 2 * base, 2, 2)) * np.sqrt(2.0 / (4 * base)))
                  .astype(np.float32))
    bt = nb.const("bt", (nb.rng.standard_normal(2 * base) * 0.05).astype(np.float32))
    u1 = nb.node("ConvTranspose", [mid, wt, bt], kernel_shape=[2, 2], strides=[2, 2])
    d1 = block(nb.node("Concat", [u1, e2], axis=1), 4 * base, 2 * base)
    # up 2: nearest Resize then a 1x1 conv
    if opset >= 11:
        scales = nb.const("scales", np.array([1, 1, 2, 2], np.float32))
        up = nb.node("Resize", [d1, "", scales], mode="nearest")
    else:
        up = nb.node("Upsample", [d1, nb.const("scales", np.array([1, 1, 2, 2], np.float32))], mode="nearest")
    u2 = nb.conv(up, 2 * base, base, 1)
    d2 = block(nb.node("Concat", [u2, e1], axis=1), 2 * base, base)
    out = nb.conv(d2, base, classes, 1)
    _rename_output(nb, out, "mask")
    return nb.model([("input", np.float32, [batch, 3, size, size])], [("mask", np.float32, None)], "unet")


def resnet_block(batch=1, c=64, mid=16, size=16, seed=0, opset=13):
    """One ResNet bottleneck: Conv-BN-Relu, Conv-BN-Relu, Conv-BN, Add(identity), Relu."""
    nb = NetBuilder(seed, opset)
    y = nb.relu(nb.bn(nb.conv("input", c, mid, 1, bias=False), mid))
    y = nb.relu(nb.bn(nb.conv(y, mid, mid, 3, bias=False), mid))
    y = nb.bn(nb.conv(y, mid, c, 1, bias=False), c)
    y = nb.relu(nb.node("Add", [y, "input"]))
    _rename_output(nb, y, "output")
    return nb.model([("input", np.float32, [batch, c, size, size])], [("output", np.float32, None)], "resnet_block")


# ---------------------------------------------------------------------------------------------------------------
# light models from the onnx wheel

def light_path(name):
    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light", f"light_{name}.onnx")


def _weight_for(role, shape, rng):
    shape = tuple(int(d) for d in shape)
    kind, detail = role
    if kind == "conv_w" or kind == "gemm_w":
        fan_in = detail if detail else int(np.prod(shape[1:])) if len(shape) > 1 else 1
        return rng.standard_normal(shape) * np.sqrt(2.0 / max(fan_in, 1))
    if kind in ("scale", "variance"):
        return rng.uniform(0.5, 1.5, shape)
    if kind in ("bias", "mean", "shift"):
        return rng.standard_normal(shape) * 0.1
    return rng.standard_normal(shape) * 0.05


def _role(name, consumers, node_by_output, shape):
    """What a placeholder weight feeds: decides its random distribution."""
    uses = consumers.get(name, [])
    if not uses:
        return ("other", None)
    node, idx = uses[0]
    op = node.op_type
    if op in ("Unsqueeze", "Reshape") and idx == 0:
        nxt = consumers.get(node.output[0], [])
        if nxt:
            n2, i2 = nxt[0]
            if n2.op_type == "Mul":
                return ("scale", None)
            if n2.op_type == "Add":
                return ("shift", None)
            if n2.op_type == "Gemm" and i2 == 1:
                return ("gemm_w", int(np.prod(shape[1:])) if len(shape) > 1 else None)
        return ("other", None)
    if op == "Conv":
        return ("conv_w", None) if idx == 1 else ("bias", None)
    if op == "Gemm":
        if idx == 1:
            trans_b = any(a.name == "transB" and a.i for a in node.attribute)
            return ("gemm_w", int(shape[1] if trans_b else shape[0]) if len(shape) == 2 else None)
        return ("bias", None)
    if op == "BatchNormalization":
        return {1: ("scale", None), 2: ("bias", None), 3: ("mean", None), 4: ("variance", None)}.get(idx, ("other", None))
    return ("other", None)


def light_model(name, seed=0, expose_logits=True):
    """Loads light_<name>.onnx and replaces every ConstantOfShape-produced weight by a seeded random initializer
    (He-init for conv/gemm weights, positive BN variances); graph inputs that are initializers are dropped, so the
    only input left is the image. With expose_logits, the input of the final Softmax is an extra output, so a
    saturated softmax cannot hide an error."""
    model = onnx.load(light_path(name))
    g = model.graph
    rng = np.random.default_rng(seed)
    inits = {i.name: i for i in g.initializer}
    consumers = defaultdict(list)
    node_by_output = {}
    for n in g.node:
        for k, i in enumerate(n.input):
            consumers[i].append((n, k))
        for o in n.output:
            node_by_output[o] = n

    keep_nodes = []
    new_inits = []
    for n in g.node:
        if n.op_type == "ConstantOfShape" and n.input and n.input[0] in inits:
            shape = numpy_helper.to_array(inits[n.input[0]])
            role = _role(n.output[0], consumers, node_by_output, shape)
            w = _weight_for(role, shape, rng).astype(np.float32)
            new_inits.append(numpy_helper.from_array(w, n.output[0]))
            continue
        keep_nodes.append(n)
    del g.node[:]
    g.node.extend(keep_nodes)

    used = {i for n in g.node for i in n.input}
    kept = [i for i in g.initializer if i.name in used]
    init_names = {i.name for i in g.initializer} | {i.name for i in new_inits}
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    real_inputs = [i for i in g.input if i.name not in init_names]
    del g.input[:]
    g.input.extend(real_inputs)

    model.ir_version = max(model.ir_version, 4)
    if expose_logits:
        outs = {o.name for o in g.output}
        logits = [n.input[0] for n in g.node if n.op_type == "Softmax" and n.output[0] in outs]
        inferred = {v.name: v for v in onnx.shape_inference.infer_shapes(model).graph.value_info}
        for name in logits:
            g.output.append(inferred[name])
    onnx.checker.check_model(model)
    return model


def model_input(model):
    """(name, concrete shape with symbolic dims as 1) of the model's only input."""
    i = model.graph.input[0]
    return i.name, [d.dim_value if d.dim_value > 0 else 1 for d in i.type.tensor_type.shape.dim]


def two_input_model(seed=0):
    """Inputs "image" (N×3×8×8) and "meta" (N×5), outputs "score" (N×4: pooled conv of image plus meta @ W) and
    "feat" (N×4×8×8): a model whose inputs differ in shape, to pair sample files across sub-folders."""
    rng = np.random.default_rng(seed)
    n = helper.make_node
    nodes = [n("Conv", ["image", "w", "b"], ["feat"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             n("GlobalAveragePool", ["feat"], ["pooled"]), n("Flatten", ["pooled"], ["flat"]),
             n("MatMul", ["meta", "wm"], ["m"]), n("Add", ["flat", "m"], ["score"])]
    inits = {"w": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
             "b": rng.standard_normal(4).astype(np.float32), "wm": rng.standard_normal((5, 4)).astype(np.float32)}
    return make_model(nodes, [("image", np.float32, ["N", 3, 8, 8]), ("meta", np.float32, ["N", 5])],
                      [("score", np.float32, ["N", 4]), ("feat", np.float32, ["N", 4, 8, 8])], inits)


def write_two_input_samples(folder, n, seed=0):
    """`n` samples of two_input_model in the sample-folder layout (folder/image/, folder/meta/, files paired by name);
    returns {file name: {input name: array}}."""
    rng = np.random.default_rng(seed)
    samples = {}
    for i in range(n):
        name = f"sample_{i:02d}.raw"
        samples[name] = {"image": rng.standard_normal((3, 8, 8)).astype(np.float32),
                         "meta": rng.standard_normal(5).astype(np.float32)}
    for inp in ("image", "meta"):
        os.makedirs(os.path.join(folder, inp), exist_ok=True)
        for name in reversed(list(samples)):  # written in another order than the sorted one they pair in
            with open(os.path.join(folder, inp, name), "wb") as f:
                f.write(samples[name][inp].tobytes())
    return samples
