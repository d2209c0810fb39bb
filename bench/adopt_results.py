"""Adds the runs of an archive left by bench/run_all_gpu.sh (results.tgz, or the folder it unpacks to) to
bench/results/: each run folder becomes its experiment's latest run, and the run it replaces moves to history/.

    python bench/adopt_results.py /tmp/out/results.tgz [--out bench/results]
"""
import argparse
import os
import shutil
import sys
import tarfile
import tempfile

import common


def adopt(src, out):
    for name in sorted(os.listdir(src)):
        run = os.path.join(src, name)
        if name == "history" or not os.path.isdir(run):
            continue
        dest = os.path.join(out, name)
        common.retire(dest)
        shutil.copytree(run, dest, dirs_exist_ok=True)  # an empty folder left in place is filled
        common.log("%s is now the latest run of %s" % (run, name))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("archive", help="results.tgz from bench/run_all_gpu.sh, or a folder of run folders")
    p.add_argument("--out", default=os.path.join(common.BENCH, "results"), help="results root (default bench/results)")
    args = p.parse_args(argv)
    if os.path.isdir(args.archive):
        adopt(args.archive, args.out)
        return 0
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(args.archive) as tar:
        if hasattr(tarfile, "data_filter"):  # refuses absolute paths and links out of the folder
            tar.extractall(tmp, filter="data")
        else:
            tar.extractall(tmp)
        adopt(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
