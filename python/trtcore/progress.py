"""Progress of long loops (prepare, report, the bench scripts), on stderr.

On a terminal a bar is redrawn in place (at most ten times a second); anywhere else (a log file, a pipe, CI) there
are no carriage-return frames: one plain line each time another tenth of the work is done, and one at the end.
"""
import sys
import time


def _is_terminal(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Progress:
    """Progress of `total` steps named `label`. `enabled=False` writes nothing; `terminal` (default: whether the
    stream is a terminal) picks the redrawn bar over the line-per-tenth form."""

    def __init__(self, total, label, enabled=True, stream=None, terminal=None):
        self.total, self.label, self.enabled = max(1, int(total)), label, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = _is_terminal(self.stream) if terminal is None else terminal
        self.start = time.monotonic()
        self.last_draw = 0.0
        self.next_tenth = 1
        self.done, self.note = 0, ""
        self.closed = False

    def update(self, done, note="", force=False):
        """Records that `done` of the steps are finished; `note` (e.g. the item just done) is shown with it."""
        self.done, self.note = done, note
        if not self.enabled:
            return
        now = time.monotonic()
        if self.terminal:
            if force or done >= self.total or now - self.last_draw >= 0.1:
                self.last_draw = now
                frac = min(1.0, done / self.total)
                self.stream.write("\r\033[K%s [%-30s] %d/%d %3d%% %.1fs%s" % (
                    self.label, "#" * int(frac * 30), done, self.total, frac * 100, now - self.start,
                    " " + note if note else ""))
                self.stream.flush()
            return
        tenth = min(10, done * 10 // self.total)
        if tenth >= self.next_tenth or (force and tenth >= 10 and self.next_tenth <= 10):
            self.next_tenth = tenth + 1
            self.stream.write("%s: %d/%d (%d%%) %.1fs%s\n" % (self.label, done, self.total, 100 * done // self.total,
                                                            now - self.start, " " + note if note else ""))
            self.stream.flush()

    def step(self, n=1):
        """Records `n` more finished steps."""
        self.update(self.done + n)

    def close(self):
        """Ends the progress display: the bar at its final count and a newline on a terminal, else the final line
        when it was not written yet."""
        if self.closed or not self.enabled:
            self.closed = True
            return
        self.closed = True
        self.update(self.done, self.note, force=True)
        if self.terminal:
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def track(items, label, enabled=True, stream=None, total=None):
    """Yields the items of `items`, showing their progress (see Progress)."""
    items = list(items) if total is None and not hasattr(items, "__len__") else items
    bar = Progress(len(items) if total is None else total, label, enabled, stream)
    try:
        for item in items:
            yield item
            bar.step()
    finally:
        bar.close()
