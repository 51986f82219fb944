"""The command line: every command's ``--help`` reads as plain text, shows the defaults and imports
no torch; the program calls itself ``rnnkit``; every command's errors print its usage and
``rnnkit CMD: error:``; ``--version``."""

from __future__ import annotations

import subprocess
import sys

import pytest

import rnnkit
from rnnkit.commands import COMMANDS, main


@pytest.mark.parametrize("argv", [[], *[[name] for name in COMMANDS]])
def test_help_is_plain_text(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main([*argv, "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: rnnkit {' '.join(argv)}".rstrip() + " ")
    assert "`" not in text, text


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120)


def test_help_and_version_import_no_torch():
    """``--help`` of every command and ``--version`` stay fast: torch (seconds to import on a busy
    machine) is not imported for them."""
    commands = [[], *[[name] for name in COMMANDS], ["checkpoint", "inspect"]]
    code = (
        "import sys\n"
        "from rnnkit.commands import main\n"
        f"for argv in {commands!r} + [['--version']]:\n"
        "    try:\n"
        "        main(argv + ['--help'] if argv != ['--version'] else argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('HEAVY', sorted(m for m in ('torch', 'numba', 'numpy') if m in sys.modules))\n"
    )
    proc = _run("-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "HEAVY []", proc.stdout[-300:]
    # and through the real entry point, as a user runs it
    proc = _run("-X", "importtime", "-m", "rnnkit", "train", "--help")
    assert proc.returncode == 0 and "usage: rnnkit train" in proc.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    assert "rnnkit.commands" in imported and "torch" not in imported


def test_version():
    proc = _run("-m", "rnnkit", "--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"rnnkit {rnnkit.__version__}"


def test_console_script_is_rnnkit_and_names_itself_rnnkit():
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="rnnkit")
    assert script.load() is main
    # however it is started (python -m rnnkit, the script): usage lines and errors say `rnnkit`
    proc = _run("-m", "rnnkit", "train", "sine", "--units", "0")
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: rnnkit train ")
    assert "\nrnnkit train: error: argument --units: expected an integer" in proc.stderr


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "tf1"])
def test_every_command_prints_its_usage_and_prefix_on_a_bad_option(command, capsys):
    with pytest.raises(SystemExit) as e:
        main([command, "--no-such-option"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: rnnkit {command}")
    assert f"\nrnnkit {command}: error: unrecognized arguments: --no-such-option" in err or (
        f"\nrnnkit {command}: error: the following arguments are required" in err
    ), err


@pytest.mark.parametrize(
    "argv, option",
    [
        (["bench", "--cells", "tanh"], "--cells"),  # train --cell's names: rnn, lstm, gru
        (["bench", "--sizes", "XL"], "--sizes"),
        (["compile", "--dtypes", "int8"], "--dtypes"),
        (["bench-compat", "--models", "nope"], "--models"),
    ],
)
def test_comma_list_errors_print_usage_and_prefix(argv, option, capsys, tmp_path):
    assert main([*argv, *(["--out", str(tmp_path / "b")] if argv[0] == "bench" else [])]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: rnnkit {argv[0]} ")
    assert f"\nrnnkit {argv[0]}: error: Received an invalid value for argument `{option}`" in err
    assert not (tmp_path / "b").exists()


def test_bench_and_train_name_the_cells_alike():
    from rnnkit.commands import bench, train
    from rnnkit.training.models import CELL_TYPES

    assert bench.CELLS == train.CELL_NAMES == tuple(CELL_TYPES)


def test_help_shows_defaults(capsys):
    expected = {
        "bench": ["--repeats REPEATS", "(default: 20)", "(default: rnn,lstm,gru)"],
        "train": ["(default: gru for sine, lstm for digits, gru for sunspots)", "(default: 0)"],
        "evaluate": ["(default: auto)"],
        "demo": ["(default: 42)"],
    }
    for command, parts in expected.items():
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
        for part in parts:
            assert part in text, (command, part)


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch, capsys):
    from rnnkit.commands import demo, main

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "run", interrupted)
    assert main(["demo"]) == 130
    err = capsys.readouterr().err
    assert err.strip() == "rnnkit demo: interrupted" and "Traceback" not in err


@pytest.mark.parametrize(
    "argv", [["--steps", "99999999999"], ["--seed", "99999999999999999999"], ["--seed", "-1"]]
)
def test_demo_options_are_bounded(argv, capsys):
    """Were a traceback (an allocation of 25 TB; a seed overflow) or accepted (a negative seed)."""
    from rnnkit.commands import main

    with pytest.raises(SystemExit) as exit_info:
        main(["demo", *argv, "--no-table", "--no-compat"])
    assert exit_info.value.code == 2
    assert "error: argument" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "sine", "--out", ""],  # meant runs/sine, unsaid
        ["evaluate", "--checkpoint", ""],  # meant the current folder
        ["export", "--checkpoint", "", "m.onnx"],
        ["export", "--checkpoint", "runs/x", " "],
        ["checkpoint", "inspect", ""],
        ["checkpoint", "convert", "a.safetensors", ""],
        ["bench", "--out", ""],
    ],
)
def test_an_empty_path_is_refused(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "expected a path, got" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_checkpoint_names_rnnkit_run_files_instead_of_a_tf1_error(tmp_path, capsys):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    for name in ("config.json", "model.safetensors", "checkpoints/epoch-0003.json"):
        (run / name).write_text("{}")
    for path, what in (
        (run, "is a run folder of rnnkit train, not a TF1 checkpoint"),
        (run / "model.safetensors", "is part of a run folder of rnnkit train"),
        (run / "checkpoints" / "epoch-0003.json", "is a training checkpoint of rnnkit train"),
    ):
        for action in (["inspect", str(path)], ["convert", str(path), str(tmp_path / "w.st")]):
            if action[0] == "convert" and path.suffix == ".safetensors":
                continue  # a safetensors file converts to a TF1 checkpoint
            assert main(["checkpoint", *action]) == 2
            err = capsys.readouterr().err
            assert err.startswith(f"rnnkit checkpoint: error: {path} {what}"), err
            assert f"rnnkit evaluate --checkpoint {run}" in err and err.count("\n") == 1
    with pytest.raises(SystemExit):
        main(["checkpoint", "--help"])
    assert "TensorFlow 1.x checkpoint files" in capsys.readouterr().out


def test_checkpoint_convert_reports_what_it_wrote(tmp_path, capsys):
    import numpy as np

    from rnnkit.interop import read_tf1_checkpoint, write_tf1_checkpoint

    write_tf1_checkpoint(tmp_path / "model.ckpt-7", {"a": np.ones((2, 3), np.float32), "b": 3})
    out = tmp_path / "w.safetensors"
    assert main(["checkpoint", "convert", str(tmp_path / "model.ckpt-7"), str(out)]) == 0
    assert capsys.readouterr().out == (
        f"wrote {out}: 2 tensor(s) of TF1 checkpoint {tmp_path / 'model.ckpt-7'}, "
        f"{out.stat().st_size} bytes\n"
    )
    back = tmp_path / "back" / "m"
    back.parent.mkdir()
    assert main(["checkpoint", "convert", str(out), str(back)]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"wrote TF1 checkpoint {back}: {back}.index, {back}.data-00000-of-00001")
    assert (
        "(2 tensor(s), " in text and f"{back.parent / 'checkpoint'} names it as the latest" in text
    )
    assert sorted(read_tf1_checkpoint(back)) == ["a", "b"]
