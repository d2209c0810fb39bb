"""The walkthrough behind scripts/demo.sh: every step is a `trtcore` command a user would type.

Model: ResNet-50's architecture from the onnx package's test data with seeded random weights (trained ImageNet
weights are not shipped with any package we install), fed real photos bundled with scikit-image and scikit-learn.
"""
import argparse
import os
import shlex
import subprocess
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def step(*args):
    cmd = [sys.executable, "-m", "trtcore"] + [str(a) for a in args]
    print("\n$ trtcore " + " ".join(shlex.quote(str(a)) for a in args), flush=True)
    rc = subprocess.call(cmd)
    if rc != 0:
        sys.exit(rc)


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
    onnx.save(models.light_model("resnet50", seed=0, expose_logits=False), model_path)
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
    step("compare", os.path.join(work, "out"), os.path.join(work, "ort_out"), "--rtol", "1e-4", "--atol", "1e-6")
    print("\ndemo finished: plan, outputs and JSON results are in " + work)


if __name__ == "__main__":
    main()
