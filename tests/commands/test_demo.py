"""``python -m rnnkit demo``: runs, is reproducible with --seed, prints the tutorial's shapes and numbers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.commands import main


def demo(capsys, *args: str) -> str:
    assert main(["demo", *args]) == 0
    return capsys.readouterr().out


def test_demo_prints_the_tutorials_shapes_and_part_3_works(capsys):
    out = demo(capsys, "--seed", "3", "--no-table")
    for shape in ("X0 (4, 3)", "Y0 (4, 5)", "Y1 (4, 5)", "outputs (4, 2, 5)"):
        assert shape in out
    assert "Variable rnn/basic_rnn_cell/kernel already exists" in out
    assert "Part 1" in out and "Part 2" in out and "Part 3" in out
    diffs = re.search(r"max \|static_rnn - dynamic_rnn\| outputs = (\S+), final state = (\S+)", out)
    assert diffs and float(diffs[1]) < 1e-5 and float(diffs[2]) < 1e-5
    compat = re.search(r"max \|compat - rnnkit\| = (\S+)", out)
    assert compat and float(compat[1]) < 1e-6
    trained = re.search(r"loss (\S+) -> (\S+), accuracy (\S+) -> (\S+)", out)
    assert trained and float(trained[2]) < float(trained[1]) / 2 and float(trained[4]) > 0.9


def test_demo_part_1_prints_the_formula_with_the_seeded_weights(capsys):
    out = demo(capsys, "--seed", "11", "--no-table", "--no-compat")
    torch.manual_seed(11)
    Wx, Wy = torch.randn(3, 5), torch.randn(5, 5)
    x0 = torch.tensor([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 0, 1]], dtype=torch.float32)
    x1 = torch.tensor([[9, 8, 7], [0, 0, 0], [6, 5, 4], [3, 2, 1]], dtype=torch.float32)
    y0 = torch.tanh(x0 @ Wx)
    y1 = torch.tanh(y0 @ Wy + x1 @ Wx)
    for name, value in (("Y0", y0), ("Y1", y1)):
        text = np.array2string(value.numpy(), precision=4, suppress_small=True, floatmode="fixed")
        assert f"{name} (4, 5):\n{text}" in out
    assert "rnnkit.compat.v1" not in out.split("Part 3")[1]


def test_demo_is_reproducible_with_seed_and_depends_on_it(capsys):
    a = demo(capsys, "--seed", "5", "--no-table")
    b = demo(capsys, "--seed", "5", "--no-table")
    c = demo(capsys, "--seed", "6", "--no-table")
    assert a == b
    assert a.replace("seed 5", "") != c.replace("seed 6", "")


def test_demo_table_rows_and_static_cap(capsys):
    out = demo(capsys, "--seed", "0", "--steps", "10,1500", "--no-compat")
    rows = {int(m[1]): m[2] for m in re.finditer(r"^\s+(\d+) \|(.*)$", out, re.M)}
    assert set(rows) == {10, 1500}
    assert rows[10].count("MiB") == 2
    assert "capped at 1000 steps" in rows[1500] and rows[1500].count("MiB") == 1


def test_demo_rejects_bad_steps(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--steps", "10,zero"])
    assert "comma-separated positive integers" in capsys.readouterr().err


def test_demo_help_explains_it():
    result = subprocess.run(
        [sys.executable, "-m", "rnnkit", "demo", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
    )
    assert "--seed" in result.stdout and "already exists" in result.stdout
