"""Random small TF1 programs, one per seed: ``program(seed) -> dict`` (the format of ``interp.py``).

Values are drawn on a grid (multiples of 1/4 or 1/2, or integers) half of the time, so exact zeros,
ties between inputs and values at clip bounds and kinks (0, 6, +-1) come up often; the other half
are continuous. Static shapes of placeholders hide some dimensions (``None``) or the rank. A part of
the programs are built to be refused (static or run-time shape mismatches, dtypes, bad arguments).
"""

from __future__ import annotations

from typing import Any

import numpy as np

AREAS = ("math", "reduce", "array", "nn", "losses", "layers", "rnn", "optim", "saver", "scope",
         "reject")  # fmt: skip

R = lambda name: {"ref": name}  # noqa: E731
D = lambda name: {"tf_dtype": name}  # noqa: E731


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rs = np.random.RandomState(seed)
        self.seed = seed
        self.inputs: list[dict] = []
        self.ops: list[dict] = []
        self.grid = self.rs.choice([0.0, 0.25, 0.5, 1.0], p=[0.5, 0.2, 0.2, 0.1])

    def choice(self, seq: Any) -> Any:
        return seq[self.rs.randint(len(seq))]

    def coin(self, p: float = 0.5) -> bool:
        return bool(self.rs.rand() < p)

    def shape(self, rank: int | None = None, lo: int = 1, hi: int = 4) -> list[int]:
        r = self.rs.randint(0, 4) if rank is None else rank
        return [int(self.rs.randint(lo, hi + 1)) for _ in range(r)]

    def values(self, shape: list[int], dtype: str, kind: str = "any") -> np.ndarray:
        rs = self.rs
        if dtype == "bool":
            return rs.rand(*shape) < 0.5
        if dtype.startswith("int"):
            lo, hi = (1, 6) if kind == "pos" else (-5, 6)
            return rs.randint(lo, hi, size=shape).astype(dtype)
        if self.grid:
            v = rs.randint(-8, 9, size=shape) * self.grid
            if self.coin(0.2):
                v = rs.randint(-2, 30, size=shape) * 0.25  # reaches relu6's bound
        else:
            v = rs.normal(size=shape) * self.choice([0.5, 1.0, 3.0])
        v = np.asarray(v, dtype=np.float64)
        if kind == "pos":
            v = np.abs(v) + (0.25 if self.grid else 0.1)
        elif kind == "nonzero":
            v = np.where(v == 0, 0.5, v)
        elif kind == "gt-1":
            v = np.maximum(v, -0.75)
        elif kind == "unit":
            v = np.clip(np.abs(v) / (np.abs(v).max() + 1), 0.05, 0.95) if v.size else v
        return v.astype(dtype)

    def static(self, shape: list[int], p_none: float = 0.3) -> Any:
        if self.coin(0.1):
            return None
        return [None if self.coin(p_none) else d for d in shape]

    def input(self, shape: list[int], dtype: str = "float32", kind: str = "any",
              how: str | None = None, value: Any = None) -> dict:  # fmt: skip
        name = f"x{len(self.inputs)}"
        how = how or self.choice(["placeholder", "placeholder", "const"])
        v = self.values(shape, dtype, kind) if value is None else np.asarray(value, dtype=dtype)
        spec = {"name": name, "kind": how, "dtype": dtype, "value": v.tolist()}
        spec["shape"] = self.static(shape) if how == "placeholder" else list(shape)
        self.inputs.append(spec)
        return R(name)

    def op(self, fn: str, *args: Any, **kwargs: Any) -> dict:
        name = f"y{len(self.ops)}"
        self.ops.append({"fn": fn, "args": list(args), "kwargs": kwargs, "out": name})
        return R(name)

    def float_inputs(self) -> list[str]:
        return [s["name"] for s in self.inputs if s["dtype"].startswith("float")]

    def prog(self, area: str, kind: str = "expr", fetch: Any = None, grad: bool = True,
             **extra: Any) -> dict:  # fmt: skip
        fetch = fetch or [self.ops[-1]["out"]]
        p = {"seed": self.seed, "area": area, "kind": kind, "inputs": self.inputs, "ops": self.ops,
             "fetch": fetch, "grad": []}  # fmt: skip
        xs = self.float_inputs()
        if grad and xs:
            p["grad"] = [[f, xs] for f in fetch]
        p.update(extra)
        return p

    def bcast_pair(self) -> tuple[list[int], list[int]]:
        a = self.shape()
        b = [1 if self.coin(0.3) else d for d in a][self.rs.randint(0, len(a) + 1) :]
        return (a, b) if self.coin() else (b, a)


def _float_dtype(g: _Gen) -> str:
    return "float64" if g.coin(0.2) else "float32"


UNARY = [("tanh", "any"), ("sigmoid", "any"), ("exp", "any"), ("log", "pos"), ("sqrt", "pos"),
         ("rsqrt", "pos"), ("square", "any"), ("abs", "any"), ("negative", "any"), ("sign", "any"),
         ("floor", "any"), ("ceil", "any"), ("round", "any"), ("reciprocal", "nonzero"),
         ("log1p", "gt-1"), ("sin", "any"), ("cos", "any"), ("nn.relu", "any"),
         ("nn.relu6", "any"), ("nn.elu", "any"), ("nn.selu", "any"), ("nn.softplus", "any"),
         ("nn.leaky_relu", "any"), ("nn.sigmoid", "any"), ("nn.tanh", "any")]  # fmt: skip
# unary ops whose float32 results can be large (so one ulp of them is large)
LARGE_OUTPUTS = {"exp", "reciprocal", "rsqrt", "square"}
BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "squared_difference",
          "pow", "floordiv", "mod", "equal", "not_equal", "greater", "greater_equal", "less",
          "less_equal"]  # fmt: skip


def gen_math(g: _Gen) -> dict:
    dt = _float_dtype(g)
    r = g.rs.rand()
    if r < 0.4:
        fn, kind = g.choice(UNARY)
        x = g.input(g.shape(), dt, kind)
        y = g.op(fn, x)
        if g.coin(0.3):
            then = g.choice(["tanh", "square", "sin"])
            if then == "sin" and fn in LARGE_OUTPUTS:
                # sin near |y| = 1000 turns one ulp of y (TF's float32 exp and torch's differ by one
                # on some inputs) into 6e-5: the comparison would test the two libraries' exp
                then = "tanh"
            y = g.op(then, y)
        return g.prog("math")
    if r < 0.8:
        fn = g.choice(BINARY)
        a, b = g.bcast_pair()
        if fn in ("floordiv", "mod") and g.coin():
            dt = g.choice(["int32", "int64"])
        kb = "nonzero" if fn in ("divide", "floordiv", "mod") else "any"
        ka = "pos" if fn == "pos" else "any"
        if fn == "pow":
            ka, kb = "pos", "any"
        x = g.input(a, dt, ka)
        if (
            fn in ("maximum", "minimum", "squared_difference", "equal", "greater_equal")
            and g.coin()
            and a == b
        ):
            y = g.input(b, dt, value=np.where(g.rs.rand(*b) < 0.5, g.values(b, dt),
                                              np.asarray(g.inputs[-1]["value"])))  # fmt: skip
        elif g.coin(0.2):
            y = (
                float(g.values([], "float64", kb))
                if dt.startswith("float")
                else int(g.values([], dt, "pos"))
            )
        else:
            y = g.input(b, dt, kb)
        if fn == "pow" and isinstance(y, float):
            y = float(np.round(y))
        g.op(fn, x, y)
        return g.prog("math")
    if r < 0.9:
        lo = float(g.values([], "float64"))
        hi = lo + abs(float(g.values([], "float64")))
        x = g.input(g.shape(), dt)
        g.op("clip_by_value", x, lo, hi)
        return g.prog("math")
    # matmul, maybe batched and transposed
    m, k, n = g.shape(3)
    ta, tb = g.coin(0.3), g.coin(0.3)
    batch = g.shape(g.rs.randint(0, 2))
    a = batch + ([k, m] if ta else [m, k])
    b = batch + ([n, k] if tb else [k, n])
    g.op("matmul", g.input(a, dt), g.input(b, dt), transpose_a=ta, transpose_b=tb)
    return g.prog("math")


def gen_reduce(g: _Gen) -> dict:
    fn = g.choice(["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
                   "reduce_any", "reduce_all", "reduce_logsumexp", "argmax", "argmin"])  # fmt: skip
    shape = g.shape(g.rs.randint(1, 4))
    rank = len(shape)
    if fn in ("reduce_any", "reduce_all"):
        dt = "bool"
    elif fn == "reduce_logsumexp":
        dt = _float_dtype(g)
    else:
        dt = g.choice(["float32", "float32", "float64", "int32", "int64"])
    x = g.input(shape, dt)
    if fn in ("argmax", "argmin"):
        kw = {"axis": int(g.rs.randint(-rank, rank))}
        if g.coin(0.3):
            kw["output_type"] = D("int32")
        g.op(fn, x, **kw)
        return g.prog("reduce")
    r = g.rs.rand()
    kw: dict[str, Any] = {}
    if r < 0.25:
        pass
    elif r < 0.55:
        kw["axis"] = int(g.rs.randint(-rank, rank))
    else:
        k = g.rs.randint(1, rank + 1)
        kw["axis"] = [int(a) - (rank if g.coin(0.3) else 0)
                      for a in g.rs.choice(rank, k, replace=False)]  # fmt: skip
    if g.coin():
        kw["keepdims"] = g.coin()
    g.op(fn, x, **kw)
    return g.prog("reduce")


def gen_array(g: _Gen) -> dict:
    dt = g.choice(["float32", "float32", "float64", "int32"])
    fn = g.choice(["reshape", "transpose", "concat", "stack", "unstack", "split", "squeeze",
                   "expand_dims", "tile", "gather", "one_hot", "where", "reverse", "pad",
                   "sequence_mask", "zeros_like", "ones_like", "shape", "size", "rank", "range",
                   "fill", "identity", "stop_gradient", "strided_slice"])  # fmt: skip
    shape = g.shape(g.rs.randint(1, 4))
    rank = len(shape)
    if fn == "reshape":
        x = g.input(shape, dt)
        target = [int(np.prod(shape))]
        if g.coin():
            target = [-1] + shape[1:] if g.coin() else shape[::-1]
        g.op("reshape", x, target)
    elif fn == "transpose":
        g.op("transpose", g.input(shape, dt), [int(i) for i in g.rs.permutation(rank)])
    elif fn in ("concat", "stack"):
        ax = (
            int(g.rs.randint(-rank, rank))
            if fn == "concat"
            else int(g.rs.randint(-rank - 1, rank + 1))
        )
        parts = []
        for _ in range(g.rs.randint(1, 4)):
            s = list(shape)
            if fn == "concat":
                s[ax] = int(g.rs.randint(1, 4))
            parts.append(g.input(s, dt))
        g.op(fn, parts, ax)
    elif fn == "unstack":
        ax = int(g.rs.randint(-rank, rank))
        kw = {"num": shape[ax]} if g.coin() else {}
        g.op("unstack", g.input(shape, dt), axis=ax, **kw)
    elif fn == "split":
        ax = int(g.rs.randint(-rank, rank))
        n = shape[ax]
        if g.coin():
            k = g.choice([d for d in range(1, n + 1) if n % d == 0])
            g.op("split", g.input(shape, dt), k, axis=ax)
        else:
            cut = int(g.rs.randint(0, n + 1))
            sizes = [cut, n - cut] if g.coin() else [cut, -1]
            g.op("split", g.input(shape, dt), sizes, axis=ax)
    elif fn == "squeeze":
        s = [1 if g.coin(0.4) else d for d in shape]
        ones = [i for i, d in enumerate(s) if d == 1]
        kw = {"axis": [int(i) for i in ones if g.coin()]} if ones and g.coin() else {}
        g.op("squeeze", g.input(s, dt), **kw)
    elif fn == "expand_dims":
        g.op("expand_dims", g.input(shape, dt), int(g.rs.randint(-rank - 1, rank + 1)))
    elif fn == "tile":
        g.op("tile", g.input(shape, dt), [int(g.rs.randint(1, 3)) for _ in shape])
    elif fn == "gather":
        ax = int(g.rs.randint(0, rank))
        idx = g.input(
            g.shape(g.rs.randint(0, 3)),
            "int32",
            value=g.rs.randint(0, shape[ax], size=g.shape(g.rs.randint(0, 3))),
        )
        g.inputs[-1]["shape"] = None if g.coin(0.2) else list(np.asarray(
            g.inputs[-1]["value"]).shape)  # fmt: skip
        kw = {"axis": ax} if ax else {}
        g.op("gather", g.input(shape, dt), idx, **kw)
    elif fn == "one_hot":
        depth = int(g.rs.randint(1, 5))
        s = g.shape(g.rs.randint(0, 3))
        idx = g.input(s, g.choice(["int32", "int64"]),
                      value=g.rs.randint(-1, depth + 1, size=s))  # fmt: skip
        kw: dict[str, Any] = {}
        if g.coin():
            kw["axis"] = int(g.rs.randint(-1, len(s) + 1))
        if g.coin():
            kw["on_value"], kw["off_value"] = 2.0, -1.0
        g.op("one_hot", idx, depth, **kw)
    elif fn == "where":
        if g.coin(0.3):
            g.op("where", g.input(shape, "bool"))
        else:
            cs = shape if g.coin() else shape[:1]
            g.op("where", g.input(cs, "bool"), g.input(shape, dt), g.input(shape, dt))
    elif fn == "reverse":
        axes = [int(a) for a in g.rs.choice(rank, g.rs.randint(1, rank + 1), replace=False)]
        g.op("reverse", g.input(shape, dt), axes)
    elif fn == "pad":
        mode = g.choice(["CONSTANT", "REFLECT", "SYMMETRIC", "constant", "reflect"])
        lim = (
            (lambda d: d - 1)
            if mode.upper() == "REFLECT"
            else ((lambda d: d) if mode.upper() == "SYMMETRIC" else (lambda d: 2))
        )
        pads = [[int(g.rs.randint(0, lim(d) + 1)), int(g.rs.randint(0, lim(d) + 1))]
                for d in shape]  # fmt: skip
        kw = {"mode": mode}
        if mode.upper() == "CONSTANT" and g.coin(0.3):
            kw["constant_values"] = 1
        g.op("pad", g.input(shape, dt), pads, **kw)
    elif fn == "sequence_mask":
        s = g.shape(g.rs.randint(0, 3))
        lens = g.input(s, "int32", value=g.rs.randint(0, 5, size=s))
        kw = {"maxlen": int(g.rs.randint(0, 6))} if g.coin() else {}
        if g.coin(0.3):
            kw["dtype"] = D("float32")
        g.op("sequence_mask", lens, **kw)
    elif fn in ("zeros_like", "ones_like", "shape", "size", "rank", "identity", "stop_gradient"):
        g.op(fn, g.input(shape, dt))
    elif fn == "range":
        start = int(g.rs.randint(-3, 3))
        limit = start + int(g.rs.randint(0, 8))
        delta = int(g.rs.randint(1, 4))
        if g.coin(0.3):
            g.op("range", float(start), float(limit), delta * 0.5)
        else:
            g.op("range", start, limit, delta)
    elif fn == "fill":
        g.op("fill", shape, float(g.values([], "float64")) if g.coin() else 3)
    else:  # strided_slice
        begin = [int(g.rs.randint(0, d)) for d in shape]
        end = [int(g.rs.randint(b + 1, d + 1)) for b, d in zip(begin, shape)]
        g.op("strided_slice", g.input(shape, dt), begin, end)
    return g.prog("array")


def gen_nn(g: _Gen) -> dict:
    dt = _float_dtype(g)
    fn = g.choice(["softmax", "log_softmax", "sigmoid_ce", "softmax_ce", "softmax_ce_v2",
                   "sparse_ce", "l2_loss", "in_top_k", "bias_add", "xw_plus_b",
                   "embedding_lookup", "clip_by_norm", "global_norm", "clip_by_global_norm"])  # fmt: skip
    b, c = g.shape(2)
    c = max(c, 2)
    if fn in ("softmax", "log_softmax"):
        shape = g.shape(g.rs.randint(1, 4))
        kw = {"axis": int(g.rs.randint(-len(shape), len(shape)))} if g.coin() else {}
        g.op("nn." + fn, g.input(shape, dt), **kw)
    elif fn == "sigmoid_ce":
        shape = g.shape(g.rs.randint(1, 3))
        logits = g.input(shape, dt, value=g.values(shape, dt) * (0 if g.coin(0.3) else 1))
        labels = g.input(shape, dt, value=g.rs.randint(0, 2, size=shape) * (
            1.0 if g.coin() else g.rs.rand()))  # fmt: skip
        g.op("nn.sigmoid_cross_entropy_with_logits", labels=labels, logits=logits)
    elif fn in ("softmax_ce", "softmax_ce_v2"):
        lab = g.rs.rand(b, c)
        if g.coin():
            lab = lab / lab.sum(1, keepdims=True)
        if g.coin(0.3):
            lab = np.eye(c)[g.rs.randint(0, c, b)]
        name = "nn.softmax_cross_entropy_with_logits" + ("_v2" if fn.endswith("v2") else "")
        g.op(name, labels=g.input([b, c], dt, value=lab), logits=g.input([b, c], dt))
    elif fn == "sparse_ce":
        labels = g.input([b], g.choice(["int32", "int64"]), value=g.rs.randint(0, c, b))
        g.op("nn.sparse_softmax_cross_entropy_with_logits", labels=labels,
             logits=g.input([b, c], dt))  # fmt: skip
    elif fn == "l2_loss":
        g.op("nn.l2_loss", g.input(g.shape(), dt))
    elif fn == "in_top_k":
        targets = g.input([b], "int32", value=g.rs.randint(0, c + (1 if g.coin(0.2) else 0), b))
        g.op("nn.in_top_k", g.input([b, c], "float32"), targets, int(g.rs.randint(1, c + 1)))
        return g.prog("nn", grad=False)
    elif fn == "bias_add":
        shape = g.shape(g.rs.randint(2, 4))
        g.op("nn.bias_add", g.input(shape, dt), g.input([shape[-1]], dt))
    elif fn == "xw_plus_b":
        n = int(g.rs.randint(1, 4))
        g.op("nn.xw_plus_b", g.input([b, c], dt), g.input([c, n], dt), g.input([n], dt))
    elif fn == "embedding_lookup":
        v, d = int(g.rs.randint(2, 6)), int(g.rs.randint(1, 4))
        s = g.shape(g.rs.randint(1, 3))
        params = g.input([v, d], dt, how=g.choice(["const", "variable"]))
        ids = g.input(s, "int32", value=g.rs.randint(0, v, size=s))
        g.op("nn.embedding_lookup", params, ids)
    elif fn == "clip_by_norm":
        shape = g.shape(g.rs.randint(1, 3))
        val = g.values(shape, dt) * (0 if g.coin(0.3) else 1)
        kw = {"axes": [int(g.rs.randint(0, len(shape)))]} if g.coin(0.3) else {}
        g.op("clip_by_norm", g.input(shape, dt, value=val), float(g.rs.choice([0.5, 1.0, 4.0])),
             **kw)  # fmt: skip
    elif fn == "global_norm":
        g.op("global_norm", [g.input(g.shape(), dt) for _ in range(g.rs.randint(1, 3))])
    else:
        ts = []
        for _ in range(g.rs.randint(1, 3)):
            s = g.shape()
            ts.append(g.input(s, dt, value=g.values(s, dt) * (0 if g.coin(0.2) else 1)))
        y = g.op("clip_by_global_norm", ts, float(g.rs.choice([0.5, 1.0, 4.0])))
        g.op("identity", {"ref": y["ref"], "index": 0})
        return g.prog("nn", fetch=[y["ref"]])
    return g.prog("nn")


def gen_losses(g: _Gen) -> dict:
    dt = "float32"
    fn = g.choice(["mean_squared_error", "absolute_difference", "log_loss", "sigmoid_cross_entropy",
                   "softmax_cross_entropy", "sparse_softmax_cross_entropy"])  # fmt: skip
    b, c = g.shape(2)
    c = max(c, 2)
    kw: dict[str, Any] = {}
    if fn in ("mean_squared_error", "absolute_difference", "log_loss"):
        shape = [b, c] if g.coin() else [b]
        pk = "unit" if fn == "log_loss" else "any"
        pred = g.input(shape, dt, pk)
        lab = g.input(shape, dt, "unit" if fn == "log_loss" else "any")
        kw = {"labels": lab, "predictions": pred}
        wshape = [b, 1] if len(shape) == 2 and g.coin() else shape
    elif fn == "sigmoid_cross_entropy":
        kw = {"multi_class_labels": g.input([b, c], dt, value=g.rs.randint(0, 2, (b, c))),
              "logits": g.input([b, c], dt)}  # fmt: skip
        wshape = [b, c]
        if g.coin(0.3):
            kw["label_smoothing"] = 0.1
    elif fn == "softmax_cross_entropy":
        kw = {"onehot_labels": g.input([b, c], dt, value=np.eye(c)[g.rs.randint(0, c, b)]),
              "logits": g.input([b, c], dt)}  # fmt: skip
        wshape = [b]
        if g.coin(0.3):
            kw["label_smoothing"] = 0.2
    else:
        kw = {"labels": g.input([b], "int32", value=g.rs.randint(0, c, b)),
              "logits": g.input([b, c], dt)}  # fmt: skip
        wshape = [b]
    if g.coin(0.5):
        w = g.rs.randint(0, 3, size=wshape).astype(float)
        kw["weights"] = g.input(wshape, dt, value=w, how="const") if g.coin() else 2.0
    if g.coin(0.5):
        kw["reduction"] = g.choice(["none", "weighted_sum", "weighted_mean",
                                    "weighted_sum_over_batch_size",
                                    "weighted_sum_by_nonzero_weights"])  # fmt: skip
    g.op("losses." + fn, **kw)
    return g.prog("losses")


def gen_layers(g: _Gen) -> dict:
    dt = "float32"
    b, i = g.shape(2)
    x = g.input([b, i], dt)
    kw: dict[str, Any] = {"units": int(g.rs.randint(1, 4))}
    if g.coin():
        kw["use_bias"] = g.coin()
    if g.coin():
        kw["name"] = g.choice(["dense", "out", "hidden"])
    y = g.op("layers.dense", x, **kw)
    if g.coin(0.3):
        y = g.op("layers.dense", y, units=2)
    if g.coin(0.3):
        g.op("layers.dropout", y, rate=0.5, training=False)
    return g.prog("layers", compare_names=True)


CELLS = ["BasicRNNCell", "GRUCell", "BasicLSTMCell", "LSTMCell"]


def gen_rnn(g: _Gen) -> dict:
    dt = _float_dtype(g)
    b, t, i = int(g.rs.randint(1, 4)), int(g.rs.randint(1, 5)), int(g.rs.randint(1, 4))
    units = int(g.rs.randint(1, 4))
    cell = g.choice(CELLS)
    ckw: dict[str, Any] = {"num_units": units}
    if cell == "LSTMCell" and g.coin(0.3):
        ckw["use_peepholes"] = True
    if cell in ("BasicLSTMCell", "LSTMCell") and g.coin(0.3):
        ckw["forget_bias"] = 0.5
    c = g.op("nn.rnn_cell." + cell, **ckw)
    runner = g.choice(["dynamic", "dynamic", "static", "call"])
    time_major = runner == "dynamic" and g.coin(0.3)
    if runner == "call":  # one step, the cell called at the top level
        x = g.input([b, i], dt)
        if cell in ("BasicRNNCell", "GRUCell"):
            st = g.input([b, units], dt)
        else:
            n_h = ckw.get("num_proj", units)
            st = g.op("nn.rnn_cell.LSTMStateTuple", g.input([b, units], dt), g.input([b, n_h], dt))
        y = g.op("__call__", c, x, st)
        return g.prog("rnn", fetch=[y["ref"]], compare_names=True)
    x = g.input([t, b, i] if time_major else [b, t, i], dt)
    if g.inputs[-1]["kind"] == "placeholder":  # the input depth must be static (TF and rnnkit)
        g.inputs[-1]["shape"] = [*(g.inputs[-1]["shape"] or [None, None, None])[:2], i]
    kw: dict[str, Any] = {}
    if g.coin():
        kw["sequence_length"] = g.input([b], g.choice(["int32", "int64"]),
                                        value=g.rs.randint(0, t + 1, b))  # fmt: skip
    if runner == "static":
        xs = g.op("unstack", x, axis=1)
        y = g.op("nn.static_rnn", c, xs, dtype=D(dt), **kw)
    else:
        if cell in ("BasicRNNCell", "GRUCell") and g.coin(0.3):
            kw["initial_state"] = g.input([b, units], dt)
        if "initial_state" not in kw or g.coin():
            kw["dtype"] = D(dt)
        if time_major:
            kw["time_major"] = True
        y = g.op("nn.dynamic_rnn", c, x, **kw)
    if g.coin(0.3):
        g.ops[-1]["scope"] = g.choice(["enc", "rnn_a"])
    return g.prog("rnn", fetch=[y["ref"]], compare_names=True)


OPTS = [("train.GradientDescentOptimizer", {"learning_rate": 0.1}),
        ("train.MomentumOptimizer", {"learning_rate": 0.1, "momentum": 0.9}),
        ("train.MomentumOptimizer", {"learning_rate": 0.1, "momentum": 0.5, "use_nesterov": True}),
        ("train.AdamOptimizer", {"learning_rate": 0.05}),
        ("train.AdagradOptimizer", {"learning_rate": 0.1}),
        ("train.RMSPropOptimizer", {"learning_rate": 0.01}),
        ("train.RMSPropOptimizer", {"learning_rate": 0.01, "momentum": 0.5, "centered": True})]  # fmt: skip


def gen_optim(g: _Gen) -> dict:
    dt = _float_dtype(g)
    b, i, o = g.shape(3)
    # inputs scaled down: tanh saturates past |x| ~ 5, where 1 - tanh(x)^2 has float32 relative
    # errors of 1e-3 and more in both frameworks (and Adam divides them out)
    x = g.input([b, i], dt, how="const", value=g.values([b, i], dt) * 0.1)
    w = g.input([i, o], dt, how="variable", value=g.values([i, o], dt) * 0.1)
    tgt = g.input([b, o], dt, how="const")
    y = g.op("matmul", x, w)
    if g.coin():
        y = g.op("tanh", y)
    loss = g.op("reduce_mean", g.op("squared_difference", y, tgt))
    fn, kw = OPTS[g.rs.randint(len(OPTS))]
    return g.prog("optim", kind="optim", fetch=[loss["ref"]], grad=False,
                  optimizer={"fn": fn, "kwargs": kw}, loss=loss["ref"],
                  steps=int(g.rs.randint(1, 4)), compare_names=True)  # fmt: skip


def gen_saver(g: _Gen) -> dict:
    specs = []
    for k in range(g.rs.randint(1, 4)):
        spec = {"name": f"v{k}", "shape": g.shape(), "dtype": g.choice(
            ["float32", "float32", "float64", "int32", "int64"])}  # fmt: skip
        if g.coin():
            spec["scope"] = g.choice(["a", "b/c", "layer"])
        specs.append(spec)
    return {"seed": g.seed, "area": "saver", "kind": "saver", "inputs": specs,
            "path": f"ckpt_{g.seed}/model"}  # fmt: skip


def gen_scope(g: _Gen) -> dict:
    dt = "float32"
    x = g.input([2, 3], dt, how="const")
    for k in range(g.rs.randint(1, 3)):
        scope = g.choice(["s", "t", "s/u"])
        g.op("get_variable", f"w{k}", [3, 2], dtype=D(dt))
        g.ops[-1]["scope"] = scope
        if g.coin(0.3):
            g.op("identity", R(g.ops[-1]["out"]), name=g.choice(["out", "w0"]))
    if g.coin():
        g.op("layers.dense", x, units=2)
    if g.coin():
        cell = g.choice(CELLS)
        c = g.op("nn.rnn_cell." + cell, num_units=2)
        xt = g.input([2, 2, 3], dt, how="const")
        g.op("nn.dynamic_rnn", c, xt, dtype=D(dt))
        if g.coin():
            g.ops[-1]["scope"] = g.choice(["enc", "s"])
    fetch = [o["out"] for o in g.ops if o["fn"] in ("get_variable", "layers.dense", "identity")]
    return g.prog("scope", fetch=fetch or [g.ops[-1]["out"]], grad=False, compare_names=True)


def gen_reject(g: _Gen) -> dict:
    dt = "float32"
    r = g.rs.randint(0, 12)
    if r == 0:  # static broadcast mismatch
        g.op("add", g.input([2, 3], dt, how="const"), g.input([4], dt, how="const"))
    elif r == 1:  # run-time broadcast mismatch
        a = g.input([3], dt, how="placeholder")
        g.inputs[-1]["shape"] = [None]
        b = g.input([4], dt, how="placeholder")
        g.inputs[-1]["shape"] = [None]
        g.op(g.choice(["add", "multiply", "maximum"]), a, b)
    elif r == 2:  # matmul inner dims at run time
        a = g.input([2, 3], dt, how="placeholder")
        g.inputs[-1]["shape"] = [None, None]
        b = g.input([4, 2], dt, how="placeholder")
        g.inputs[-1]["shape"] = [None, None]
        g.op("matmul", a, b)
    elif r == 3:  # dtypes
        g.op("add", g.input([2], dt), g.input([2], "int32"))
    elif r == 4:  # concat at run time
        a = g.input([2, 3], dt, how="placeholder")
        g.inputs[-1]["shape"] = [None, None]
        g.op("concat", [a, g.input([3, 2], dt, how="const")], 0)
    elif r == 5:  # reshape to a wrong size at run time
        a = g.input([2, 3], dt, how="placeholder")
        g.inputs[-1]["shape"] = None
        g.op("reshape", a, [4, -1])
    elif r == 6:  # gather out of range
        g.op("gather", g.input([3, 2], dt, how="const"), g.input([2], "int32", value=[0, 5]))
    elif r == 7:  # squeeze of a dimension that is not 1 at run time
        a = g.input([2, 3], dt, how="placeholder")
        g.inputs[-1]["shape"] = [None, None]
        g.op("squeeze", a, axis=[0])
    elif r == 8:  # split not dividing at run time
        a = g.input([5, 2], dt, how="placeholder")
        g.inputs[-1]["shape"] = [None, 2]
        g.op("split", a, 2, axis=0)
    elif r == 9:  # unstack num not matching
        a = g.input([3, 2], dt, how="placeholder")
        g.inputs[-1]["shape"] = [None, 2]
        g.op("unstack", a, num=2)
    elif r == 10:  # where with mismatched shapes
        a = g.input([3], dt, how="placeholder")
        g.inputs[-1]["shape"] = [None]
        # the condition fed (a constant one lets TF's graph optimizer fold the select away)
        g.op("where", g.input([2], "bool", how="placeholder"), a, g.input([2], dt, how="const"))
    else:  # sparse labels out of range
        g.op(
            "nn.sparse_softmax_cross_entropy_with_logits",
            labels=g.input([2], "int32", value=[0, 3]),
            logits=g.input([2, 3], dt),
        )
    return g.prog("reject")


GENERATORS = {"math": gen_math, "reduce": gen_reduce, "array": gen_array, "nn": gen_nn,
              "losses": gen_losses, "layers": gen_layers, "rnn": gen_rnn, "optim": gen_optim,
              "saver": gen_saver, "scope": gen_scope, "reject": gen_reject}  # fmt: skip
WEIGHTS = {"math": 6, "reduce": 4, "array": 6, "nn": 4, "losses": 3, "layers": 1, "rnn": 2,
           "optim": 2, "saver": 1, "scope": 1, "reject": 2}  # fmt: skip


def program(seed: int, area: str | None = None) -> dict:
    """The program of ``seed`` (in ``area``, or an area drawn from the seed)."""
    g = _Gen(seed)
    if area is None:
        names = list(WEIGHTS)
        p = np.array([WEIGHTS[n] for n in names], dtype=float)
        area = names[np.random.RandomState(seed ^ 0x5EED).choice(len(names), p=p / p.sum())]
    return GENERATORS[area](g)
