"""Keeping freed memory for reuse (rnnkit.platform.memory): opt-in, checked arguments, and what it
changes. The setting lasts for the whole process, so it is exercised in a child process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rnnkit.platform import memory


@pytest.mark.parametrize("bad", [0, -5, 1 << 31])
def test_limit_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match="limit_bytes"):
        memory.retain_freed_memory(bad)


@pytest.mark.parametrize("bad", ["1GB", 1.5, True, None])
def test_limit_of_another_type_is_refused(bad):
    with pytest.raises(TypeError, match="limit_bytes"):
        memory.retain_freed_memory(bad)


def test_not_set_on_import():
    code = "import rnnkit, rnnkit.platform.memory as m; print(m.retaining())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def test_set_in_a_process_and_whole_lstm_layers_then(tmp_path):
    """Where glibc is the C library it is set; with it set, LSTM layers on oneDNN no longer split
    into halves (the halves' gain came from the page faults it removes)."""
    code = (
        "import torch, rnnkit\n"
        "from rnnkit.engine import paths, retain_freed_memory\nfrom rnnkit.platform import memory\n"
        "cell = rnnkit.BasicLSTMCell(256, input_size=128)\n"
        "x = torch.randn(200, 64, 128)\n"
        "before = paths.onednn_cut(cell, x, 200, True)\n"
        "ok = retain_freed_memory(1 << 28)\n"
        "after = paths.onednn_cut(cell, x, 200, True)\n"
        "print(ok, memory.retaining(), before if paths.team.available() else 32, after)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    ok, limit, before, after = out.stdout.split()
    if ok == "False":
        pytest.skip("not glibc: nothing to set")
    assert (limit, before, after) == (str(1 << 28), "32", "0")
