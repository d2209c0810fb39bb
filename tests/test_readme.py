"""README.md cannot drift: every ```python block runs as written, and every `$ trtcore ...` command of the walkthrough
runs in order, on small stand-ins for the files they name (a tiny convolutional model that takes 3×224×224, a few
photos), on the cpu backend. Blocks that need an optional component skip without it (serving needs PyTriton)."""
import os
import re
import shlex
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import trtcore

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(REPO, "README.md")


def _readme():
    with open(README, encoding="utf-8") as f:
        return f.read()


def python_blocks(text):
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


def walkthrough_commands(text):
    """The `$ trtcore ...` commands of the Walkthrough section's code blocks, continuation lines joined."""
    section = text.split("\n## Walkthrough", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"^```\n(.*?)^```", section, re.S | re.M):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.startswith("$ trtcore "):
                cmd = line[2:]
                while cmd.endswith("\\"):
                    i += 1
                    cmd = cmd[:-1].rstrip() + " " + lines[i].strip()
                commands.append(shlex.split(cmd))
            i += 1
    return commands


def walkthrough_outputs(text):
    """The output lines the Walkthrough shows under each `$ trtcore ...` command, in order."""
    section = text.split("\n## Walkthrough", 1)[1].split("\n## ", 1)[0]
    outputs, current, continued = [], None, False
    for line in re.findall(r"^```\n(.*?)^```", section, re.S | re.M)[0].splitlines():
        if line.startswith("$ trtcore "):
            current = []
            outputs.append(current)
            continued = line.endswith("\\")
        elif continued:
            continued = line.endswith("\\")
        elif current is not None:
            current.append(line)
    return outputs


# Lines `key: value` whose value names the machine or the moment (or, for memory, the model's size in its unit).
_MACHINE_KEYS = {"backend", "build.device", "build.created", "plan", "warning", "memory"}


def _template(line):
    """The line with its numbers replaced: the form that must not drift."""
    return re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "#", line.rstrip())


def _key_lines(lines):
    keyed = {}
    for line in lines:
        m = re.match(r"^([a-z][\w. ]*?): ", line)
        if m:
            keyed.setdefault(m.group(1), set()).add(_template(line))
    return keyed


def check_shown_output(cmd, shown, real):
    """The README's output of `cmd` has the same `key:` lines as the real one, in the same form (numbers aside),
    and every other top-level line it shows is one the command prints."""
    want, got = _key_lines(shown), _key_lines(real)
    assert set(want) - {"warning"} == set(got) - {"warning"}, (cmd, sorted(want), sorted(got))
    for key in set(want) - _MACHINE_KEYS:
        assert want[key] <= got[key], (cmd, key, sorted(want[key] - got[key]), sorted(got[key]))
    # the build's pass lines are shown whole ("abridged only where ... stands"): the same passes in the same order
    for key in ("optimize", "lower"):
        if key in want:
            passes = [[_template(line) for line in lines if line.startswith(key + ": ")] for lines in (shown, real)]
            assert passes[0] == passes[1], (cmd, key, passes)
    real_forms = {_template(line) for line in real}
    for line in shown:
        if line and not line.startswith((" ", "|", "...")) and ":" not in line.split(" ")[0] \
                and line.split()[0] in ("out/", "PASS") or "samples of shape" in line:
            assert _template(line) in real_forms, (cmd, line, sorted(real_forms))


def test_walkthrough_counts_agree():
    """The shown run writes one file per sample and output: the count matches the files and the plan's outputs."""
    text = _readme()
    shown = dict(zip([c[1] for c in walkthrough_commands(text)], walkthrough_outputs(text)))
    outputs = shown["inspect"][shown["inspect"].index("outputs:") + 1:]
    n_outputs = len([line for line in outputs[:outputs.index(next(x for x in outputs if not x.startswith("  ")))]])
    m = re.search(r"samples: (\d+) files in (\d+) batches, (\d+) output files", "\n".join(shown["run"]))
    assert m and int(m.group(3)) == int(m.group(1)) * n_outputs, (m and m.groups(), n_outputs)
    batch = int(re.search(r"--batch (\d+)", " ".join(" ".join(c) for c in walkthrough_commands(text)
                                                    if c[1] == "run")).group(1))
    assert int(m.group(2)) == -(-int(m.group(1)) // batch)


def tiny_model(path, classes=10, seed=0):
    """N×3×224×224 → Conv 8×8 stride 8 → Relu → GlobalAveragePool → Gemm → Softmax: cheap at 224×224."""
    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array(rng.normal(0, 0.2, (4, 3, 8, 8)).astype(np.float32), "w")
    fc = numpy_helper.from_array(rng.normal(0, 1.0, (classes, 4)).astype(np.float32), "fc")
    nodes = [helper.make_node("Conv", ["data", "w"], ["c"], kernel_shape=[8, 8], strides=[8, 8]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"]),
             helper.make_node("Gemm", ["f", "fc"], ["logits"], transB=1),
             helper.make_node("Softmax", ["logits"], ["prob"], axis=1)]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("data", TensorProto.FLOAT,
                                                                            ["N", 3, 224, 224])],
                              [helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["N", classes])], [w, fc])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)


def _serving_missing():
    for mod in ("pytriton",):
        try:
            __import__(mod)
        except ImportError:
            return "%s is not installed" % mod
    from trtcore.serving import numpy_mismatch
    return numpy_mismatch()


def test_readme_has_what_this_test_runs():
    text = _readme()
    assert len(python_blocks(text)) >= 3
    assert [c[1] for c in walkthrough_commands(text)] == ["prepare", "build", "inspect", "run", "baseline", "compare"]


@pytest.mark.parametrize("index", range(len(python_blocks(_readme()))))
def test_python_block_runs_as_written(index, tmp_path, monkeypatch):
    code = python_blocks(_readme())[index]
    if "trtcore.serve(" in code:
        why = _serving_missing()
        if why:
            pytest.skip("serving: " + why)
    monkeypatch.chdir(tmp_path)
    for name in ("model.onnx", "mobilenet.onnx", "m.onnx"):
        tiny_model(str(tmp_path / name))
    trtcore.build("m.onnx", batch=8, backend="cpu").save("m.plan")
    exec(compile(code, "README.md python block %d" % index, "exec"), {"__name__": "readme"})


def test_walkthrough_commands_run(tmp_path):
    from PIL import Image
    rng = np.random.default_rng(0)
    os.makedirs(tmp_path / "photos" / "photos")
    for i, (h, w) in enumerate([(300, 260), (240, 320), (256, 256)]):
        img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        Image.fromarray(img).save(tmp_path / "photos" / "photos" / ("p%d.jpg" % i), quality=95)
    tiny_model(str(tmp_path / "resnet50.onnx"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(
        trtcore.__file__)), os.environ.get("PYTHONPATH", "")] if p))
    text = _readme()
    for cmd, shown in zip(walkthrough_commands(text), walkthrough_outputs(text)):
        args = cmd[1:]
        if args[0] == "build" and trtcore.cuda_available():
            args = args + ["--backend", "cpu"]  # the walkthrough shows the cpu backend's output
        proc = subprocess.run([sys.executable, "-m", "trtcore"] + args, cwd=tmp_path, capture_output=True,
                              text=True, timeout=300, env=env)
        assert proc.returncode == 0, "%s\n%s\n%s" % (" ".join(cmd), proc.stdout[-2000:], proc.stderr[-2000:])
        if args[0] == "compare":
            assert proc.stdout.rstrip().endswith("PASS")
        else:
            check_shown_output(" ".join(cmd), shown, proc.stdout.splitlines())
    assert len(os.listdir(tmp_path / "out")) == 3 and len(os.listdir(tmp_path / "ort_out")) == 3
