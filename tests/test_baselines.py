"""PyTorch baselines (trtcore.baselines.torch_run): eager and torch.compile runs of one module write the module's own
outputs, and the result says how it was compiled."""
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from trtcore import baselines  # noqa: E402


def _module():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                               torch.nn.Flatten(), torch.nn.Linear(8, 5))


def _samples(folder, n):
    os.makedirs(folder)
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((n, 3, 12, 12)).astype(np.float32)
    for i, x in enumerate(xs):
        x.tofile(os.path.join(folder, "s%d.bin" % i))
    return xs


@pytest.mark.parametrize("mode", ["eager", "compile"])
def test_torch_run_writes_the_modules_outputs(tmp_path, mode):
    xs = _samples(str(tmp_path / "in"), 3)
    module = _module()
    with torch.no_grad():
        want = module(torch.from_numpy(xs)).numpy()
    r = baselines.torch_run(_module(), [3, 3, 12, 12], mode=mode, device="cpu", iterations=2, warmup=1,
                            input_dir=str(tmp_path / "in"), output_dir=str(tmp_path / "out"), model="tiny")
    got = np.stack([np.fromfile(str(tmp_path / "out" / ("s%d.bin" % i)), np.float32) for i in range(3)])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert r["engine"] == "pytorch-" + mode
    if mode == "compile":
        assert r["compile_mode"] == "reduce-overhead" and r["compile_s"] > 0


def test_torch_run_refuses_an_unknown_compile_mode():
    with pytest.raises(baselines.BaselineError, match="compile_mode"):
        baselines.torch_run(_module(), [1, 3, 12, 12], mode="compile", device="cpu", compile_mode="fastest")
