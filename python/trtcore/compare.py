"""Error statistics between two runs' output directories (`trtcore compare run_a/ run_b/`).

A run directory holds one raw float32 file per input sample, named after the input (the layout of
`trtcore run --output-dir` and of the baselines). A model with several outputs writes one sub-folder per output
name, each in that layout. run_b is the reference: relative errors are taken against it.
"""
import os
import sys

import numpy as np

SINGLE = "output"


class CompareError(Exception):
    """A user error: missing directory, no common files, files of different sizes."""


def read_run(path):
    """{output name: {file name: flat float32 array}}. Files directly in `path` form the single output 'output'."""
    if not os.path.isdir(path):
        raise CompareError("%s is not a directory" % path)
    entries = sorted(os.listdir(path))
    files = [e for e in entries if os.path.isfile(os.path.join(path, e)) and not e.startswith(".")
             and not e.endswith((".json", ".csv", ".md", ".txt"))]
    subdirs = [e for e in entries if os.path.isdir(os.path.join(path, e)) and not e.startswith(".")]
    out = {}
    if files:
        out[SINGLE] = {f: _read(os.path.join(path, f)) for f in files}
    for d in subdirs:
        for root, dirs, names in os.walk(os.path.join(path, d)):
            dirs[:] = sorted(x for x in dirs if not x.startswith("."))
            sub = sorted(f for f in names if not f.startswith("."))
            if sub:
                # An output named "a/b" is the folder a/b for `trtcore run` and a_b for `trtcore baseline`.
                key = _folder_key(os.path.relpath(root, path))
                out[key] = {f: _read(os.path.join(root, f)) for f in sub}
    if not out:
        raise CompareError("%s holds no output files" % path)
    return out


def _folder_key(relpath):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in relpath.replace(os.sep, "/"))


def _read(p):
    size = os.path.getsize(p)
    if size % 4:
        raise CompareError("%s is %d bytes, not a whole number of float32 values" % (p, size))
    return np.fromfile(p, dtype=np.float32)


def error_stats(a, b, rtol=1e-3, atol=1e-4):
    """Statistics of a against the reference b, both N×K (one row per sample)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim == 1:
        a, b = a[None], b[None]
    diff = np.abs(a - b)
    absb = np.abs(b)
    rel = np.where(absb > 0, diff / np.maximum(absb, 1e-300), np.where(diff > 0, np.inf, 0.0))
    bad = diff > atol + rtol * absb
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    denom = na * nb
    cos = np.where(denom > 0, np.sum(a * b, axis=1) / np.where(denom > 0, denom, 1), np.where(na == nb, 1.0, 0.0))
    ref_norm = np.linalg.norm(b)
    return {
        "samples": int(a.shape[0]), "elements": int(a.size),
        "max_abs": float(diff.max()) if diff.size else 0.0,
        "mean_abs": float(diff.mean()) if diff.size else 0.0,
        "max_rel": float(rel.max()) if rel.size else 0.0,
        "rel_l2": float(np.linalg.norm(a - b) / ref_norm) if ref_norm > 0 else float(np.linalg.norm(a - b)),
        "cosine_min": float(cos.min()), "cosine_mean": float(cos.mean()),
        "top1_agreement": float(np.mean(np.argmax(a, axis=1) == np.argmax(b, axis=1))),
        "mismatched": int(bad.sum()),
        "passed": bool(not bad.any()),
    }


def compare_runs(dir_a, dir_b, rtol=1e-3, atol=1e-4):
    """Per-output statistics (see error_stats) plus the files present in only one run; 'passed' overall."""
    ra, rb = read_run(dir_a), read_run(dir_b)
    common_outputs = sorted(set(ra) & set(rb))
    if not common_outputs:
        raise CompareError("%s has outputs %s, %s has %s: none in common" % (dir_a, sorted(ra), dir_b, sorted(rb)))
    report = {"run_a": os.path.abspath(dir_a), "run_b": os.path.abspath(dir_b), "rtol": rtol, "atol": atol,
              "outputs": {}, "only_in_a": [], "only_in_b": []}
    for name in common_outputs:
        fa, fb = ra[name], rb[name]
        common = sorted(set(fa) & set(fb))
        report["only_in_a"] += ["%s/%s" % (name, f) for f in sorted(set(fa) - set(fb))]
        report["only_in_b"] += ["%s/%s" % (name, f) for f in sorted(set(fb) - set(fa))]
        if not common:
            raise CompareError("output '%s': no file names in common between %s and %s" % (name, dir_a, dir_b))
        for f in common:
            if fa[f].size != fb[f].size:
                raise CompareError("output '%s', file %s: %d values in %s but %d in %s"
                                   % (name, f, fa[f].size, dir_a, fb[f].size, dir_b))
        sizes = {fa[f].size for f in common}
        if len(sizes) == 1:
            stats = error_stats(np.stack([fa[f] for f in common]), np.stack([fb[f] for f in common]), rtol, atol)
        else:
            stats = error_stats(np.concatenate([fa[f] for f in common]), np.concatenate([fb[f] for f in common]),
                                rtol, atol)
        worst = max(common, key=lambda f: float(np.max(np.abs(fa[f].astype(np.float64) - fb[f]))))
        stats["worst_file"] = worst
        report["outputs"][name] = stats
    for name in sorted(set(ra) ^ set(rb)):
        (report["only_in_a"] if name in ra else report["only_in_b"]).append(name + "/")
    report["passed"] = (all(s["passed"] for s in report["outputs"].values())
                        and not report["only_in_a"] and not report["only_in_b"])
    return report


def format_report(rep):
    """A compare_runs result as a Markdown table per output and a PASS/FAIL line."""
    lines = ["%s vs reference %s (pass if |a-b| <= %g + %g*|b|)" % (rep["run_a"], rep["run_b"], rep["atol"],
                                                                    rep["rtol"]),
             "| output | samples | max abs | max rel | rel L2 | min cosine | top-1 agree | mismatched | result |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, s in rep["outputs"].items():
        lines.append("| %s | %d | %.3g | %.3g | %.3g | %.6f | %.2f%% | %d | %s |" % (
            name, s["samples"], s["max_abs"], s["max_rel"], s["rel_l2"], s["cosine_min"],
            100 * s["top1_agreement"], s["mismatched"], "pass" if s["passed"] else "FAIL (worst: %s)" % s["worst_file"]))
    if rep["only_in_a"]:
        lines.append("only in %s: %s" % (rep["run_a"], ", ".join(rep["only_in_a"][:10])))
    if rep["only_in_b"]:
        lines.append("only in %s: %s" % (rep["run_b"], ", ".join(rep["only_in_b"][:10])))
    lines.append("PASS" if rep["passed"] else "FAIL")
    return "\n".join(lines)


def add_cli(subparsers):
    """Adds `trtcore compare` to the `trtcore` command's subparsers."""
    p = subparsers.add_parser("compare", help="error statistics between two runs' output directories",
                              description="Compares run_a against the reference run_b file by file; exit code 0 "
                              "when every element satisfies |a-b| <= atol + rtol*|b|, 1 otherwise.")
    p.add_argument("run_a")
    p.add_argument("run_b", help="the reference run")
    p.add_argument("--rtol", type=float, default=1e-3, help="relative tolerance (default 1e-3)")
    p.add_argument("--atol", type=float, default=1e-4, help="absolute tolerance (default 1e-4)")
    p.add_argument("--json", metavar="FILE", help="also write the statistics as JSON")
    p.set_defaults(func=_cli)
    return p


def _cli(args):
    try:
        rep = compare_runs(args.run_a, args.run_b, args.rtol, args.atol)
    except (CompareError, OSError) as e:
        sys.stderr.write("trtcore compare: error: %s\n" % e)
        return 2
    print(format_report(rep))
    if args.json:
        import json
        with open(args.json, "w") as f:
            json.dump(rep, f, indent=2)
    return 0 if rep["passed"] else 1
