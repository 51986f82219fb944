"""The command line's help: every command's ``--help`` reads as plain text (no reST markup)."""

from __future__ import annotations

import pytest

from rnnkit.commands import COMMANDS, main


@pytest.mark.parametrize("argv", [[], *[[name] for name in COMMANDS]])
def test_help_is_plain_text(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main([*argv, "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    assert "usage: python -m rnnkit" in text
    assert "`" not in text, text


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
