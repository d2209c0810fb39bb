"""The progress helper used by prepare, report and the bench scripts: a redrawn bar only on a terminal; in logs a
plain line about every tenth of the work, never a carriage return."""
import io
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import common  # noqa: E402

progress = common.py("progress")
data = common.py("data")


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_not_a_terminal_gives_a_line_per_tenth():
    out = io.StringIO()
    with progress.Progress(200, "work", stream=out) as bar:
        for i in range(200):
            bar.update(i + 1)
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert len(lines) == 10 and lines[-1].startswith("work: 200/200 (100%)")
    assert [ln.split()[1] for ln in lines] == ["%d/200" % (20 * k) for k in range(1, 11)]


def test_small_totals_and_disabled():
    out = io.StringIO()
    assert list(progress.track(range(3), "t", stream=out)) == [0, 1, 2]
    assert out.getvalue().splitlines() == [ln for ln in out.getvalue().splitlines() if "\r" not in ln]
    assert out.getvalue().splitlines()[-1].startswith("t: 3/3")
    quiet = io.StringIO()
    list(progress.track(range(5), "t", enabled=False, stream=quiet))
    assert quiet.getvalue() == ""


def test_terminal_gets_a_redrawn_bar():
    out = _Tty()
    with progress.Progress(5, "work", stream=out) as bar:
        for i in range(5):
            bar.update(i + 1)
    text = out.getvalue()
    assert text.startswith("\r\033[Kwork [") and text.endswith("\n") and "5/5 100%" in text


def test_prepare_progress_in_a_log_has_no_carriage_returns(tmp_path, monkeypatch):
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    np.save(tmp_path / "x.npy", np.zeros((50, 4, 4), np.float32))
    data.prepare(str(tmp_path / "x.npy"), str(tmp_path / "o"), progress=True)
    text = log.getvalue()
    assert "\r" not in text and text.count("\n") == 10 and "prepare: 50/50 (100%)" in text
