"""The walkthrough behind scripts/demo.sh: every step is a `trtcore` command a user would type.

Model: ResNet-50's architecture from the onnx package's test data with seeded random weights (trained ImageNet
weights are not shipped with any package we install), fed real photos bundled with scikit-image and scikit-learn.
With random weights the softmax output is nearly one-hot and would agree with any reference, so the model also
outputs its logits, and the check is their relative L2 error against onnxruntime.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# Relative L2 error of the logits against onnxruntime that passes: FP32 on the cpu backend matches to rounding;
# the cuda backend runs FP32 layers in TF32 (10-bit mantissa) unless --strict-fp32.
LOGITS_LIMIT = {"cpu": 1e-5, "cuda": 1e-2}


def step(*args, allowed=(0,)):
    cmd = [sys.executable, "-m", "trtcore"] + [str(a) for a in args]
    print("\n$ trtcore " + " ".join(shlex.quote(str(a)) for a in args), flush=True)
    rc = subprocess.call(cmd)
    if rc not in allowed:
        sys.exit(rc)
    return rc


def check_logits(compare_json, logits, backend):
    """Fails the demo unless the logits agree with onnxruntime's (relative L2 within the backend's limit)."""
    with open(compare_json) as f:
        stats = json.load(f)["outputs"][logits]
    limit = LOGITS_LIMIT.get(backend, 1e-2)
    print("\nlogits (%s) vs onnxruntime: relative L2 %.2e over %d samples (limit %.0e on %s), top-1 agreement %.0f%%"
          % (logits, stats["rel_l2"], stats["samples"], limit, backend, 100 * stats["top1_agreement"]))
    if not stats["rel_l2"] <= limit:
        print("FAIL: the engine's logits differ from onnxruntime's")
        sys.exit(1)


def write_photos(folder):
    """Real photos from the packages' bundled images (no download)."""
    from PIL import Image
    from skimage import data
    from sklearn.datasets import load_sample_images

    os.makedirs(folder, exist_ok=True)
    photos = {name: getattr(data, name)() for name in ("astronaut", "chelsea", "coffee", "rocket")}
    for name, img in zip(("china", "flower"), load_sample_images().images):
        photos[name] = img
    for name, img in photos.items():
        Image.fromarray(np.asarray(img)).convert("RGB").save(os.path.join(folder, name + ".jpg"), quality=95)
    return len(photos)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", default=os.path.join(REPO, ".work", "demo"), help="scratch folder")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--iter", type=int, default=10)
    args = ap.parse_args()
    work = args.work
    os.makedirs(work, exist_ok=True)

    import onnx
    import trtcore

    sys.path.insert(0, os.path.join(REPO, "tests"))
    import models  # the test suite's model builders: light graphs with seeded random weights

    print("trtcore %s; backends compiled: %s; GPU usable: %s" % (
        trtcore.__version__, ", ".join(trtcore.compiled_backends()), trtcore.cuda_available()))
    n = write_photos(os.path.join(work, "photos", "photos"))
    print("%d real photos written to %s" % (n, os.path.join(work, "photos")))
    model_path = os.path.join(work, "resnet50.onnx")
    model = models.light_model("resnet50", seed=0, expose_logits=True)
    logits = model.graph.output[-1].name  # the Softmax's input, exposed as a second output
    onnx.save(model, model_path)
    plan = os.path.join(work, "resnet50.plan")
    samples = os.path.join(work, "samples")

    step("prepare", os.path.join(work, "photos"), "-o", samples, "--resize", 256, "--crop", 224, "--scale",
         1 / 255, "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225", "--force", "-q")
    step("inspect", "--onnx", model_path, "--stop-after", "optimize")
    step("build", "--onnx", model_path, "--batch", args.batch, "--plan", plan)
    step("inspect", "--plan", plan)
    step("run", "--plan", plan, "--dir", os.path.join(samples, "data"), "--output-dir", os.path.join(work, "out"),
         "--batch", args.batch, "--iter", args.iter, "--json", os.path.join(work, "run.json"))
    step("baseline", "--framework", "onnxruntime", "--onnx", model_path, "--batch", 1, "--dir",
         os.path.join(samples, "data"), "--output-dir", os.path.join(work, "ort_out"), "--json",
         os.path.join(work, "ort.json"))
    # Random-weight logits reach thousands, where element-wise tolerances are too strict (FAIL rows are expected);
    # the verdict is the logits' relative L2 error, checked next.
    step("compare", os.path.join(work, "out"), os.path.join(work, "ort_out"), "--rtol", "1e-4", "--atol", "1e-6",
         "--json", os.path.join(work, "compare.json"), allowed=(0, 1))
    check_logits(os.path.join(work, "compare.json"), logits, trtcore.Engine(plan).backend)
    print("\ndemo finished: plan, outputs and JSON results are in " + work)


if __name__ == "__main__":
    main()
