"""``train`` under torchrun (gloo, two processes on this machine): the processes agree before they go
on, so an error on one of them stops all of them with one message and no hang; N processes take the
same steps as one, a last batch of fewer rows than processes included. (The plain two-process run is
``tests/commands/test_train.py::test_two_process_gloo_run``.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import torch.multiprocessing as mp

from rnnkit.commands import main

pytestmark = pytest.mark.slow  # every test starts torchrun processes (seconds each)

TIMEOUT = 180  # seconds; a run that hangs fails the test instead of the suite


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    return env


def _torchrun(*argv: str, program: list[str] | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    cmd += program or ["-m", "rnnkit"]
    done = subprocess.run(
        [*cmd, *argv], capture_output=True, text=True, timeout=TIMEOUT, env=_env()
    )
    return done


def _metrics(out: Path) -> dict:
    return json.loads((out / "metrics.json").read_text())


# --------------------------------------------------------------------------- together / same


def _agree(rank: int, world: int, store: str, results: str) -> None:
    import torch.distributed as dist

    from rnnkit.training import distributed
    from rnnkit.training.files import CheckpointError

    info = distributed.DistInfo(rank=rank, world_size=world, local_rank=rank)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    seen = []
    try:
        for failing in ((0,), (1,), (0, 1), ()):
            try:
                with distributed.together(info, (CheckpointError,), 2):
                    if rank in failing:
                        raise CheckpointError(f"/rank{rank}", "refused")
                seen.append("ok")
            except CheckpointError as e:
                seen.append(f"own {e.path.name}")
            except distributed.PeerFailed as e:
                seen.append(f"peer {e.code}")
        seen.append(f"same {distributed.same(info, 'x')} {distributed.same(info, str(rank))}")
    finally:
        distributed.stop()
    Path(results, str(rank)).write_text(json.dumps(seen))


def test_together_stops_every_process_and_one_reports(tmp_path: Path) -> None:
    store = tempfile.mktemp(dir=tmp_path)
    ctx = mp.start_processes(
        _agree, args=(2, store, str(tmp_path)), nprocs=2, join=False, start_method="spawn"
    )
    deadline = time.monotonic() + TIMEOUT  # a hang fails this test, not the whole run
    while not ctx.join(timeout=1):
        if time.monotonic() > deadline:
            for p in ctx.processes:
                p.kill()
            pytest.fail("the two processes did not finish")
    got = [json.loads((tmp_path / str(r)).read_text()) for r in (0, 1)]
    # failing on rank 0 / rank 1 / both / none: the lowest failing rank reports, the others stop
    assert got[0] == ["own rank0", "peer 2", "own rank0", "ok", "same True False"]
    assert got[1] == ["peer 2", "own rank1", "peer 2", "ok", "same True False"]


# --------------------------------------------------------------------------- the command


def test_an_option_error_is_printed_once_and_nothing_is_created(tmp_path: Path) -> None:
    out = tmp_path / "bs"
    done = _torchrun("train", "digits", "--batch-size", "1", "--epochs", "1", "--out", str(out))
    assert done.returncode != 0
    assert done.stderr.count("is less than the 2 processes") == 1, done.stderr
    assert "rnnkit/commands" not in done.stderr  # no worker traceback (torchrun prints its own)
    assert not out.exists()  # the check used to come after --out and its checkpoints/ were made


def test_processes_that_would_resume_differently_stop_with_one_message(tmp_path: Path) -> None:
    """Each process reads its own --out (as with a folder on each machine's own disk): process 0
    resumes from epoch 1, process 1 would start afresh. They trained on mismatched states, then
    hung in the last barrier until gloo's 30-minute timeout."""
    first = tmp_path / "rank0"
    assert (
        main(["train", "sine", "--epochs", "1", "--units", "8", "--quiet", "--out", str(first)])
        == 0
    )
    (tmp_path / "rank1").mkdir()
    wrapper = tmp_path / "per_rank.py"
    wrapper.write_text(
        "import os, sys\n"
        "from rnnkit.commands import main\n"
        f"out = os.path.join({str(tmp_path)!r}, 'rank' + os.environ['RANK'])\n"
        "sys.exit(main(sys.argv[1:] + ['--out', out]))\n"
    )
    done = _torchrun(
        "train", "sine", "--resume", "--epochs", "2", "--units", "8", "--device", "cpu",
        "--quiet", program=[str(wrapper)],
    )  # fmt: skip
    assert done.returncode != 0
    assert done.stderr.count("every process must see the same --out folder") == 1, done.stderr
    assert "rnnkit/commands" not in done.stderr, done.stderr  # no worker traceback
    assert json.loads(sorted((first / "checkpoints").glob("*.json"))[-1].read_text())["epoch"] == 1


def test_a_last_batch_of_one_row_is_trained_by_two_processes_as_by_one(tmp_path: Path) -> None:
    """sunspots has 245 training rows: batches of 4 leave one row, which two processes skipped (the
    README promises the same steps as one process)."""
    args = ["train", "sunspots", "--epochs", "1", "--units", "8", "--batch-size", "4", "--quiet"]
    one, two = tmp_path / "one", tmp_path / "two"
    assert main([*args, "--device", "cpu", "--out", str(one)]) == 0
    done = _torchrun(*args, "--device", "cpu", "--out", str(two))
    assert done.returncode == 0, done.stderr
    m1, m2 = _metrics(one), _metrics(two)
    assert m2["world_size"] == 2
    assert m2["history"][0]["train_loss"] == pytest.approx(m1["history"][0]["train_loss"], rel=1e-6)
    assert m2["test_mae"] == pytest.approx(m1["test_mae"], rel=1e-5)
    shutil.rmtree(one), shutil.rmtree(two)


def _processes_with(text: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode():
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux's /proc")
def test_workers_stop_when_torchrun_is_killed(tmp_path: Path) -> None:
    """torchrun killed with SIGKILL cannot stop its workers (they run in their own sessions): they
    trained to the end, unwatched (68 s more in the audit). They now stop at the next epoch."""
    import signal
    import time

    from rnnkit.training import checkpoint as ck

    out = tmp_path / "orphans"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    cmd += ["-m", "rnnkit", "train", "sunspots", "--epochs", "100000", "--units", "4"]
    cmd += ["--device", "cpu", "--quiet", "--out", str(out)]
    launcher = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env())
    try:
        deadline = time.monotonic() + TIMEOUT
        while ck.latest_checkpoint(out) is None:  # training is under way
            assert launcher.poll() is None, launcher.stderr.read().decode()
            assert time.monotonic() < deadline, "no checkpoint written"
            time.sleep(0.05)
        workers = [p for p in _processes_with(str(out)) if p != launcher.pid]
        assert len(workers) == 2, workers
    finally:
        launcher.send_signal(signal.SIGKILL)
        launcher.wait()

    def running(pid: int) -> bool:  # a zombie (exited, not yet reaped by init) counts as stopped
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + 60  # an epoch of this run takes well under a second
    while any(running(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [p for p in workers if running(p)]
    for p in alive:  # do not leave them running, whatever the result
        os.kill(p, signal.SIGKILL)
    assert not alive, "the workers kept training after torchrun was killed"
    meta, _, _ = ck.load_training_state(ck.latest_checkpoint(out))  # what was saved stays valid
    assert meta["epoch"] >= 1
