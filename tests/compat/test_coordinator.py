"""tf.train.Coordinator as TensorFlow 1's (training/coordinator.py)."""

from __future__ import annotations

import sys
import threading
import time

import pytest

import rnnkit.compat.v1 as tf


def _threads(n: int, target) -> list[threading.Thread]:
    ts = [threading.Thread(target=target, name=f"worker-{k}", daemon=True) for k in range(n)]
    for t in ts:
        t.start()
    return ts


def test_join_waits_for_threads_to_finish_without_a_stop_request():
    # TF waits (polling) until every thread is done or a stop is requested; the grace period only
    # starts then. The old join gave each thread just the grace period (here 0).
    coord = tf.train.Coordinator()
    threads = _threads(2, lambda: time.sleep(0.5))
    coord.join(threads, stop_grace_period_secs=0)
    assert not any(t.is_alive() for t in threads)


def test_join_gives_one_grace_period_in_total_and_names_the_stragglers():
    release = threading.Event()
    coord = tf.train.Coordinator()
    threads = _threads(8, release.wait)
    coord.request_stop()
    start = time.monotonic()
    try:
        with pytest.raises(RuntimeError, match="still running: " + ".*".join(["worker-"] * 8)):
            coord.join(threads, stop_grace_period_secs=2.0)
        elapsed = time.monotonic() - start
        # one period (2 s), not one per thread (16 s); the margin is for a loaded machine
        assert 1.9 <= elapsed < 10.0
        assert coord.joined
        coord.clear_stop()
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=0, ignore_live_threads=True)
    finally:
        release.set()


def test_an_exception_after_a_stop_was_requested_is_ignored():
    coord = tf.train.Coordinator()
    coord.request_stop()
    try:
        raise ValueError("late")
    except ValueError as e:
        coord.request_stop(e)
    coord.join([])  # nothing to re-raise: TF keeps only an exception given with the first request


def test_request_stop_with_an_exception_after_join_raises_it_at_once():
    coord = tf.train.Coordinator()
    coord.request_stop()
    coord.join([])
    coord.request_stop()  # no exception: nothing to raise
    with pytest.raises(ValueError, match="after join"):
        try:
            raise ValueError("after join")
        except ValueError:
            coord.request_stop(sys.exc_info())


@pytest.mark.parametrize("ex", ["oops", (1, 2), (ValueError, "not an exception", None)])
def test_request_stop_refuses_what_is_not_an_exception(ex):
    coord = tf.train.Coordinator()
    with pytest.raises(
        TypeError, match="argument `ex`: expected None, an exception or a sys.exc_info"
    ):
        coord.request_stop(ex)
    assert not coord.should_stop()


def test_stop_on_exception_records_any_exception_including_keyboard_interrupt():
    coord = tf.train.Coordinator()
    try:
        with coord.stop_on_exception():
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pytest.fail("stop_on_exception let KeyboardInterrupt through (TF records it)")
    assert coord.should_stop()
    with pytest.raises(KeyboardInterrupt):
        coord.join([])
