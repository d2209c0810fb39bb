"""Seed corpora for the libFuzzer harnesses, generated from the test suite's models: every op case of
tests/op_cases.py, small forms of the test networks of tests/models.py, and the fuzz test's kitchen-sink model.
Usage: make_seeds.py OUT_DIR  (writes OUT_DIR/onnx/*.onnx; models over 64 KiB are skipped to keep the fuzzer fast)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import models  # noqa: E402
import op_cases  # noqa: E402

MAX_BYTES = 64 << 10


def named_models():
    for case in op_cases.CASES:
        fn = case.values[0]
        try:
            yield "op_" + case.id, fn(np.random.default_rng(0))[0]
        except Exception as e:  # a case needing something absent here (e.g. a newer onnx)
            print(f"skipping {case.id}: {e}", file=sys.stderr)
    yield "resnet_block", models.resnet_block(batch=1, c=8, mid=4, size=6)
    yield "mobilenet_v2", models.mobilenet_v2(batch="N", size=16, width=0.25, classes=4)
    yield "unet", models.unet(batch="N", size=16, base=2, classes=2)
    try:
        from test_fuzz import kitchen_sink
        yield "kitchen_sink", kitchen_sink(np.random.default_rng(41))
    except Exception as e:
        print(f"skipping kitchen_sink: {e}", file=sys.stderr)


def main(out):
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    written = 0
    for name, model in named_models():
        data = model.SerializeToString()
        if len(data) > MAX_BYTES:
            continue
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        with open(os.path.join(out, "onnx", safe + ".onnx"), "wb") as f:
            f.write(data)
        written += 1
    print(f"{written} ONNX seeds written to {out}/onnx", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/fuzz/seeds")
