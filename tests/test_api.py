"""The public surface: ``__all__`` and the ``info`` command."""

import subprocess
import sys

import pytest

import rnnkit


def test_all_names_exist_and_cells_are_listed():
    for name in rnnkit.__all__:
        assert hasattr(rnnkit, name), name
    for name in rnnkit.CELLS:
        assert issubclass(getattr(rnnkit, name), rnnkit.RNNCell), name


@pytest.mark.slow
def test_info_command_prints_version_and_cells():
    out = subprocess.run(
        [sys.executable, "-m", "rnnkit", "info"], capture_output=True, text=True, check=True
    ).stdout
    assert f"rnnkit {rnnkit.__version__}" in out and "GRUCell" in out
    assert "fused engine: numba" in out and "kernel cache" in out


def test_unknown_command_is_an_argparse_error():
    proc = subprocess.run([sys.executable, "-m", "rnnkit", "nope"], capture_output=True, text=True)
    assert proc.returncode == 2 and "invalid choice: 'nope'" in proc.stderr
