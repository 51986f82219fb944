"""The engine's view of a busy machine (rnnkit.engine.load)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from rnnkit.engine import cpu, load, team


@pytest.fixture
def clock(monkeypatch):
    """A fake clock, machine busy time and process CPU time, advanced by hand."""
    now = {"wall": 1000.0, "busy": 500.0, "mine": 10.0}
    monkeypatch.setattr(load, "_last", None)
    monkeypatch.setattr(load.time, "monotonic", lambda: now["wall"])
    monkeypatch.setattr(load.time, "process_time", lambda: now["mine"])
    monkeypatch.setattr(load, "_machine_busy_seconds", lambda: now["busy"])
    monkeypatch.setattr(load, "cores", lambda: 4)
    return now


def test_spare_cores_subtracts_this_process_own_cpu_time(clock):
    assert load.spare_cores() == 4.0  # the first reading has nothing to compare with
    # one second later: the machine was busy 3 core-seconds, 1.5 of them this process's
    clock.update(wall=1001.0, busy=503.0, mine=11.5)
    assert load.spare_cores() == pytest.approx(2.5)
    # within INTERVAL, the last answer stands (no second reading)
    clock.update(wall=1001.0 + load.INTERVAL / 2, busy=600.0)
    assert load.spare_cores() == pytest.approx(2.5)
    # others used more than every core (rounding of the kernel's ticks): none spare, never negative
    clock.update(wall=1002.0, busy=609.0, mine=11.5)
    assert load.spare_cores() == 0.0


def test_no_proc_stat_counts_every_core_free(clock, monkeypatch):
    monkeypatch.setattr(load, "_machine_busy_seconds", lambda: None)
    load.spare_cores()
    clock.update(wall=1002.0)
    assert load.spare_cores() == 4.0


def test_busy_loops_beside_the_process_are_seen():
    n = load.cores()
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        time.sleep(0.5)  # the hogs are running
        load.spare_cores()
        time.sleep(load.INTERVAL + 0.3)
        spare = load.spare_cores()
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    assert spare <= n - 0.5, spare


def test_two_pieces_at_once_only_with_two_spare_cores(monkeypatch):
    if not team._torch_libgomp():
        pytest.skip("torch here does not run on libgomp")
    monkeypatch.setattr(team.torch, "get_num_threads", lambda: 2)
    monkeypatch.setattr(load, "spare_cores", lambda: 2.0)
    assert team.available()
    monkeypatch.setattr(load, "spare_cores", lambda: 1.0)
    assert not team.available()


def test_large_layers_take_no_more_blas_threads_than_spare_cores(monkeypatch):
    monkeypatch.setattr(cpu.torch, "get_num_threads", lambda: 4)
    seen = []
    monkeypatch.setattr(cpu, "_blas_threads", seen.append)
    big = int(cpu.PARALLEL_MIN_MACS**0.5) + 1  # B = H with B*H*H >= the threshold (GH = H)
    for spare, want in ((4.0, 4), (2.4, 2), (0.2, 1)):
        monkeypatch.setattr(load, "spare_cores", lambda spare=spare: spare)
        cpu._plan_threads(big, big, big)
        assert seen[-1] == want
    cpu._plan_threads(2, 2, 2)  # small layers: one thread whatever the machine does
    assert seen[-1] == 1
