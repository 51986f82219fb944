"""``python -m rnnkit compile``: kernels compiled ahead of use land in numba's on-disk cache."""

import os
import subprocess
import sys

import pytest


def _compile(tmp_path, *args):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    return subprocess.run(
        [sys.executable, "-m", "rnnkit", "compile", *args], capture_output=True, text=True, env=env
    )


def _stamps(folder):
    return {
        os.path.join(root, f): os.stat(os.path.join(root, f)).st_mtime_ns
        for root, _, files in os.walk(folder)
        for f in files
    }


@pytest.mark.slow
def test_compile_fills_the_cache_that_later_processes_use(tmp_path):
    first = _compile(tmp_path, "--kinds", "tanh")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0].split()[:2] == ["tanh", "float32"]
    assert str(tmp_path / "cache") in first.stdout
    cached = _stamps(tmp_path / "cache")
    assert any(f.endswith(".nbi") for f in cached) and any(f.endswith(".nbc") for f in cached)
    # a second process loads the compiled kernels: no kernel file is written again
    again = _compile(tmp_path, "--kinds", "tanh")
    assert again.returncode == 0, again.stderr
    now = _stamps(tmp_path / "cache")
    assert {f: t for f, t in now.items() if f.endswith(".nbc")} == {
        f: t for f, t in cached.items() if f.endswith(".nbc")
    }


def test_compile_rejects_unknown_kinds_and_dtypes(tmp_path):
    for args, name in ((["--kinds", "tanh,cnn"], "kinds"), (["--dtypes", "int8"], "dtypes")):
        proc = _compile(tmp_path, *args)
        assert proc.returncode == 2
        assert f"argument `--{name}`" in proc.stderr and "got [" in proc.stderr
