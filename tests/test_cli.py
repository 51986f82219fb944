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
