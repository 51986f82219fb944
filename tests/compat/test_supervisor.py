"""``tf.train.Supervisor`` (``train/supervisor.py``): the end of the input, errors raised inside a
managed session, a second session, the checkpoint thread, and its argument errors."""

from __future__ import annotations

import time

import pytest

import rnnkit.compat.v1 as tf


def test_supervisor_ends_cleanly_at_end_of_input_and_reraises_other_errors():
    q = tf.train.range_input_producer(2, num_epochs=1, shuffle=True, seed=3)
    i = q.dequeue()
    seen = []
    sv = tf.train.Supervisor()
    with sv.managed_session() as sess:
        while not sv.should_stop():
            seen.append(int(sess.run(i)))
    assert sorted(seen) == [0, 1]
    with pytest.raises(RuntimeError, match="boom"):
        with tf.train.Supervisor().managed_session():
            raise RuntimeError("boom")


def _wait_for_checkpoint(logdir: str, suffix: str, secs: float = 120.0) -> str | None:
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        latest = tf.train.latest_checkpoint(logdir)
        if latest and latest.endswith(suffix):
            return latest
        time.sleep(0.05)
    return None


def test_supervisor_serves_a_second_managed_session(tmp_path):
    # TF clears the coordinator's stop for each session: the second runs normally, does not
    # re-raise the first one's error, and gets its periodic checkpoints.
    step = tf.train.get_or_create_global_step()
    bump = tf.assign(step, 7)
    logdir = str(tmp_path / "logs")
    sv = tf.train.Supervisor(logdir=logdir, save_model_secs=0.2)
    with pytest.raises(RuntimeError, match="first session"):
        with sv.managed_session():
            raise RuntimeError("first session")
    with sv.managed_session() as sess:
        assert not sv.should_stop()
        sess.run(bump)
        got = _wait_for_checkpoint(logdir, "-7")
        assert not sv.should_stop()
    assert got is not None, "no periodic checkpoint in the second session"


def test_supervisor_checkpoint_thread_does_not_save_after_a_stop(tmp_path):
    tf.train.get_or_create_global_step()
    logdir = tmp_path / "logs"
    sv = tf.train.Supervisor(logdir=str(logdir), save_model_secs=600)
    sess = sv.prepare_or_wait_for_session(start_standard_services=False)
    sv.request_stop()
    threads = sv.start_standard_services(sess)
    sv.stop()
    sess.close()
    assert threads and not any(t.is_alive() for t in threads)
    assert tf.train.latest_checkpoint(str(logdir)) is None


def test_supervisor_argument_errors(tmp_path):
    a_file = tmp_path / "not_a_dir"
    a_file.write_text("x")
    tf.train.get_or_create_global_step()
    with pytest.raises(ValueError, match="argument `logdir`: expected a folder.*which is a file"):
        tf.train.Supervisor(logdir=str(a_file))
    for bad in (-1, "10", None):
        with pytest.raises(ValueError, match="argument `stop_grace_secs`: expected a number"):
            tf.train.Supervisor(stop_grace_secs=bad)
