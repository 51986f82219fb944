"""``python -m rnnkit checkpoint {inspect,convert}`` on checkpoints real TensorFlow wrote."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from rnnkit.commands import main
from rnnkit.interop import read_tf1_checkpoint, write_tf1_checkpoint

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "tf1_checkpoints"


def test_inspect_lists_names_dtypes_and_shapes(capsys):
    assert main(["checkpoint", "inspect", str(FIX / "dtypes")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "float32 (DT_FLOAT) [3,4]" in lines
    assert "bfloat16 (DT_BFLOAT16) [2,2]" in lines
    assert "scalar/string (DT_STRING) []" in lines
    assert "empty/int32 (DT_INT32) [2,0,3]" in lines
    assert len(lines) == len(read_tf1_checkpoint(FIX / "dtypes"))


def test_inspect_prints_values(capsys):
    assert main(["checkpoint", "inspect", str(FIX / "partitioned"), "--tensor", "ids"]) == 0
    out = capsys.readouterr().out
    ids = read_tf1_checkpoint(FIX / "partitioned")["ids"]
    assert out == f"tensor_name:  ids\n{ids}\n"
    assert main(["checkpoint", "inspect", str(FIX / "partitioned"), "--all-tensors"]) == 0
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if line.startswith("tensor_name:")] == [
        f"tensor_name:  {n}" for n in ("emb", "ids", "plain", "wide")
    ]


def test_convert_to_safetensors_and_back(tmp_path, capsys):
    out = tmp_path / "w.safetensors"
    assert main(["checkpoint", "convert", str(FIX / "dtypes"), str(out)]) == 0
    assert "skipped 4 tensor(s)" in capsys.readouterr().err  # strings and complex128
    original = read_tf1_checkpoint(FIX / "dtypes")
    back = tmp_path / "back" / "model.ckpt"
    assert main(["checkpoint", "convert", str(out), str(back) + ".index"]) == 0
    restored = read_tf1_checkpoint(back)
    assert sorted(restored) == sorted(
        n for n, a in original.items() if a.dtype != object and a.dtype != np.complex128
    )
    for name, array in restored.items():
        assert (array.dtype, array.shape) == (original[name].dtype, original[name].shape), name
        assert array.tobytes() == original[name].tobytes(), name
    assert load_file(out)["float32"].tolist() == original["float32"].tolist()


@pytest.mark.parametrize(
    "argv,message",
    [
        (["inspect", "{tmp}/nothing"], "no file"),
        (["inspect", "{fix}/dtypes", "--tensor", "nope"], "no tensor named 'nope'"),
        (["inspect", "{tmp}/bad"], "wrong magic number"),
        (["convert", "{fix}/dtypes", "{tmp}/out.bin"], "must be a .safetensors file"),
        (["convert", "{tmp}/bad.safetensors", "{tmp}/x"], "cannot read safetensors file"),
        (
            ["convert", "{fix}/dtypes", "{tmp}/no/w.safetensors"],
            "a file path in an existing folder",
        ),
        (["convert", "{fix}/dtypes", "{tmp}/dir.safetensors"], "a file path in an existing folder"),
    ],
)
def test_damage_exits_2_with_one_line(argv, message, tmp_path, capsys):
    write_tf1_checkpoint(tmp_path / "bad", {"x": np.ones(3)}, update_state=False)
    index = tmp_path / "bad.index"
    index.write_bytes(index.read_bytes()[:-1] + b"\x00")
    (tmp_path / "bad.safetensors").write_bytes(b"\xff" * 64)
    (tmp_path / "dir.safetensors").mkdir()
    argv = [a.format(tmp=tmp_path, fix=FIX) for a in argv]
    assert main(["checkpoint", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("rnnkit checkpoint: error: ") and message in err


@pytest.mark.slow
def test_no_traceback_from_the_command_line(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "rnnkit", "checkpoint", "inspect", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr and run.stderr.count("\n") == 1
