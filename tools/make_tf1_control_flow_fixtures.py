"""Record real TensorFlow's results for the control-flow and ``tf.data`` programs of
``tests/compat/_programs.py`` (values, gradients, dataset elements, static structures, errors).

Writes into ``--out`` (default ``tests/fixtures/tf1_control_flow``):

- ``cases.npz``: ``<case>/<label>/<fetch>`` -> the fetched value of each run of each case;
  ``shapes.json``: the same keys -> the fetched tensor's static shape (null: unknown rank), and
  ``<case>/variables`` -> the names of the case's global variables, in order.
- ``data.npz``: ``<name>/<run>/<element>/<leaf>`` -> the leaves of each element each iterator
  produced, in ``flat`` order, until ``OutOfRangeError``; ``data.json`` holds the element counts and
  the static dtypes and shapes of ``get_next()``.
- ``errors.json``: ``<name>`` -> the exception class and message TensorFlow raised (the operation's
  own message for run-time errors, without TF's node trace).

Needs TensorFlow (not a dependency of rnnkit); run with::

    TF_USE_LEGACY_KERAS=1 /root/tfvenv/bin/python tools/make_tf1_control_flow_fixtures.py
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
from tf_reference import tf, tf1

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.compat import _programs as programs  # noqa: E402


def _shape(s):
    return None if s.ndims is None else [d for d in s.as_list()]


def run_cases() -> tuple[dict[str, np.ndarray], dict]:
    out, shapes = {}, {}
    for name, build in programs.CASES.items():
        graph = tf1.Graph()
        with graph.as_default():
            runs = build(tf1)
            shapes[f"{name}/variables"] = [v.name for v in tf1.global_variables()]
            with tf1.Session(graph=graph) as sess:
                sess.run(tf1.global_variables_initializer())
                for label, fetches, feed in runs:
                    for key, t in fetches.items():
                        if isinstance(t, tf.Tensor):
                            shapes[f"{name}/{label}/{key}"] = _shape(t.shape)
                    for key, value in sess.run(fetches, feed).items():
                        if value is not None:  # a fetched op
                            out[f"{name}/{label}/{key}"] = np.asarray(value)
    return out, shapes


def run_data() -> tuple[dict[str, np.ndarray], dict]:
    arrays, meta = {}, {}
    for name, build in programs.DATA.items():
        graph = tf1.Graph()
        with graph.as_default():
            nxt, init_runs = build(tf1)
            inits = tf1.get_collection("data_init")
            counts = []
            with tf1.Session(graph=graph) as sess:
                for k, feed in enumerate(init_runs):
                    if inits:
                        sess.run(inits[k % len(inits)], feed)
                    n = 0
                    while True:
                        try:
                            element = sess.run(nxt)
                        except tf.errors.OutOfRangeError:
                            break
                        for j, leaf in enumerate(programs.flat(element)):
                            arrays[f"{name}/{k}/{n}/{j}"] = np.asarray(leaf)
                        n += 1
                    counts.append(n)
            leaves = programs.flat(nxt)
            meta[name] = {
                "counts": counts,
                "dtypes": [t.dtype.name for t in leaves],
                "shapes": [_shape(t.shape) for t in leaves],
            }
    return arrays, meta


def _core(e: Exception) -> str:
    """The operation's own message of a run-time error (no node trace), or the whole message."""
    msg = getattr(e, "message", None) or str(e)
    if isinstance(e, tf.errors.OpError):
        py = re.findall(r"^(?:TypeError|ValueError): (.*)$", msg, re.M)
        if py:
            return py[-1]
        m = re.search(r"\nNode: '[^']*'\n(.*?)(?:\n\t \[\[|$)", msg, re.S)
        if m:
            return m.group(1).strip()
    return msg


def run_errors() -> dict:
    out = {}
    for name, build in programs.ERRORS.items():
        graph = tf1.Graph()
        with graph.as_default():
            try:
                build(tf1)
            except Exception as e:  # noqa: BLE001 - recording what TF raises
                out[name] = {"type": type(e).__name__, "message": _core(e)}
            else:
                raise AssertionError(f"{name}: TensorFlow raised nothing")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "tests" / "fixtures" / "tf1_control_flow"))
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    cases, shapes = run_cases()
    np.savez_compressed(out / "cases.npz", **cases)
    (out / "shapes.json").write_text(json.dumps(shapes, indent=1, sort_keys=True) + "\n")
    arrays, meta = run_data()
    np.savez_compressed(out / "data.npz", **arrays)
    (out / "data.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    errors = run_errors()
    (out / "errors.json").write_text(json.dumps(errors, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}: {len(programs.CASES)} cases, {len(meta)} datasets, {len(errors)} errors")


if __name__ == "__main__":
    main()
