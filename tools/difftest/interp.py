"""Runs one difftest program with a given ``tf`` module: ``rnnkit.compat.v1`` or TensorFlow's
``tf.compat.v1``. Imports nothing but numpy, so the same code runs in both venvs.

A program is a JSON-able dict (see ``programs.py``)::

    {"seed": 7, "area": "math", "kind": "expr",
     "inputs": [{"name": "x0", "kind": "placeholder", "dtype": "float32", "shape": [null, 3],
                 "value": [[...]]}],
     "ops": [{"fn": "maximum", "args": [{"ref": "x0"}, 0.0], "kwargs": {}, "out": "y0"}],
     "fetch": ["y0"], "grad": [["y0", ["x0"]]]}

``run(tf, prog, workdir)`` builds the graph, runs it and returns a result dict: fetched values,
their dtypes and static shapes, gradients (of ``sum(y**2/2 + y)``), variable names, or the
exception's type and whether it came at build or at run time.
"""

from __future__ import annotations

import os
import zlib
from typing import Any

import numpy as np

VALUE_TOL = 1e-5  # float values: rtol = atol
GRAD_TOL = 1e-4  # gradients


def var_value(name: str, shape: list[int], dtype: str) -> np.ndarray:
    """The value every side assigns to the variable ``name`` (from the name, not the order)."""
    rs = np.random.RandomState(zlib.crc32(name.encode()) & 0x7FFFFFFF)
    arr = rs.uniform(-0.5, 0.5, size=shape)
    if dtype.startswith("int"):
        arr = rs.randint(-5, 6, size=shape)
    return arr.astype(dtype)


def _err(e: BaseException) -> str:
    """An exception's kind as the two frameworks can agree on: TF's error class names, else the
    builtin class (ValueError, TypeError, ...) it derives from."""
    for cls in type(e).__mro__:
        if cls.__name__.endswith("Error") and cls.__module__ != "builtins":
            name = cls.__name__
            if name in (
                "InvalidArgumentError",
                "NotFoundError",
                "FailedPreconditionError",
                "OutOfRangeError",
                "UnimplementedError",
                "AlreadyExistsError",
                "UnknownError",
            ):
                return name
    for cls in type(e).__mro__:
        if cls.__module__ == "builtins":
            return cls.__name__
    return type(e).__name__


def _shape(t: Any) -> Any:
    s = t.shape
    if s.ndims is None:
        return None
    return [d if isinstance(d, int) or d is None else d.value for d in s.as_list()]


class _Env:
    def __init__(self, tf: Any, prog: dict) -> None:
        self.tf = tf
        self.prog = prog
        self.names: dict[str, Any] = {}
        self.feed: dict[Any, Any] = {}

    def resolve(self, a: Any) -> Any:
        if isinstance(a, dict) and "ref" in a:
            v = self.names[a["ref"]]
            if "index" in a:
                v = v[a["index"]]
            return v
        if isinstance(a, dict) and "dtype" in a and "value" in a:  # a numpy constant argument
            return np.asarray(a["value"], dtype=a["dtype"])
        if isinstance(a, dict) and "tf_dtype" in a:
            return getattr(self.tf, a["tf_dtype"])
        if isinstance(a, list):
            return [self.resolve(x) for x in a]
        if isinstance(a, dict):
            return {k: self.resolve(v) for k, v in a.items()}
        return a

    def fn(self, path: str) -> Any:
        obj = self.tf
        for part in path.split("."):
            obj = getattr(obj, part)
        return obj


def _make_inputs(env: _Env) -> None:
    tf = env.tf
    for spec in env.prog.get("inputs", []):
        dt = getattr(tf, spec["dtype"])
        value = np.asarray(spec["value"], dtype=spec["dtype"])
        kind = spec["kind"]
        if kind == "placeholder":
            t = tf.placeholder(dt, spec["shape"], name=spec["name"])
            env.feed[t] = value
        elif kind == "const":
            t = tf.constant(value, dtype=dt, name=spec["name"])
        elif kind == "variable":
            t = tf.Variable(value, dtype=dt, name=spec["name"])
        else:
            raise AssertionError(kind)
        env.names[spec["name"]] = t


def _apply_op(env: _Env, op: dict) -> None:
    tf = env.tf
    f = (lambda cell, *a: cell(*a)) if op["fn"] == "__call__" else env.fn(op["fn"])
    args = [env.resolve(a) for a in op.get("args", [])]
    kwargs = {k: env.resolve(v) for k, v in op.get("kwargs", {}).items()}
    scope = op.get("scope")
    if scope:
        with tf.variable_scope(scope):
            out = f(*args, **kwargs)
    else:
        out = f(*args, **kwargs)
    env.names[op["out"]] = out


def _loss_of(tf: Any, y: Any) -> Any:
    return tf.reduce_sum(tf.square(y) * 0.5 + y)


def _fetchable(tf: Any, name: str, t: Any, out: dict[str, Any]) -> None:
    if isinstance(t, (list, tuple)):
        for i, part in enumerate(t):
            _fetchable(tf, f"{name}.{i}", part, out)
    elif t is not None and hasattr(t, "dtype") and hasattr(t, "shape"):
        out[name] = t


def _to_np(v: Any) -> Any:
    """A fetched value as (kind, dense array): IndexedSlicesValue becomes its dense sum."""
    if hasattr(v, "indices") and hasattr(v, "values") and hasattr(v, "dense_shape"):
        dense = np.zeros(tuple(int(d) for d in v.dense_shape), dtype=np.asarray(v.values).dtype)
        np.add.at(dense, np.asarray(v.indices).reshape(-1), np.asarray(v.values))
        return "IndexedSlicesValue", dense
    return "array", np.asarray(v)


def _init_variables(tf: Any, sess: Any) -> list[list[Any]]:
    sess.run(tf.global_variables_initializer())
    names = []
    for v in tf.global_variables():
        shape = [int(d) for d in v.shape.as_list()]
        dtype = v.dtype.base_dtype.name
        names.append([v.name, shape, dtype])
        if not v.name.startswith("x") and dtype in ("float32", "float64", "int32", "int64"):
            v.load(var_value(v.name, shape, dtype), sess)
    return names


def run(tf: Any, prog: dict, workdir: str | None = None) -> dict:
    """The result of ``prog`` under ``tf`` (see the module docstring)."""
    res: dict[str, Any] = {"error": None, "stage": None, "values": {}, "kinds": {}}
    graph = tf.Graph()
    stage = "build"
    try:
        with graph.as_default():
            if prog.get("graph_seed") is not None:
                tf.set_random_seed(prog["graph_seed"])
            env = _Env(tf, prog)
            kind = prog["kind"]
            if kind == "saver":
                return _run_saver(tf, prog, workdir, res)
            _make_inputs(env)
            for op in prog["ops"]:
                _apply_op(env, op)
            fetch: dict[str, Any] = {}
            for name in prog["fetch"]:
                _fetchable(tf, name, env.names[name], fetch)
            res["dtypes"] = {k: t.dtype.base_dtype.name for k, t in fetch.items()}
            res["shapes"] = {k: _shape(t) for k, t in fetch.items()}
            if prog["area"] == "scope":
                res["names"] = {k: t.name for k, t in fetch.items()}
            grads: dict[str, Any] = {}
            none_grads: list[str] = []
            for yname, xnames in prog.get("grad", []):
                ys = {}
                _fetchable(tf, yname, env.names[yname], ys)
                ys = [t for t in ys.values() if t.dtype.base_dtype.is_floating]
                if not ys:
                    continue
                loss = (
                    tf.add_n([_loss_of(tf, y) for y in ys]) if len(ys) > 1 else _loss_of(tf, ys[0])
                )
                xs = [env.names[x] for x in xnames]
                for x, g in zip(xnames, tf.gradients(loss, xs)):
                    key = f"d{yname}/d{x}"
                    if g is None:
                        none_grads.append(key)
                    else:
                        grads[key] = g
            res["none_grads"] = sorted(none_grads)
            train_ops = []
            if kind == "optim":
                opt_spec = prog["optimizer"]
                opt = env.fn(opt_spec["fn"])(**env.resolve(opt_spec.get("kwargs", {})))
                loss_t = env.names[prog["loss"]]
                train_ops.append(opt.minimize(loss_t))
            stage = "run"
            with tf.Session(graph=graph) as sess:
                res["variables"] = _init_variables(tf, sess)
                for _ in range(prog.get("steps", 0)):
                    sess.run(train_ops, feed_dict=env.feed)
                out = sess.run({**fetch, **{"grad:" + k: g for k, g in grads.items()}},
                               feed_dict=env.feed)  # fmt: skip
                if kind == "optim":
                    for v in tf.global_variables():
                        out["var:" + v.name] = sess.run(v)
            for k, v in out.items():
                res["kinds"][k], res["values"][k] = _to_np(v)
    except Exception as e:  # noqa: BLE001 - the exception's kind is the result
        res["error"] = _err(e)
        res["stage"] = stage
        res["message"] = str(e).splitlines()[0][:300] if str(e) else ""
        res["values"] = {}
    return res


def _run_saver(tf: Any, prog: dict, workdir: str | None, res: dict) -> dict:
    """Save the program's variables (``mode == "write"``) or restore them from a checkpoint another
    side wrote (``mode == "read"``)."""
    assert workdir is not None
    mode, stage = prog["mode"], "build"
    try:
        variables = []
        for spec in prog["inputs"]:
            scope = spec.get("scope")
            shape, dtype = spec["shape"], spec["dtype"]
            init = tf.zeros_initializer() if dtype.startswith("float") else None
            if scope:
                with tf.variable_scope(scope):
                    v = tf.get_variable(spec["name"], shape, getattr(tf, dtype), initializer=init)
            else:
                v = tf.get_variable(spec["name"], shape, getattr(tf, dtype), initializer=init)
            variables.append(v)
        saver = tf.train.Saver()
        stage = "run"
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            if mode == "write":
                for v in variables:
                    shape = [int(d) for d in v.shape.as_list()]
                    v.load(var_value(v.name, shape, v.dtype.base_dtype.name), sess)
                saver.save(sess, os.path.join(workdir, prog["path"]))
            else:
                saver.restore(sess, os.path.join(workdir, prog["path"]))
            for v in variables:
                res["values"]["var:" + v.name] = np.asarray(sess.run(v))
                res["kinds"]["var:" + v.name] = "array"
        res["variables"] = [[v.name, [int(d) for d in v.shape.as_list()],
                             v.dtype.base_dtype.name] for v in variables]  # fmt: skip
    except Exception as e:  # noqa: BLE001
        res["error"] = _err(e)
        res["stage"] = stage
        res["message"] = str(e).splitlines()[0][:300] if str(e) else ""
        res["values"] = {}
    return res


def as_tf1(prog: dict) -> str:
    """The program as a few lines of TF1 (for a mismatch report)."""
    lines = ["import tensorflow.compat.v1 as tf", "tf.disable_v2_behavior()"]
    if prog["kind"] == "saver":
        for spec in prog["inputs"]:
            s = f"tf.get_variable({spec['name']!r}, {spec['shape']}, tf.{spec['dtype']})"
            if spec.get("scope"):
                s = f"with tf.variable_scope({spec['scope']!r}): {s}"
            lines.append(s)
        lines.append(f"saver = tf.train.Saver()  # then {prog['mode']} {prog['path']!r}")
        return "\n".join(lines)

    def fmt(a: Any) -> str:
        if isinstance(a, dict) and "ref" in a:
            return a["ref"] + (f"[{a['index']}]" if "index" in a else "")
        if isinstance(a, dict) and "tf_dtype" in a:
            return f"tf.{a['tf_dtype']}"
        if isinstance(a, dict) and "value" in a:
            return f"np.array({a['value']!r}, {a['dtype']!r})"
        if isinstance(a, list):
            return "[" + ", ".join(fmt(x) for x in a) + "]"
        if isinstance(a, dict):
            return "{" + ", ".join(f"{k!r}: {fmt(v)}" for k, v in a.items()) + "}"
        return repr(a)

    for spec in prog.get("inputs", []):
        value = np.asarray(spec["value"]).tolist()
        if spec["kind"] == "placeholder":
            lines.append(f"{spec['name']} = tf.placeholder(tf.{spec['dtype']}, {spec['shape']})"
                         f"  # fed {value}")  # fmt: skip
        elif spec["kind"] == "const":
            lines.append(f"{spec['name']} = tf.constant({value}, tf.{spec['dtype']})")
        else:
            lines.append(f"{spec['name']} = tf.Variable({value}, dtype=tf.{spec['dtype']})")
    for op in prog["ops"]:
        args = [fmt(a) for a in op.get("args", [])]
        args += [f"{k}={fmt(v)}" for k, v in op.get("kwargs", {}).items()]
        call = f"{op['out']} = tf.{op['fn']}({', '.join(args)})"
        if op.get("scope"):
            call = f"with tf.variable_scope({op['scope']!r}): {call}"
        lines.append(call)
    if prog["kind"] == "optim":
        o = prog["optimizer"]
        kw = ", ".join(f"{k}={fmt(v)}" for k, v in o.get("kwargs", {}).items())
        lines.append(f"step = tf.{o['fn']}({kw}).minimize({prog['loss']})  # x{prog['steps']}")
    for y, xs in prog.get("grad", []):
        lines.append(f"tf.gradients(tf.reduce_sum(tf.square({y}) * 0.5 + {y}), [{', '.join(xs)}])")
    lines.append(f"sess.run([{', '.join(prog['fetch'])}])")
    return "\n".join(lines)


def compare(rk: dict, tf: dict) -> list[str]:
    """The differences between rnnkit's result ``rk`` and TensorFlow's ``tf`` (empty: agree)."""
    if tf["error"] or rk["error"]:
        if (tf["error"], tf["stage"]) != (rk["error"], rk["stage"]):
            return [f"error: tf {tf['error']} at {tf['stage']} ({tf.get('message', '')!r}) vs "
                    f"rnnkit {rk['error']} at {rk['stage']} ({rk.get('message', '')!r})"]  # fmt: skip
        return []
    out = []
    for key in ("dtypes", "shapes", "none_grads", "variables", "names"):
        if key in tf and tf.get(key) != rk.get(key):
            out.append(f"{key}: tf {tf.get(key)} vs rnnkit {rk.get(key)}")
    if tf["kinds"] != rk["kinds"]:
        diff = {k: (tf["kinds"].get(k), rk["kinds"].get(k))
                for k in set(tf["kinds"]) | set(rk["kinds"])
                if tf["kinds"].get(k) != rk["kinds"].get(k)}  # fmt: skip
        out.append(f"fetched kinds (tf, rnnkit): {diff}")
    for k, a in tf["values"].items():
        b = rk["values"].get(k)
        if b is None:
            continue
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype != b.dtype or a.shape != b.shape:
            out.append(f"{k}: tf {a.dtype}{list(a.shape)} vs rnnkit {b.dtype}{list(b.shape)}")
            continue
        if a.dtype.kind in "fc":
            tol = GRAD_TOL if k.startswith("grad:") else VALUE_TOL
            if not np.allclose(a, b, rtol=tol, atol=tol, equal_nan=True):
                out.append(f"{k}: tf {a.tolist()} vs rnnkit {b.tolist()}")
        elif not np.array_equal(a, b):
            out.append(f"{k}: tf {a.tolist()} vs rnnkit {b.tolist()}")
    return out
