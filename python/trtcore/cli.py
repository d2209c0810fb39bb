"""The `trtcore` command. build/run/inspect/quantize/trtexec are the C++ command line shared with the standalone
executable (trtcore-exec); prepare/report/compare/baseline/debug are Python helpers."""
import argparse
import importlib
import os
import sys
import threading

_CORE_COMMANDS = ("build", "run", "inspect", "quantize", "trtexec")
_PY_COMMANDS = {"prepare": "data", "report": "report", "compare": "compare", "baseline": "baselines",
                "debug": "debug", "serve": "serving", "export-triton": "triton_repo"}


def _python_parser():
    parser = argparse.ArgumentParser(prog="trtcore", description="trtcore helpers for data and results")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in dict.fromkeys(_PY_COMMANDS.values()):
        importlib.import_module("trtcore." + module).add_cli(sub)
    return parser


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in _PY_COMMANDS:
        args = _python_parser().parse_args(argv)
        return args.func(args)
    from trtcore import _core

    sys.stdout.flush()
    rc = _run_interruptible(_core.cli_main, argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print("\nPython helpers: " + ", ".join(f"trtcore {c}" for c in _PY_COMMANDS) + "  (each has --help)")
    return rc


def _run_interruptible(command, argv):
    """Runs the C++ command on a worker thread so Ctrl-C stops the process at once, as it stops trtcore-exec: files
    are written under temporary names and renamed when complete, so nothing partial is left under a final name (a
    leftover temporary is removed by the next write to the same path)."""
    result = {}

    def work():
        try:
            result["rc"] = command(argv)
        except BaseException as e:  # handed to the main thread
            result["error"] = e

    worker = threading.Thread(target=work, name="trtcore-cli", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
    except KeyboardInterrupt:
        sys.stdout.flush()
        sys.stderr.write("trtcore: interrupted\n")
        sys.stderr.flush()
        os._exit(130)
    if "error" in result:
        raise result["error"]
    return result["rc"]


if __name__ == "__main__":
    sys.exit(main())
