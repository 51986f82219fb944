"""The benchmark harness (``benchmarks/`` at the repository's root) in its tiny modes, run as
``python -m rnnkit bench`` and as a script (speed itself is never asserted); an installed copy without
the folder says where to get it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import rnnkit
from rnnkit.commands import bench as bench_command
from rnnkit.commands import main

ROOT = Path(__file__).resolve().parents[2]
bench = bench_command.harness("bench")  # the module `rnnkit bench` runs: patches reach it


@pytest.mark.slow
def test_quick_bench_writes_table_json_and_chart(tmp_path, capsys):
    rc = main(["bench", "--quick", "--sizes", "seed", "--cells", "rnn,gru", "--out", str(tmp_path)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "| seed | rnn | fused |" in text and "| seed | gru | torch |" in text
    header = text.split("| size |")[0]
    assert "engine BLAS: " in header and "{" not in header  # words, not a raw dict
    assert "PEERS.md" not in text  # no column named after a file outside the repository
    doc = json.loads((tmp_path / "bench.json").read_text())
    assert doc["sgemm_gflops"]["peak"] > 0
    (seed_rnn, seed_gru) = doc["results"]
    for impl in ("fused", "plain", "torch"):
        assert seed_rnn["impls"][impl]["fwdbwd"] > 0
        assert seed_rnn["impls"][impl]["fwd"] > 0
    assert (tmp_path / "bench.png").read_bytes()[:4] == b"\x89PNG"


def test_bench_rejects_unknown_sizes(tmp_path):
    assert main(["bench", "--sizes", "XL", "--out", str(tmp_path)]) == 2


def test_missing_peer_is_skipped():
    assert not bench.peer_available("/nonexistent/python", "flax")


def test_flops_formula():
    B, T, I, H = bench.SIZES["S"]
    assert bench.flops("S", "rnn", "fwdbwd") == 6 * B * T * H * (I + H)
    assert bench.flops("S", "lstm", "fwd") == 2 * B * T * H * (I + H) * 4


@pytest.mark.parametrize("runner", ["static", "loop", "fused"])
def test_sweep_point(runner):
    d = bench.sweep_point(runner, 50)
    assert d["T"] == 50 and d["fwdbwd_s"] >= d["first_result_s"] > 0
    assert d["outputs_bytes"] == 50 * 4 * 32 * 4


@pytest.mark.slow
def test_sweep_writes_results(tmp_path, capsys):
    rc = main(["bench", "--sweep", "--sweep-steps", "20", "--sweep-static-max", "10",
               "--out", str(tmp_path)])  # fmt: skip
    assert rc == 0
    rows = json.loads((tmp_path / "sweep.json").read_text())
    assert {r["runner"] for r in rows} == {"static", "loop", "fused"}
    assert any("skipped" in r for r in rows if r["runner"] == "static")
    assert all("us_per_step" in r for r in rows if r["runner"] != "static")


def test_fast_calls_are_timed_more_often(monkeypatch):
    """Each implementation gets at least MIN_TIMED_SECONDS of timed calls (capped), never fewer
    than asked for: a median of microsecond calls is not ten samples of noise."""
    import time

    monkeypatch.setattr(bench, "MIN_TIMED_SECONDS", 0.02)
    monkeypatch.setattr(bench, "MAX_REPEATS", 500)
    calls = {"fast": 0, "slow": 0}

    def fast():
        calls["fast"] += 1

    def slow():
        calls["slow"] += 1
        time.sleep(0.01)

    out = bench._timer({"fast": fast, "slow": slow}, {"fast": 3, "slow": 3})
    assert calls["fast"] == 2 + 500  # warm-up and sizing, then the cap
    assert calls["slow"] == 2 + 3
    assert out["slow"]["median"] >= 10 and out["fast"]["min"] <= out["fast"]["median"]


def test_options_are_checked_before_anything_is_created(tmp_path, capsys):
    """--quick used to drop a bad size silently; a bad option left an empty --out folder; an --out
    that cannot be created was a traceback."""
    out = tmp_path / "b"
    assert main(["bench", "--quick", "--sizes", "XL", "--out", str(out)]) == 2
    capsys.readouterr()
    for bad in (
        ["--repeats", "0"],
        ["--plain-repeats", "x"],
        ["--peer-timeout", "-1"],  # was accepted
        ["--sweep", "--sweep-steps", "10,a"],  # was a ValueError traceback
        ["--sweep", "--sweep-loop-max", "0"],
    ):
        with pytest.raises(SystemExit) as e:
            main(["bench", *bad, "--out", str(out)])
        err = capsys.readouterr().err
        assert e.value.code == 2 and f"argument {bad[-2]}" in err, err
        assert "Traceback" not in err and not out.exists()
    (tmp_path / "file").write_text("x")
    assert main(["bench", "--quick", "--out", str(tmp_path / "file" / "sub")]) == 2
    assert "cannot create the folder" in capsys.readouterr().err


def test_busy_machine_is_one_warning_line(monkeypatch, capsys):
    monkeypatch.setattr(bench.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(bench.os, "getloadavg", lambda: (6.5, 3.0, 1.0))
    bench.warn_if_busy()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("rnnkit bench: warning: the machine is busy")
    assert "load average 6.5 on 2 CPUs" in err
    monkeypatch.setattr(bench.os, "getloadavg", lambda: (1.5, 3.0, 1.0))
    bench.warn_if_busy()
    assert capsys.readouterr().err == ""


def test_quick_bench_stops_starting_measurements_after_its_budget(tmp_path, monkeypatch, capsys):
    """--quick starts nothing new once QUICK_BUDGET_S is spent and says what it left out; the plain
    loop is timed at seed only, with QUICK_MIN_TIMED_SECONDS of calls."""
    calls = []

    def fake_bench_one(size, kind, repeats, plain_repeats, plain, min_seconds=None):
        calls.append((size, kind, repeats, plain, min_seconds))
        monkeypatch.setattr(bench, "QUICK_BUDGET_S", -1.0)  # spent after the first measurement
        return {"fused": {"fwd": 1.0, "fwdbwd": 2.0}, "torch": {"fwd": 1.0, "fwdbwd": 2.0}}

    monkeypatch.setattr(bench, "bench_one", fake_bench_one)
    monkeypatch.setattr(bench, "sgemm_peak", lambda threads, n=2048, reps=3: {"peak": 1.0, "n": n})
    assert main(["bench", "--quick", "--out", str(tmp_path)]) == 0
    assert calls == [("seed", "rnn", 3, True, bench.QUICK_MIN_TIMED_SECONDS)]
    err = capsys.readouterr().err
    assert "rnnkit bench: note: --quick stopped after" in err
    assert "not measured: seed lstm, seed gru, S rnn, S lstm, S gru" in err
    doc = json.loads((tmp_path / "bench.json").read_text())
    assert doc["sgemm_gflops"]["n"] == 1024 and len(doc["results"]) == 1


@pytest.mark.slow
def test_load_option_reports_a_loaded_over_idle_ratio_per_implementation(tmp_path):
    """``bench --load N``: each implementation's step idle and beside N busy loops, same process."""
    out = subprocess.run(
        [sys.executable, "-m", "rnnkit", "bench", "--load", "1", "--peers", "", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = json.loads((tmp_path / "bench_load.json").read_text())
    assert [r["impl"] for r in rows] == ["rnnkit", "torch", "compat"]
    for r in rows:
        assert r["load"] == 1 and r["idle_ms"] > 0 and r["loaded_ms"] > 0
        assert r["ratio"] == pytest.approx(r["loaded_ms"] / r["idle_ms"], rel=1e-2)
    assert "| rnnkit |" in out.stdout and "loaded / idle" in out.stdout


def test_load_option_is_a_bounded_count():
    out = subprocess.run(
        [sys.executable, "-m", "rnnkit", "bench", "--load", "-1"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2 and "--load" in out.stderr


def test_the_harness_sits_beside_the_package_not_in_it():
    package = Path(rnnkit.__file__).parent
    for name in ("bench.py", "bench_compat.py", "bench_load.py", "peers.py"):
        assert (ROOT / "benchmarks" / name).is_file()
    for name in ("bench_load.py", "peers.py"):
        assert not (package / "commands" / name).exists()
    assert Path(bench.__file__) == ROOT / "benchmarks" / "bench.py"
    for name in ("bench", "bench_compat"):  # in the package: only the commands that find it
        assert len((package / "commands" / f"{name}.py").read_text().splitlines()) < 90


@pytest.mark.parametrize(
    "argv", [["bench", "--quick"], ["bench", "--help"], ["bench-compat", "--models", "tutorial"]]
)
def test_an_installed_copy_without_the_harness_says_how_to_get_it(
    argv, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(bench_command, "BENCHMARKS", tmp_path / "site-packages" / "benchmarks")
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    captured = capsys.readouterr()
    command, script = argv[0], argv[0].replace("-", "_") + ".py"
    assert captured.out == "" and captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith(f"rnnkit {command}: error: the benchmark harness is not part of")
    assert f"'python -m rnnkit {command} ...'" in captured.err
    assert f"'python benchmarks/{script} ...'" in captured.err
    assert str(tmp_path / "site-packages" / "benchmarks" / script) in captured.err
    with pytest.raises(AttributeError):
        bench_command.CELLS  # noqa: B018


@pytest.mark.parametrize("script", ["bench.py", "bench_compat.py"])
def test_the_scripts_run_directly_with_the_same_option_checks(script, tmp_path):
    option = "--sizes" if script == "bench.py" else "--models"
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), option, "XL", "--out", str(tmp_path / "b")]
        if script == "bench.py"
        else [sys.executable, str(ROOT / "benchmarks" / script), option, "XL"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert f"{script}: error: Received an invalid value for argument `{option}`" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "b").exists()
