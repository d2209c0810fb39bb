"""`trtcore prepare`: transforms against independent PIL/numpy computations on real images and real datasets,
the manifest, the calibration subset, atomicity and reruns."""
import gzip
import json
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import common  # noqa: E402

data = common.py("data")
FMNIST = "/usr/share/datasets/fashion-mnist"


def _raw(out, i, shape):
    return np.fromfile(os.path.join(out, "data", "%06d.bin" % i), dtype=np.float32).reshape(shape)


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    """Real photos from scikit-image in class sub-folders, PNG and JPEG."""
    skd = pytest.importorskip("skimage.data")
    from PIL import Image
    root = tmp_path_factory.mktemp("photos")
    for cls, names in (("animal", ["chelsea", "cat"]), ("person", ["astronaut"]), ("object", ["coffee", "rocket"])):
        os.makedirs(root / cls)
        for n in names:
            Image.fromarray(getattr(skd, n)()).save(root / cls / (n + ".png"))
    Image.fromarray(skd.chelsea()).save(root / "animal" / "chelsea_q90.jpg", quality=90)
    return str(root)


def _reference(path, resize, crop, mean, std, bgr, layout):
    """The same pipeline written independently with PIL and numpy."""
    from PIL import Image
    im = Image.open(path).convert("RGB")
    w, h = im.size
    s = resize / min(w, h)
    im = im.resize((int(round(w * s)) if w > h else resize, int(round(h * s)) if h > w else resize), Image.BILINEAR)
    w, h = im.size
    left, top = (w - crop) // 2, (h - crop) // 2
    a = np.asarray(im.crop((left, top, left + crop, top + crop))).astype(np.float32) / 255.0
    if bgr:
        a = a[:, :, ::-1]
    a = (a - np.array(mean, np.float32)) / np.array(std, np.float32)  # mean/std in the output channel order
    return np.ascontiguousarray(a.transpose(2, 0, 1) if layout == "nchw" else a)


@pytest.mark.parametrize("layout,channels", [("nchw", "rgb"), ("nhwc", "bgr")])
def test_image_folder_transforms_match_pil(photo_folder, tmp_path, layout, channels):
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    out = str(tmp_path / "set")
    m = data.prepare(photo_folder, out, resize=64, crop=[56], scale=1 / 255.0, mean=mean, std=std, layout=layout,
                     channels=channels, progress=False)
    shape = [3, 56, 56] if layout == "nchw" else [56, 56, 3]
    assert m["sample_shape"] == shape and m["count"] == 6 and m["dtype"] == "float32"
    assert m["label_map"] == {"0": "animal", "1": "object", "2": "person"}
    files = []
    for cls in ("animal", "object", "person"):
        files += [os.path.join(photo_folder, cls, f) for f in sorted(os.listdir(os.path.join(photo_folder, cls)))]
    labels = data.load_labels(os.path.join(out, "labels.csv"))
    for i, f in enumerate(files):
        got = _raw(out, i, shape)
        want = _reference(f, 64, 56, mean, std, channels == "bgr", layout)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=f)
        assert labels["%06d.bin" % i] == ["animal", "object", "person"].index(os.path.basename(os.path.dirname(f)))
    # Exactly ndarray.tobytes(): the file size is the element count times four.
    assert os.path.getsize(os.path.join(out, "data", "000000.bin")) == int(np.prod(shape)) * 4


def test_gray_conversion_and_rectangular_crop(photo_folder, tmp_path):
    from PIL import Image
    out = str(tmp_path / "g")
    data.prepare(photo_folder, out, resize=40, crop=[32, 24], channels="gray", layout="nhwc", progress=False)
    f = os.path.join(photo_folder, "animal", sorted(os.listdir(os.path.join(photo_folder, "animal")))[0])
    rgb = _reference(f, 40, 40, [0, 0, 0], [1, 1, 1], False, "nhwc") * 255.0
    want = rgb[4:36, 8:32] @ np.array([0.299, 0.587, 0.114], np.float32)
    got = _raw(out, 0, [32, 24, 1])[:, :, 0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)
    assert Image.open(f).size  # the source stays readable (nothing moved or rewritten)


def _read_idx_independently(path, header):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


@pytest.mark.skipif(not os.path.exists(FMNIST), reason="apt-get install dataset-fashion-mnist")
def test_fashion_mnist_idx(tmp_path):
    out = str(tmp_path / "fm")
    m = data.prepare(os.path.join(FMNIST, "t10k-images-idx3-ubyte.gz"), out, scale=1 / 255.0, limit=300,
                     calibration=50, seed=3, progress=False)
    assert m["count"] == 300 and m["sample_shape"] == [1, 28, 28]
    pixels = _read_idx_independently(os.path.join(FMNIST, "t10k-images-idx3-ubyte.gz"), 16).reshape(-1, 28, 28)
    labels = _read_idx_independently(os.path.join(FMNIST, "t10k-labels-idx1-ubyte.gz"), 8)
    x, y, _ = data.load_prepared(out)
    np.testing.assert_array_equal(x[:, 0], pixels[:300].astype(np.float32) * np.float32(1 / 255.0))
    np.testing.assert_array_equal(y, labels[:300])
    assert m["source"]["sha256"] and m["content_sha256"] and m["seed"] == 3
    cal = m["calibration"]
    assert cal["count"] == 50 and sorted(cal["per_class"].values()) == [5] * 10
    assert sorted(os.listdir(os.path.join(out, "calibration"))) == cal["files"]
    xc, yc, _ = data.load_prepared(out, calibration=True)
    assert np.bincount(yc, minlength=10).tolist() == [5] * 10
    first = cal["files"][0]
    assert open(os.path.join(out, "calibration", first), "rb").read() == open(os.path.join(out, "data", first), "rb").read()


def test_calibration_balanced_and_seeded_on_digits(tmp_path):
    from sklearn.datasets import load_digits
    d = load_digits()
    np.save(tmp_path / "x.npy", d.images.astype(np.float32))
    np.save(tmp_path / "y.npy", d.target)
    a = data.prepare(str(tmp_path / "x.npy"), str(tmp_path / "a"), labels=str(tmp_path / "y.npy"), calibration=35,
                     seed=1, scale=1 / 16.0, progress=False)
    b = data.prepare(str(tmp_path / "x.npy"), str(tmp_path / "b"), labels=str(tmp_path / "y.npy"), calibration=35,
                     seed=1, scale=1 / 16.0, progress=False)
    c = data.prepare(str(tmp_path / "x.npy"), str(tmp_path / "c"), labels=str(tmp_path / "y.npy"), calibration=35,
                     seed=2, scale=1 / 16.0, progress=False)
    counts = sorted(a["calibration"]["per_class"].values())
    assert sum(counts) == 35 and counts[-1] - counts[0] <= 1  # 35 over 10 classes: 3s and 4s
    assert a["calibration"]["files"] == b["calibration"]["files"] != c["calibration"]["files"]
    x, y, _ = data.load_prepared(str(tmp_path / "a"))
    np.testing.assert_allclose(x[:, 0], d.images / 16.0, rtol=1e-6)
    np.testing.assert_array_equal(y, d.target)


def test_npz_source(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (7, 10, 12, 3)).astype(np.uint8)
    np.savez(tmp_path / "s.npz", images=x, labels=np.arange(7) % 2)
    m = data.prepare(str(tmp_path / "s.npz"), str(tmp_path / "o"), mean=[10.0], std=[2.0], progress=False)
    got, y, _ = data.load_prepared(str(tmp_path / "o"))
    np.testing.assert_allclose(got, ((x.astype(np.float32) - 10) / 2).transpose(0, 3, 1, 2))
    assert y.tolist() == [0, 1, 0, 1, 0, 1, 0] and m["sample_shape"] == [3, 10, 12]


def test_rerun_is_a_noop_and_changes_need_force(tmp_path, capsys):
    from sklearn.datasets import load_digits
    np.save(tmp_path / "x.npy", load_digits().images[:40].astype(np.float32))
    out = str(tmp_path / "o")
    m1 = data.prepare(str(tmp_path / "x.npy"), out, progress=False)
    stamp = os.path.getmtime(os.path.join(out, "manifest.json"))
    m2 = data.prepare(str(tmp_path / "x.npy"), out, progress=True)
    assert m1["config_hash"] == m2["config_hash"] and os.path.getmtime(os.path.join(out, "manifest.json")) == stamp
    assert "up to date" in capsys.readouterr().err
    with pytest.raises(data.PrepareError, match="--force"):
        data.prepare(str(tmp_path / "x.npy"), out, scale=2.0, progress=False)
    m3 = data.prepare(str(tmp_path / "x.npy"), out, scale=2.0, force=True, progress=False)
    assert m3["config_hash"] != m1["config_hash"]
    np.testing.assert_allclose(_raw(out, 0, [1, 8, 8]), load_digits().images[0][None] * 2)
    # A deleted sample makes the set incomplete: the rerun rebuilds it instead of trusting the manifest.
    os.remove(os.path.join(out, "data", "000039.bin"))
    with pytest.raises(data.PrepareError):
        data.prepare(str(tmp_path / "x.npy"), out, scale=2.0, progress=False)
    data.prepare(str(tmp_path / "x.npy"), out, scale=2.0, force=True, progress=False)
    assert len(os.listdir(os.path.join(out, "data"))) == 40


def test_interrupted_run_leaves_nothing_that_looks_complete(tmp_path, monkeypatch):
    np.save(tmp_path / "x.npy", np.zeros((20, 4, 4), np.float32))
    calls = {"n": 0}
    real = data.Transforms.__call__

    def flaky(self, a):
        calls["n"] += 1
        if calls["n"] == 10:
            raise KeyboardInterrupt
        return real(self, a)

    monkeypatch.setattr(data.Transforms, "__call__", flaky)
    with pytest.raises(KeyboardInterrupt):
        data.prepare(str(tmp_path / "x.npy"), str(tmp_path / "o"), progress=False)
    assert sorted(os.listdir(tmp_path)) == ["x.npy"]
    monkeypatch.setattr(data.Transforms, "__call__", real)
    m = data.prepare(str(tmp_path / "x.npy"), str(tmp_path / "o"), progress=False)
    assert m["complete"] and json.load(open(tmp_path / "o" / "manifest.json"))["count"] == 20


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert data.main(["prepare", str(tmp_path / "missing.npy"), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err
    np.save(tmp_path / "x.npy", np.zeros((3, 8, 8), np.float32))
    assert data.main(["prepare", str(tmp_path / "x.npy"), "-o", str(tmp_path / "o"), "--crop", "10"]) == 2
    assert "larger than" in capsys.readouterr().err
    assert data.main(["prepare", str(tmp_path / "x.npy"), "-o", str(tmp_path / "o"), "-q", "--crop", "4x6"]) == 0
    assert "3 samples of shape 1x4x6" in capsys.readouterr().out


def test_nchw_array_is_read_as_nchw(tmp_path):
    """An N×C×H×W array (what PyTorch datasets save) gives C×H×W samples equal to the array's own samples."""
    x = np.random.default_rng(1).random((20, 3, 32, 32)).astype(np.float32)
    np.savez(tmp_path / "s.npz", x=x)
    m = data.prepare(str(tmp_path / "s.npz"), str(tmp_path / "o"), progress=False)
    got, _, _ = data.load_prepared(str(tmp_path / "o"))
    assert m["sample_shape"] == [3, 32, 32] and m["source"]["array_layout"] == "nchw"
    np.testing.assert_array_equal(got, x)
    m = data.prepare(str(tmp_path / "s.npz"), str(tmp_path / "h"), layout="nhwc", array_layout="nchw", progress=False)
    got, _, _ = data.load_prepared(str(tmp_path / "h"))
    np.testing.assert_array_equal(got, x.transpose(0, 2, 3, 1))


@pytest.mark.parametrize("shape,layout,match", [
    ((5, 3, 4, 3), "auto", "both axis 1 and axis 3"),      # could be either: never guessed
    ((5, 8, 8, 8), "auto", "neither axis 1 nor axis 3"),
    ((5, 3, 32, 32), "nhwc", "cannot be NHWC.*looks NCHW"),
    ((5, 32, 32, 3), "nchw", "cannot be NCHW.*looks NHWC"),
])
def test_array_layout_that_the_shape_cannot_have_is_an_error(tmp_path, shape, layout, match):
    np.save(tmp_path / "x.npy", np.zeros(shape, np.float32))
    with pytest.raises(data.PrepareError, match=match):
        data.prepare(str(tmp_path / "x.npy"), str(tmp_path / "o"), array_layout=layout, progress=False)
    assert not os.path.exists(tmp_path / "o")


def test_cli_array_layout_option(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((4, 3, 4, 3), np.float32))
    assert data.main(["prepare", str(tmp_path / "x.npy"), "-o", str(tmp_path / "o"), "-q"]) == 2
    assert "--array-layout" in capsys.readouterr().err
    assert data.main(["prepare", str(tmp_path / "x.npy"), "-o", str(tmp_path / "o"), "-q",
                      "--array-layout", "nchw"]) == 0
    assert "4 samples of shape 3x4x3" in capsys.readouterr().out


def test_manifest_maps_every_sample_to_its_source(photo_folder, tmp_path):
    m = data.prepare(photo_folder, str(tmp_path / "o"), resize=32, crop=[32], progress=False)
    files = [os.path.join(cls, f) for cls in sorted(os.listdir(photo_folder))
             for f in sorted(os.listdir(os.path.join(photo_folder, cls)))]
    assert m["count"] == len(files) > 4
    assert m["sample_sources"] == {data.sample_name(i): f for i, f in enumerate(files)}
    assert sorted(m["source"]["files"]) == sorted(os.path.join(photo_folder, f) for f in files)
    np.save(tmp_path / "x.npy", np.zeros((6, 4, 4), np.float32))
    m = data.prepare(str(tmp_path / "x.npy"), str(tmp_path / "a"), progress=False)
    assert m["sample_sources"] == {data.sample_name(i): "x.npy[%d]" % i for i in range(6)}


def test_unwritable_output_names_the_folder_not_a_temporary(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((4, 3, 8, 8), np.float32))
    assert data.main(["prepare", str(tmp_path / "x.npy"), "-o", "/proc/prep", "-q"]) == 2
    err = capsys.readouterr().err
    assert "cannot create the output folder /proc/prep" in err and "not writable" in err, err
    assert ".tmp-" not in err and ".prep" not in err, err


@pytest.mark.parametrize("case", ["garbage_npz", "truncated_npy", "garbage_gz", "bad_labels"])
def test_unreadable_sources_are_one_line_errors_naming_the_file(tmp_path, capsys, case):
    """A malformed or truncated source or labels file is a one-line error naming it, not numpy's traceback, and
    leaves no output folder."""
    good = tmp_path / "good.npy"
    np.save(good, np.zeros((4, 8, 8, 3), np.uint8))
    extra = []
    if case == "garbage_npz":
        src = tmp_path / "bad.npz"
        src.write_bytes(b"garbage")
    elif case == "truncated_npy":
        src = tmp_path / "short.npy"
        src.write_bytes(good.read_bytes()[:200])
    elif case == "garbage_gz":
        src = tmp_path / "bad-idx3-ubyte.gz"
        src.write_bytes(b"xx")
    else:
        src, bad = good, tmp_path / "labels.txt"
        bad.write_text("cat\n")
        extra = ["--labels", str(bad)]
    assert data.main(["prepare", str(src), "-o", str(tmp_path / "o"), "-q"] + extra) == 2
    err = capsys.readouterr().err
    named = "labels.txt" if case == "bad_labels" else src.name
    assert err.count("\n") == 1 and named in err and "cannot read" in err, err
    assert not (tmp_path / "o").exists()
