"""PNG figures from result lists (matplotlib, Agg backend: no display needed).

Every figure names its units on the axes and carries the device and date in its title."""
import math
import os
import textwrap
import time


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _series_key(r):
    return "%s %s" % (r.get("engine", "?"), r.get("precision", ""))


def _ok(r):
    return r.get("status", "ok") == "ok" and math.isfinite(r["e2e_ms"].get("median", float("nan")))


def caption(device=None, date=None, extra=""):
    """The caption under a figure's title: device · date (today by default) · extra."""
    date = date or time.strftime("%Y-%m-%d")
    parts = [p for p in (device, date, extra) if p]
    return " · ".join(parts)


def _set_titles(fig, title, cap, fontsize=10):
    """The title and its caption line(s) above the axes, wrapped to the figure's width so that a long device
    list never runs past the figure's edges, with the axes moved down to make room."""
    # About 0.6 em per character: the text width in characters that fits the figure at this font size.
    width = max(20, int(fig.get_figwidth() * 72 / (0.6 * fontsize)) - 4)
    lines = textwrap.wrap(title, width) + (textwrap.wrap(cap, width) if cap else [])
    fig.suptitle("\n".join(lines), fontsize=fontsize)
    fig.tight_layout()


def _finish(fig, path, title, cap):
    _set_titles(fig, title, cap)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight", pad_inches=0.1)
    _plt().close(fig)
    return path


def _device_of(results):
    devs = sorted({r.get("device", "") for r in results if r.get("device")})
    return "; ".join(devs) if len(devs) <= 2 else "%d devices" % len(devs)


def latency_vs_batch(results, path, title="Latency vs batch size", device=None, date=None, metric="e2e_ms"):
    """Two log–log panels: latency per image and per batch (median, ms) against batch, one line per
    engine/precision (and model, when several are present)."""
    plt = _plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    models = {r.get("model") for r in results}
    series = {}
    for r in results:
        key = _series_key(r) if len(models) <= 1 else "%s: %s" % (r.get("model"), _series_key(r))
        series.setdefault(key, []).append(r)
    for key, rs in sorted(series.items()):
        ok = sorted((r for r in rs if _ok(r)), key=lambda r: r["batch"])
        if not ok:
            continue
        b = [r["batch"] for r in ok]
        per_batch = [r[metric]["median"] for r in ok]
        line, = ax2.plot(b, per_batch, marker="o", label=key)
        ax1.plot(b, [t / n for t, n in zip(per_batch, b)], marker="o", label=key, color=line.get_color())
    batches = sorted({r["batch"] for r in results})
    for ax, what in ((ax1, "per image"), (ax2, "per batch")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(batches)
        ax.set_xticklabels([str(b) for b in batches])
        ax.minorticks_off()
        _plain_y(ax)
        ax.set_xlabel("batch size (images)")
        ax.set_ylabel("median latency %s (ms)" % what)
        ax.set_title("latency %s (%s)" % (what, "end-to-end" if metric == "e2e_ms" else "GPU compute"), fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
    if ax1.lines:
        ax1.legend(fontsize=7)
    return _finish(fig, path, title, caption(device or _device_of(results), date))


def _plain_y(ax):
    from matplotlib.ticker import FuncFormatter, LogLocator
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: "%g" % v))


def latency_vs_input_size(results, path, title="Latency vs input size", device=None, date=None):
    """Median latency (ms) against pixels per image, log–log; runs that failed (e.g. OOM) marked on the x axis."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.8))
    series = {}
    for r in results:
        series.setdefault(_series_key(r), []).append(r)
    ticks, failed = {}, []
    for key, rs in sorted(series.items()):
        pts = []
        for r in rs:
            h, w = r["input_shape"][-2:]
            ticks[h * w] = "%dx%d" % (h, w)
            pts.append((h * w, r))
        pts.sort(key=lambda p: p[0])
        ok = [(px, r["e2e_ms"]["median"]) for px, r in pts if _ok(r)]
        color = None
        if ok:
            line, = ax.plot([p for p, _ in ok], [t for _, t in ok], marker="o", label=key)
            color = line.get_color()
        failed += [(px, r.get("status") or "error", key, color) for px, r in pts
                   if not _ok(r) and r.get("status") != "skipped"]
    # Failures (e.g. OOM) have no time: marked along the bottom of the axes at their input size.
    for i, (px, status, key, color) in enumerate(failed):
        ax.scatter([px], [0.04 + 0.06 * (i % 3)], marker="x", s=60, color=color or "red",
                   transform=ax.get_xaxis_transform(), label="%s: %s" % (key, status), zorder=5)
        ax.annotate(status, (px, 0.04 + 0.06 * (i % 3)), xycoords=ax.get_xaxis_transform(),
                    textcoords="offset points", xytext=(5, -3), fontsize=7, color=color or "red")
    ax.set_xscale("log")
    ax.set_yscale("log")
    if ticks:
        xs = sorted(ticks)
        ax.set_xticks(xs)
        ax.set_xticklabels([ticks[x] for x in xs], rotation=30, fontsize=8)
        ax.minorticks_off()
    _plain_y(ax)
    ax.set_xlabel("input size (H×W pixels, log scale)")
    ax.set_ylabel("median latency per batch (ms)")
    ax.grid(True, which="both", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    if uniq:
        ax.legend(uniq.values(), uniq.keys(), fontsize=7)
    return _finish(fig, path, title, caption(device or _device_of(results), date))


def accuracy_per_precision(rows, path, title="Accuracy per engine and precision", device=None, date=None,
                           metric="top1", ylabel="top-1 accuracy (%)"):
    """Bars of accuracy (%) per engine/precision; rows: dicts with engine, precision and the metric in [0, 1]."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(rows) + 2), 4.5))
    names = ["%s\n%s" % (r["engine"], r["precision"]) for r in rows]
    vals = [100.0 * r[metric] for r in rows]
    bars = ax.bar(range(len(rows)), vals, color="tab:blue")
    for b, v in zip(bars, vals):
        ax.annotate("%.2f" % v, (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(names, fontsize=8)
    lo = min(vals) if vals else 0
    ax.set_ylim(max(0, lo - 5), 100)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("engine / precision")
    ax.grid(True, axis="y", alpha=0.3)
    return _finish(fig, path, title, caption(device, date))


def throughput_vs_processes(rows, path, title="Concurrent throughput", device=None, date=None):
    """Total images per minute against the number of processes sharing the device, one line per engine;
    rows: dicts with engine, processes, images_per_minute (and optionally gpu_util %)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.8))
    series = {}
    for r in rows:
        series.setdefault(r["engine"], []).append(r)
    for key, rs in sorted(series.items()):
        rs = sorted(rs, key=lambda r: r["processes"])
        ax.plot([r["processes"] for r in rs], [r["images_per_minute"] for r in rs], marker="o", label=key)
    procs = sorted({r["processes"] for r in rows})
    ax.set_xticks(procs)
    ax.set_xlabel("processes sharing the device")
    ax.set_ylabel("total throughput (images/minute)")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    if series:
        ax.legend(fontsize=8)
    return _finish(fig, path, title, caption(device, date))
