"""Datasets → raw float32 sample files (`trtcore prepare`).

Output layout of `prepare(source, out)`:

    out/data/000000.bin ...   one sample per file: float32, C order, the shape without the batch axis
                              (exactly `ndarray.tobytes()`), ready for `trtcore run --dir out/data`
    out/labels.csv            file,label (label index; names in the manifest's label map), when labels exist
    out/manifest.json         shapes, dtype, transforms, label map, source, hashes, seed, calibration subset
    out/calibration/          (with calibration=N) a class-balanced seeded subset, same file format

The set is written into a temporary sibling directory and renamed into place at the end, so an interrupted run
never leaves a set that looks complete; rerunning on a complete set with the same source and options does nothing.
"""
import argparse
import gzip
import hashlib
import json
import os
import shutil
import sys
import time
import zipfile

import numpy as np

from .progress import Progress

IMAGE_EXTS = (".jpg", ".jpeg", ".png")
ARRAY_LAYOUTS = ("auto", "nhwc", "nchw")
# Channel counts an image array can have (gray, gray+alpha, RGB, RGBA): how the channel axis is told apart.
CHANNEL_COUNTS = (1, 2, 3, 4)
MANIFEST = "manifest.json"
DATA_DIR = "data"
CALIB_DIR = "calibration"
LABELS = "labels.csv"
FORMAT_VERSION = 1


class PrepareError(Exception):
    """A user error: bad source, bad option, an existing output that does not match."""


# ----------------------------------------------------------------------------------------------- readers

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """An idx (or idx.gz) file, as MNIST and Fashion-MNIST ship them, as a numpy array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise PrepareError("%s: not an idx file (bad magic number)" % path)
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = header + int(np.prod(dims)) * dtype.itemsize
    if len(raw) != expected:
        raise PrepareError("%s: idx header says %s (%d bytes), file has %d bytes" % (path, dims, expected, len(raw)))
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)


def _idx_labels_path(images_path):
    base = os.path.basename(images_path)
    for a, b in (("images-idx3", "labels-idx1"), ("images.idx3", "labels.idx1"), ("images", "labels")):
        if a in base:
            cand = os.path.join(os.path.dirname(images_path), base.replace(a, b))
            if os.path.exists(cand):
                return cand
    return None


def _list_images(folder):
    return sorted(f for f in os.listdir(folder)
                  if f.lower().endswith(IMAGE_EXTS) and os.path.isfile(os.path.join(folder, f)))


class Source:
    """Samples of one dataset: count, a loader per index (HWC array, uint8 or float), labels and label names;
    `origin(i)` names where sample i comes from (an image file relative to the folder, or array file[index]);
    `layout` is the array layout read (None for image folders and N×H×W arrays)."""

    def __init__(self, kind, path, count, loader, labels=None, label_names=None, files=(), origin=None,
                 layout=None):
        self.kind, self.path, self.count, self.loader = kind, path, count, loader
        self.labels, self.label_names, self.files = labels, label_names, list(files)
        self.origin = origin or (lambda i: "%s[%d]" % (os.path.basename(path), i))
        self.layout = layout


def open_source(path, labels_path=None, key=None, array_layout="auto"):
    """The samples of an image folder or an .idx/.npy/.npz array file. array_layout: how a 4-D array's axes are
    laid out ("nhwc", "nchw", or "auto": told from which axis can hold channels, an error when both or neither)."""
    if array_layout not in ARRAY_LAYOUTS:
        raise PrepareError("array layout must be one of %s, got %r" % (", ".join(ARRAY_LAYOUTS), array_layout))
    path = os.path.abspath(path)
    if not os.path.exists(path):
        raise PrepareError("source %s does not exist" % path)
    if os.path.isdir(path):
        return _image_folder(path)
    low = path.lower()
    labels = (lambda: _read(labels_path, "labels file", lambda: _load_label_array(labels_path))) if labels_path \
        else (lambda: None)
    if low.endswith((".idx", ".gz")) or "idx" in os.path.basename(low):
        x = _read(path, "idx file", lambda: read_idx(path))
        labels_path = labels_path or _idx_labels_path(path)
        y = _read(labels_path, "idx labels", lambda: read_idx(labels_path).astype(np.int64)) if labels_path else None
        return _array_source("idx", path, x, y, [path] + ([labels_path] if labels_path else []), array_layout)
    if low.endswith(".npy"):
        x = _read(path, ".npy file", lambda: np.load(path, allow_pickle=False))
        return _array_source("npy", path, x, labels(), [path] + ([labels_path] if labels_path else []), array_layout)
    if low.endswith(".npz"):
        z = _read(path, ".npz file", lambda: np.load(path, allow_pickle=False))
        xkey = key or next((k for k in ("x", "images", "data", "X") if k in z.files), None)
        if xkey is None or xkey not in z.files:
            raise PrepareError("%s: no array named %s (has %s); pick one with --key"
                               % (path, key or "x/images/data", ", ".join(z.files)))
        ykey = next((k for k in ("y", "labels", "target", "Y") if k in z.files), None)
        y = labels() if labels_path else (_read(path, "array '%s'" % ykey, lambda: z[ykey].astype(np.int64))
                                          if ykey else None)
        x = _read(path, "array '%s'" % xkey, lambda: z[xkey])
        return _array_source("npz", path, x, y, [path] + ([labels_path] if labels_path else []), array_layout)
    raise PrepareError("%s: unknown source type (expected an image folder, .idx/.idx.gz, .npy or .npz)" % path)


def _read(path, what, load):
    """load() with a truncated or malformed file reported as a PrepareError naming it, not a traceback."""
    try:
        return load()
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise PrepareError("%s: cannot read this %s (%s)" % (path, what, e)) from None


def _load_label_array(path):
    if path.endswith(".npy"):
        return np.load(path).astype(np.int64).reshape(-1)
    if path.endswith((".gz", ".idx")) or "idx" in os.path.basename(path):
        return read_idx(path).astype(np.int64).reshape(-1)
    return np.loadtxt(path, dtype=np.int64).reshape(-1)


def array_layout_of(shape, layout, path):
    """The layout ("nhwc" or "nchw") of a 4-D sample array of `shape`: `layout` checked against the shape, or, for
    "auto", the one whose channel axis can hold channels. Never guesses between two possible readings."""
    shape = tuple(int(v) for v in shape)
    last, second = shape[3] in CHANNEL_COUNTS, shape[1] in CHANNEL_COUNTS
    if layout == "auto":
        if last != second:
            return "nhwc" if last else "nchw"
        why = "both axis 1 and axis 3 could be channels" if last else \
            "neither axis 1 nor axis 3 holds %s channels" % "/".join(map(str, CHANNEL_COUNTS))
        raise PrepareError("%s: cannot tell the layout of a %s array (%s); pass --array-layout nchw or nhwc"
                           % (path, "x".join(map(str, shape)), why))
    axis = 3 if layout == "nhwc" else 1
    if shape[axis] not in CHANNEL_COUNTS:
        other = "nchw" if layout == "nhwc" else "nhwc"
        raise PrepareError("%s: a %s array cannot be %s: its channel axis (%d) has %d entries, expected %s%s"
                           % (path, "x".join(map(str, shape)), layout.upper(), axis, shape[axis],
                              "/".join(map(str, CHANNEL_COUNTS)),
                              "; it looks %s" % other.upper() if shape[4 - axis] in CHANNEL_COUNTS else ""))
    return layout


def _array_source(kind, path, x, y, files, layout="auto"):
    if x.ndim == 2:
        raise PrepareError("%s: a %s array holds one sample; expected a batch (N, H, W[, C])" % (path, x.shape))
    if x.ndim not in (3, 4):
        raise PrepareError("%s: expected N×H×W, N×H×W×C or N×C×H×W samples, got shape %s" % (path, x.shape))
    if y is not None and len(y) != len(x):
        raise PrepareError("%s: %d samples but %d labels" % (path, len(x), len(y)))
    names = [str(i) for i in range(int(y.max()) + 1)] if y is not None and len(y) else None
    if x.ndim == 3:
        return Source(kind, path, len(x), lambda i: x[i][:, :, None], y, names, files)
    layout = array_layout_of(x.shape, layout, path)
    loader = (lambda i: x[i]) if layout == "nhwc" else (lambda i: x[i].transpose(1, 2, 0))
    return Source(kind, path, len(x), loader, y, names, files, layout=layout)


def _image_folder(path):
    from PIL import Image

    subdirs = sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)))
    classes = [d for d in subdirs if _list_images(os.path.join(path, d))]
    if classes:
        items, labels = [], []
        for ci, c in enumerate(classes):
            for f in _list_images(os.path.join(path, c)):
                items.append(os.path.join(path, c, f))
                labels.append(ci)
        y = np.asarray(labels, dtype=np.int64)
    else:
        items, classes, y = [os.path.join(path, f) for f in _list_images(path)], None, None
    if not items:
        raise PrepareError("%s: no JPEG/PNG images found (directly or in class sub-folders)" % path)

    def load(i):
        with Image.open(items[i]) as im:
            im = im.convert("L" if im.mode in ("L", "I;16", "I", "1") else "RGB")
            a = np.asarray(im)
        return a[:, :, None] if a.ndim == 2 else a

    return Source("images", path, len(items), load, y, classes, items,
                  origin=lambda i: os.path.relpath(items[i], path).replace(os.sep, "/"))


# ----------------------------------------------------------------------------------------------- transforms

class Transforms:
    """The per-sample pipeline, in this order: resize shorter side → center crop → float32 → ×scale →
    channel order/count → (x − mean) / std → layout. mean and std are given in the output channel order
    (BGR means for a BGR model, as such models publish them)."""

    def __init__(self, resize=None, crop=None, scale=1.0, mean=None, std=None, layout="nchw", channels="auto"):
        if layout not in ("nchw", "nhwc"):
            raise PrepareError("layout must be nchw or nhwc, got %r" % layout)
        if channels not in ("auto", "rgb", "bgr", "gray"):
            raise PrepareError("channels must be auto, rgb, bgr or gray, got %r" % channels)
        if resize is not None and int(resize) <= 0:
            raise PrepareError("resize must be a positive size, got %r" % resize)
        self.resize = None if resize is None else int(resize)
        self.crop = None if crop is None else tuple(int(v) for v in crop)
        self.scale = float(scale)
        self.mean = None if mean is None else [float(v) for v in mean]
        self.std = None if std is None else [float(v) for v in std]
        if self.std is not None and any(s == 0 for s in self.std):
            raise PrepareError("std must not contain zeros")
        self.layout, self.channels = layout, channels

    def to_dict(self):
        """The transforms as recorded in the manifest."""
        return {"resize_shorter": self.resize, "center_crop": list(self.crop) if self.crop else None,
                "scale": self.scale, "mean": self.mean, "std": self.std, "layout": self.layout,
                "channels": self.channels, "order": "resize,crop,float32,scale,channels,normalize,layout"}

    def __call__(self, a):
        a = np.asarray(a)
        if self.resize is not None:
            a = resize_shorter(a, self.resize)
        if self.crop is not None:
            a = center_crop(a, self.crop)
        x = a.astype(np.float32)
        if self.scale != 1.0:
            x = x * np.float32(self.scale)
        x = self._channels(x)
        if self.mean is not None:
            x = x - _per_channel(self.mean, x.shape[2], "mean")
        if self.std is not None:
            x = x / _per_channel(self.std, x.shape[2], "std")
        if self.layout == "nchw":
            x = x.transpose(2, 0, 1)
        return np.ascontiguousarray(x, dtype=np.float32)

    def _channels(self, x):
        c = x.shape[2]
        if self.channels == "auto":
            return x
        if self.channels == "gray":
            if c == 1:
                return x
            # ITU-R 601 luma, the weights PIL's convert('L') uses.
            w = np.array([0.299, 0.587, 0.114], dtype=np.float32)
            return (x[:, :, :3] @ w)[:, :, None].astype(np.float32)
        if c == 1:
            x = np.repeat(x, 3, axis=2)
        return x[:, :, ::-1] if self.channels == "bgr" else x


def _per_channel(values, c, what):
    v = np.asarray(values, dtype=np.float32)
    if v.size not in (1, c):
        raise PrepareError("%s has %d values but the samples have %d channels" % (what, v.size, c))
    return v.reshape(1, 1, -1)


def resize_shorter(a, size):
    """Bilinear resize (PIL) so the shorter side is `size`, keeping the aspect ratio (longer side rounded)."""
    from PIL import Image

    h, w = a.shape[:2]
    if min(h, w) == size:
        return a
    if h <= w:
        nh, nw = size, max(1, int(round(w * size / h)))
    else:
        nh, nw = max(1, int(round(h * size / w))), size
    if a.dtype == np.uint8:
        im = Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a)
        out = np.asarray(im.resize((nw, nh), Image.BILINEAR))
        return out[:, :, None] if out.ndim == 2 else out
    chans = [np.asarray(Image.fromarray(a[:, :, i].astype(np.float32), mode="F").resize((nw, nh), Image.BILINEAR))
             for i in range(a.shape[2])]
    return np.stack(chans, axis=2)


def center_crop(a, crop):
    """The centered crop ([N] or [H, W]) of an H×W×C array; an error when larger than the image."""
    ch, cw = (crop[0], crop[0]) if len(crop) == 1 else crop[:2]
    h, w = a.shape[:2]
    if ch > h or cw > w:
        raise PrepareError("center crop %dx%d is larger than the (resized) image %dx%d" % (ch, cw, h, w))
    top, left = (h - ch) // 2, (w - cw) // 2
    return a[top:top + ch, left:left + cw]


# ----------------------------------------------------------------------------------------------- prepare

def _hash_files(paths):
    h = hashlib.sha256()
    for p in paths:
        h.update(os.path.basename(p).encode() + b"\0")
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def _config_hash(source_hash, transforms, limit, calibration, seed, array_layout=None):
    config = {"v": FORMAT_VERSION, "source": source_hash, "transforms": transforms.to_dict(), "limit": limit,
              "calibration": calibration, "seed": seed}
    if array_layout == "nchw":  # NHWC was the only reading before; sets prepared so keep their hash
        config["array_layout"] = array_layout
    blob = json.dumps(config, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def sample_name(i):
    """The file name of sample i in a prepared set."""
    return "%06d.bin" % i


def balanced_subset(labels, n, seed):
    """Indices of a seeded random subset of n samples, as even across classes as the classes allow."""
    rng = np.random.default_rng(seed)
    total = len(labels) if labels is not None else 0
    if labels is None:
        raise ValueError("labels required")
    if n > total:
        raise PrepareError("calibration asks for %d samples but the set has %d" % (n, total))
    classes = np.unique(labels)
    pools = {c: list(rng.permutation(np.flatnonzero(labels == c))) for c in classes}
    chosen = []
    order = list(rng.permutation(classes))
    while len(chosen) < n:
        progressed = False
        for c in order:
            if len(chosen) == n:
                break
            if pools[c]:
                chosen.append(int(pools[c].pop()))
                progressed = True
        if not progressed:
            break
    return sorted(chosen)


def prepare(source, output, labels=None, key=None, resize=None, crop=None, scale=1.0, mean=None, std=None,
            layout="nchw", channels="auto", limit=None, calibration=0, seed=0, force=False, progress=True,
            array_layout="auto"):
    """Writes the prepared set into `output` (see the module docstring) and returns its manifest.
    `layout` is the samples' layout written; `array_layout` the layout of a 4-D source array ("auto", "nhwc",
    "nchw"; see array_layout_of). Raises PrepareError for user errors."""
    t = Transforms(resize, crop, scale, mean, std, layout, channels)
    src = open_source(source, labels, key, array_layout)
    count = src.count if limit is None else min(int(limit), src.count)
    if count <= 0:
        raise PrepareError("%s: no samples to prepare" % source)
    calibration = int(calibration or 0)
    if calibration < 0 or calibration > count:
        raise PrepareError("calibration asks for %d samples but the set has %d" % (calibration, count))
    source_hash = _hash_files(src.files)
    config_hash = _config_hash(source_hash, t, limit, calibration, seed, src.layout)
    output = os.path.abspath(output)

    existing = read_manifest(output) if os.path.isdir(output) else None
    if existing is not None and existing.get("config_hash") == config_hash and _complete(output, existing):
        if progress:
            sys.stderr.write("%s is up to date (%d samples)\n" % (output, existing["count"]))
        return existing
    if os.path.exists(output) and not force:
        if existing is None and os.path.isdir(output) and not os.listdir(output):
            os.rmdir(output)
        else:
            raise PrepareError("%s exists and was prepared from another source or with other options; "
                               "pass --force to replace it" % output)

    parent = os.path.dirname(output) or "."
    tmp = os.path.join(parent, ".%s.tmp-%d" % (os.path.basename(output), os.getpid()))
    shutil.rmtree(tmp, ignore_errors=True)
    try:  # the folder is written under a temporary name first: a failure here is about the output's folder
        os.makedirs(parent, exist_ok=True)
        os.mkdir(tmp)
    except OSError as e:
        raise PrepareError("cannot create the output folder %s: folder %s is not writable (%s)"
                           % (output, parent, e.strerror or e)) from None
    try:
        manifest = _write_set(src, t, count, tmp, calibration, seed, progress)
        manifest.update({"format_version": FORMAT_VERSION, "source": {"kind": src.kind, "path": src.path,
                         "files": [os.path.abspath(p) for p in src.files], "count": src.count,
                         "array_layout": src.layout, "sha256": source_hash}, "config_hash": config_hash,
                         "seed": int(seed), "transforms": t.to_dict(), "limit": limit, "complete": True,
                         "created": time.strftime("%Y-%m-%dT%H:%M:%S")})
        with open(os.path.join(tmp, MANIFEST), "w") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
        if os.path.exists(output):
            old = output + ".old-%d" % os.getpid()
            os.rename(output, old)
            os.rename(tmp, output)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _write_set(src, t, count, tmp, calibration, seed, progress):
    data_dir = os.path.join(tmp, DATA_DIR)
    os.makedirs(data_dir)
    bar = Progress(count, "prepare", enabled=progress)
    h = hashlib.sha256()
    shape = None
    for i in range(count):
        x = t(src.loader(i))
        if shape is None:
            shape = list(x.shape)
        elif list(x.shape) != shape:
            raise PrepareError("sample %d has shape %s after the transforms, sample 0 has %s; add --resize/--crop "
                               "so that all samples match" % (i, list(x.shape), shape))
        b = x.tobytes()
        h.update(b)
        with open(os.path.join(data_dir, sample_name(i)), "wb") as f:
            f.write(b)
        bar.update(i + 1)
    bar.close()
    sources = {sample_name(i): src.origin(i) for i in range(count)}
    labels = None if src.labels is None else src.labels[:count]
    if labels is not None:
        with open(os.path.join(tmp, LABELS), "w") as f:
            f.write("file,label\n")
            for i in range(count):
                f.write("%s,%d\n" % (sample_name(i), labels[i]))
        h.update(labels.astype("<i8").tobytes())
    manifest = {"count": count, "sample_shape": shape, "dtype": "float32", "byte_order": "little",
                "sample_bytes": int(np.prod(shape)) * 4, "data_dir": DATA_DIR,
                "files": {"first": sample_name(0), "last": sample_name(count - 1)},
                "labels_file": LABELS if labels is not None else None,
                "label_map": ({str(i): n for i, n in enumerate(src.label_names)} if src.label_names else None),
                "sample_sources": sources, "content_sha256": h.hexdigest(), "calibration": None}
    if calibration:
        if labels is not None:
            idx = balanced_subset(labels, calibration, seed)
        else:
            idx = sorted(int(i) for i in np.random.default_rng(seed).choice(count, calibration, replace=False))
        cdir = os.path.join(tmp, CALIB_DIR)
        os.makedirs(cdir)
        for i in idx:
            shutil.copyfile(os.path.join(data_dir, sample_name(i)), os.path.join(cdir, sample_name(i)))
        per_class = None
        if labels is not None:
            vals, counts = np.unique(labels[idx], return_counts=True)
            per_class = {str(int(v)): int(c) for v, c in zip(vals, counts)}
        manifest["calibration"] = {"dir": CALIB_DIR, "count": len(idx), "seed": int(seed), "per_class": per_class,
                                   "files": [sample_name(i) for i in idx]}
    return manifest


def read_manifest(output):
    """The manifest of a prepared set, or None when it has none (or an unreadable one)."""
    try:
        with open(os.path.join(output, MANIFEST)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _complete(output, m):
    if not m.get("complete"):
        return False
    d = os.path.join(output, m.get("data_dir", DATA_DIR))
    try:
        names = os.listdir(d)
    except OSError:
        return False
    if len(names) != m["count"]:
        return False
    last = os.path.join(d, sample_name(m["count"] - 1))
    return os.path.exists(last) and os.path.getsize(last) == m["sample_bytes"]


def load_labels(path):
    """Labels from a prepared set's labels.csv (file,label), or a text file of one integer per line; returns
    {file name: label} for csv, or a list for plain text."""
    with open(path) as f:
        lines = [ln.strip() for ln in f if ln.strip()]
    if lines and lines[0].replace(" ", "") == "file,label":
        out = {}
        for ln in lines[1:]:
            name, lab = ln.rsplit(",", 1)
            out[name] = int(lab)
        return out
    return [int(v) for v in lines]


def load_prepared(output, calibration=False):
    """(samples as an N×shape float32 array, labels array or None, manifest) of a prepared set."""
    m = read_manifest(output)
    if m is None:
        raise PrepareError("%s has no manifest.json; prepare it first" % output)
    d = os.path.join(output, m["calibration"]["dir"] if calibration else m["data_dir"])
    names = sorted(os.listdir(d))
    x = np.stack([np.fromfile(os.path.join(d, n), dtype=np.float32).reshape(m["sample_shape"]) for n in names])
    y = None
    if m.get("labels_file"):
        lab = load_labels(os.path.join(output, m["labels_file"]))
        y = np.asarray([lab[n] for n in names], dtype=np.int64)
    return x, y, m


# ----------------------------------------------------------------------------------------------- CLI

def _floats(text):
    return [float(v) for v in text.replace(",", " ").split()]


def _crop(text):
    parts = text.lower().replace("x", " ").replace(",", " ").split()
    return [int(p) for p in parts]


def add_cli(subparsers):
    """Adds `trtcore prepare` to the `trtcore` command's subparsers."""
    p = subparsers.add_parser("prepare", help="dataset → raw float32 sample files, labels and a manifest",
                              description="Turns an image folder (class sub-folders give labels), an idx/idx.gz "
                              "file (MNIST, Fashion-MNIST) or a .npy/.npz array into one raw float32 file per "
                              "sample (the input's shape without the batch axis), a labels file and a manifest.")
    p.add_argument("source", help="image folder, .idx/.idx.gz, .npy or .npz")
    p.add_argument("-o", "--output", required=True, help="output directory (samples go to OUTPUT/data)")
    p.add_argument("--labels", help="labels file for .npy/.npz/idx sources (.npy, idx, or one integer per line)")
    p.add_argument("--key", help="array name inside an .npz file")
    p.add_argument("--array-layout", choices=ARRAY_LAYOUTS, default="auto",
                   help="axis order of a 4-D source array: nhwc (N×H×W×C), nchw (N×C×H×W), or auto (default): "
                   "the one whose channel axis holds 1-4 channels; an error when the shape allows both or neither")
    g = p.add_argument_group("transforms (applied in this order)")
    g.add_argument("--resize", type=int, help="resize so the shorter side is this many pixels (bilinear)")
    g.add_argument("--crop", type=_crop, help="center crop, N or HxW")
    g.add_argument("--scale", type=float, default=1.0, help="multiply pixel values (e.g. 0.00392156862745098 = 1/255)")
    g.add_argument("--mean", type=_floats, help="per-channel mean to subtract, e.g. 0.485,0.456,0.406")
    g.add_argument("--std", type=_floats, help="per-channel std to divide by, e.g. 0.229,0.224,0.225")
    g.add_argument("--layout", choices=("nchw", "nhwc"), default="nchw", help="layout of the samples written: CHW or HWC")
    g.add_argument("--channels", choices=("auto", "rgb", "bgr", "gray"), default="auto",
                   help="channel order/count (auto keeps the source's)")
    p.add_argument("--limit", type=int, help="only the first N samples")
    p.add_argument("--calibration", type=int, default=0, metavar="N",
                   help="also write a class-balanced random subset of N samples to OUTPUT/calibration")
    p.add_argument("--seed", type=int, default=0, help="seed of the calibration subset")
    p.add_argument("--force", action="store_true", help="replace an existing output prepared differently")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cli)
    return p


def _cli(args):
    try:
        m = prepare(args.source, args.output, labels=args.labels, key=args.key, resize=args.resize, crop=args.crop,
                    scale=args.scale, mean=args.mean, std=args.std, layout=args.layout, channels=args.channels,
                    limit=args.limit, calibration=args.calibration, seed=args.seed, force=args.force,
                    progress=not args.quiet, array_layout=args.array_layout)
    except (PrepareError, OSError) as e:
        sys.stderr.write("trtcore prepare: error: %s\n" % e)
        return 2
    print("%d samples of shape %s (float32) in %s" % (m["count"], "x".join(map(str, m["sample_shape"])),
                                                     os.path.join(args.output, m["data_dir"])))
    if m.get("calibration"):
        print("calibration subset: %d samples in %s" % (m["calibration"]["count"],
                                                        os.path.join(os.path.abspath(args.output), CALIB_DIR)))
    return 0


def main(argv=None):
    """`trtcore prepare ...` on its own; returns the exit code."""
    parser = argparse.ArgumentParser(prog="trtcore")
    add_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
