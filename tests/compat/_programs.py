"""TF1 programs with control flow and ``tf.data``, written once for both TensorFlow and rnnkit.

Each function takes the ``tf`` module (TensorFlow's ``tf.compat.v1`` or ``rnnkit.compat.v1``) and
builds its graph in the default graph. ``tools/make_tf1_control_flow_fixtures.py`` runs them under
TensorFlow and records the results in ``tests/fixtures/tf1_control_flow``; the tests run them under
rnnkit and compare. No TensorFlow import here.

- ``CASES[name](tf) -> list of (label, fetches, feed_dict)``: a dict of tensors fetched, after the
  variables are initialized, once per entry in order (state carries over between entries).
- ``DATA[name](tf) -> (next_element, init_runs)``: ``init_runs`` is a list of feed dicts (None: a
  one-shot iterator, read once); for each, the initializer (``tf.get_collection("data_init")``) runs
  with that feed and the elements are read until ``OutOfRangeError``.
- ``ERRORS[name](tf)``: raises TensorFlow's error (at graph build time, or in the ``Session.run``
  the function makes).
"""

from __future__ import annotations

import collections

import numpy as np

CASES = {}
DATA = {}
ERRORS = {}

Pair = collections.namedtuple("Pair", ["first", "second"])


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def data(fn):
    DATA[fn.__name__] = fn
    return fn


def error(fn):
    ERRORS[fn.__name__] = fn
    return fn


def _x(*shape, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, shape).astype(np.float32)


# ------------------------------------------------------------------------------------------------
# control flow
# ------------------------------------------------------------------------------------------------


@case
def cond_branches(tf):
    x = tf.placeholder(tf.float32, [3])
    p = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: x * 2.0 + 1.0, lambda: tf.square(x) - x)
    (g,) = tf.gradients(tf.reduce_sum(y * y), [x])
    xv = _x(3)
    return [(str(pv), {"y": y, "g": g}, {x: xv, p: pv}) for pv in (True, False)]


@case
def cond_nested_structures(tf):
    x = tf.placeholder(tf.float32, [2, 3])
    p = tf.placeholder(tf.bool, [])
    q = tf.placeholder(tf.bool, [])
    v = tf.Variable(_x(3, seed=1), name="v")

    def true_fn():
        inner = tf.cond(q, lambda: tf.reduce_sum(x * v, 1), lambda: tf.reduce_max(x, 1))
        return {"a": inner, "b": (x + v, tf.constant(1))}

    def false_fn():
        return {"a": tf.reduce_mean(x, 1) * 3.0, "b": (tf.tanh(x), tf.constant(2))}

    out = tf.cond(p, true_fn, false_fn)
    loss = tf.reduce_sum(out["a"]) + tf.reduce_sum(out["b"][0] ** 2)
    gx, gv = tf.gradients(loss, [x, v])
    xv = _x(2, 3, seed=2)
    runs = []
    for pv, qv in ((True, True), (True, False), (False, True)):
        fetches = {"a": out["a"], "b0": out["b"][0], "b1": out["b"][1], "gx": gx, "gv": gv}
        runs.append((f"{pv}_{qv}", fetches, {x: xv, p: pv, q: qv}))
    return runs


@case
def cond_runs_only_the_taken_branch(tf):
    p = tf.placeholder(tf.bool, [])
    counter = tf.Variable(0, name="counter")
    other = tf.Variable(0, name="other")
    y = tf.cond(p, lambda: tf.assign_add(counter, 1), lambda: tf.assign_add(other, 10))
    runs = []
    for k, pv in enumerate((True, True, False, True, False)):
        runs.append((f"{k}", {"y": y}, {p: pv}))
    runs.append(("end", {"counter": counter.value(), "other": other.value()}, None))
    return runs


@case
def cond_returning_ops(tf):
    p = tf.placeholder(tf.bool, [])
    v = tf.Variable(0, name="v")
    ran = tf.cond(p, lambda: tf.assign_add(v, 1).op, lambda: tf.no_op())
    ran2, k = tf.cond(p, lambda: (tf.no_op(), tf.constant(1)), lambda: (tf.assign_add(v, 5).op, 2))
    runs = []
    for j, pv in enumerate((True, False, True)):
        runs.append((f"{j}", {"ran": ran, "ran2": ran2, "k": k}, {p: pv}))
        runs.append((f"{j}_v", {"v": v.value()}, None))
    return runs


@case
def case_ladder(tf):
    x = tf.placeholder(tf.float32, [])
    y = tf.case(
        [(x < -1.0, lambda: x * 10.0), (x < 1.0, lambda: x * x), (x < 2.0, lambda: -x)],
        default=lambda: tf.exp(x),
    )
    z = tf.case(
        collections.OrderedDict([(x > 0.0, lambda: x + 100.0), (x <= 0.0, lambda: x - 100.0)]),
        exclusive=True,
    )
    (g,) = tf.gradients(y, [x])
    return [(str(v), {"y": y, "z": z, "g": g}, {x: v}) for v in (-3.0, 0.5, 1.5, 4.0)]


@case
def while_power(tf):
    x = tf.placeholder(tf.float32, [3])
    n = tf.placeholder(tf.int32, [])
    i, acc = tf.while_loop(
        lambda i, acc: i < n, lambda i, acc: (i + 1, acc * x), [tf.constant(0), tf.ones([3])]
    )
    (g,) = tf.gradients(tf.reduce_sum(acc), [x])
    xv = _x(3, seed=3)
    return [(str(nv), {"i": i, "acc": acc, "g": g}, {x: xv, n: nv}) for nv in (0, 1, 5)]


@case
def while_nested_loop_vars(tf):
    x = tf.placeholder(tf.float32, [2])
    init = (tf.constant(0), Pair(x, (tf.zeros([2]), tf.constant(1.0))))

    def body(i, pair):
        a, (b, c) = pair.first, pair.second
        return i + 1, Pair(a * 0.5 + 1.0, (b + a, c * 2.0))

    out = tf.while_loop(lambda i, pair: i < 100, body, init, maximum_iterations=4)
    i, pair = out
    (g,) = tf.gradients(tf.reduce_sum(pair.second[0]) + pair.second[1], [x])
    fetches = {"i": i, "a": pair.first, "b": pair.second[0], "c": pair.second[1], "g": g}
    return [("run", fetches, {x: _x(2, seed=4)})]


@case
def while_shape_invariants(tf):
    n = tf.placeholder(tf.int32, [])
    _, v = tf.while_loop(
        lambda i, v: i < n,
        lambda i, v: (i + 1, tf.concat([v, tf.cast(tf.reshape(i, [1]), tf.float32) * 2.0], 0)),
        [tf.constant(0), tf.zeros([1])],
        shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])],
    )
    return [(str(nv), {"v": v}, {n: nv}) for nv in (0, 3)]


@case
def while_tensor_array_rnn(tf):
    T, B, D, H = 5, 2, 3, 4
    inputs = tf.placeholder(tf.float32, [T, B, D])
    xs = tf.TensorArray(tf.float32, size=T).unstack(inputs)
    outs = tf.TensorArray(tf.float32, size=T)

    def body(t, h, outs):
        with tf.variable_scope("cell", reuse=tf.AUTO_REUSE):
            w = tf.get_variable("w", [D + H, H], initializer=tf.constant_initializer(_x(D + H, H, seed=5)))  # fmt: skip
            b = tf.get_variable("b", [H], initializer=tf.constant_initializer(_x(H, seed=6)))
        h = tf.tanh(tf.matmul(tf.concat([xs.read(t), h], 1), w) + b)
        return t + 1, h, outs.write(t, h)

    _, h, outs = tf.while_loop(lambda t, h, o: t < T, body, [0, tf.zeros([B, H]), outs])
    stacked = outs.stack()
    loss = tf.reduce_sum(stacked * stacked) + tf.reduce_sum(h)
    w, b = tf.trainable_variables()
    gw, gb, gi = tf.gradients(loss, [w, b, inputs])
    fetches = {"outputs": stacked, "h": h, "gw": gw, "gb": gb, "ginputs": gi}
    return [("run", fetches, {inputs: _x(T, B, D, seed=7)})]


@case
def while_nested_with_cond(tf):
    x = tf.placeholder(tf.float32, [])

    def outer(i, total):
        def inner(j, t):
            t = tf.cond(tf.equal(tf.mod(i + j, 2), 0), lambda: t + x * tf.cast(j, tf.float32), lambda: t * 1.1)  # fmt: skip
            return j + 1, t

        _, t = tf.while_loop(lambda j, t: j < i, inner, [0, total])
        return i + 1, t

    _, total = tf.while_loop(lambda i, t: i < 5, outer, [0, tf.constant(1.0)])
    (g,) = tf.gradients(total, [x])
    return [("run", {"total": total, "g": g}, {x: 0.7})]


@case
def variables_inside_functions(tf):
    p = tf.placeholder(tf.bool, [])
    x = tf.placeholder(tf.float32, [3, 2])
    y = tf.cond(p, lambda: tf.Variable(_x(2, seed=40), name="inside") * 2.0, lambda: tf.zeros([2]))

    def body(k, acc):
        return k + 1, acc * tf.Variable(1.5, name="scale")

    _, z = tf.while_loop(lambda k, a: k < 3, body, [0, tf.constant(1.0)])

    def row(r):
        with tf.variable_scope("row", reuse=tf.AUTO_REUSE):
            w = tf.get_variable("w", [2], initializer=tf.constant_initializer(_x(2, seed=41)))
        return tf.reduce_sum(r * w)

    m = tf.map_fn(row, x)
    grads = tf.gradients(tf.reduce_sum(m) + z + tf.reduce_sum(y), tf.trainable_variables())
    fetches = {"y": y, "z": z, "m": m, **{f"g{k}": g for k, g in enumerate(grads)}}
    return [(str(pv), fetches, {p: pv, x: _x(3, 2, seed=42)}) for pv in (True, False)]


@case
def map_fn_structures(tf):
    a = tf.placeholder(tf.float32, [4, 3])
    b = tf.placeholder(tf.float32, [4])
    m1 = tf.map_fn(lambda r: tf.reduce_sum(r * r), a)
    m2 = tf.map_fn(lambda e: (e[0] * e[1], tf.reduce_max(e[0])), (a, b), dtype=(tf.float32, tf.float32))  # fmt: skip
    loss = tf.reduce_sum(m1) + tf.reduce_sum(m2[0] ** 2) + tf.reduce_sum(m2[1])
    ga, gb = tf.gradients(loss, [a, b])
    fetches = {"m1": m1, "m2_0": m2[0], "m2_1": m2[1], "ga": ga, "gb": gb}
    return [("run", fetches, {a: _x(4, 3, seed=8), b: _x(4, seed=9)})]


@case
def scan_and_fold(tf):
    e = tf.placeholder(tf.float32, [5, 2])
    s1 = tf.scan(lambda acc, x: acc * 0.5 + x, e)
    s2 = tf.scan(
        lambda acc, x: (acc[0] + x, acc[1] * tf.reduce_sum(x)),
        e,
        initializer=(tf.zeros([2]), tf.constant(1.0)),
        reverse=True,
    )
    s3 = tf.scan(lambda acc, x: acc + x[0] * x[1], (e, e * 2.0), initializer=tf.ones([2]))
    fl = tf.foldl(lambda acc, x: acc * 2.0 - x, e)
    fl0 = tf.foldl(lambda acc, x: acc + tf.reduce_sum(x), e, initializer=tf.constant(3.0))
    fr = tf.foldr(lambda acc, x: acc * 2.0 - x, e)
    loss = tf.reduce_sum(s1) + tf.reduce_sum(s2[0]) + tf.reduce_sum(s2[1]) + tf.reduce_sum(s3)
    loss = loss + tf.reduce_sum(fl) + fl0 + tf.reduce_sum(fr)
    (g,) = tf.gradients(loss, [e])
    fetches = {"s1": s1, "s2_0": s2[0], "s2_1": s2[1], "s3": s3, "fl": fl, "fl0": fl0, "fr": fr, "g": g}  # fmt: skip
    return [("run", fetches, {e: _x(5, 2, seed=10)})]


@case
def tensor_array_ops(tf):
    x = tf.placeholder(tf.float32, [3, 2])
    ta = tf.TensorArray(tf.float32, size=3).unstack(x)
    r = ta.read(1)
    gathered = ta.gather([2, 0])
    size = ta.size()
    sc = tf.TensorArray(tf.float32, size=4, element_shape=[2]).scatter([3, 0], x[:2]).stack()
    dyn = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    dyn = dyn.write(2, x[0]).write(0, x[1])
    cat = tf.TensorArray(tf.float32, size=2, infer_shape=False).write(0, x[0]).write(1, x[1, :1])
    fetches = {
        "read": r,
        "gather": gathered,
        "size": size,
        "scatter": sc,
        "dyn": dyn.stack(),
        "dyn_size": dyn.size(),
        "concat": cat.concat(),
        "split_read": tf.TensorArray(tf.float32, size=2, infer_shape=False)
        .split(x, [1, 2])
        .read(1),
    }
    return [("run", fetches, {x: _x(3, 2, seed=11)})]


@case
def tuple_gate(tf):
    x = tf.placeholder(tf.float32, [2])
    a, b = tf.tuple([x * 2.0, x + 1.0])
    return [("run", {"a": a, "b": b}, {x: _x(2, seed=12)})]


@case
def greedy_decoder_loop(tf):
    B, H, V, MAX = 3, 5, 6, 7
    h0 = tf.placeholder(tf.float32, [B, H])
    emb = tf.Variable(_x(V, H, seed=30), name="emb")
    w = tf.Variable(_x(H, V, seed=31) * 2.0, name="w")
    u = tf.Variable(_x(2 * H, H, seed=32), name="u")

    def cond(t, h, tok, finished, outs, logits_ta):
        return tf.logical_not(tf.reduce_all(finished))

    def body(t, h, tok, finished, outs, logits_ta):
        x = tf.nn.embedding_lookup(emb, tok)
        h = tf.tanh(tf.matmul(tf.concat([x, h], 1), u))
        logits = tf.matmul(h, w)
        nxt = tf.cast(tf.argmax(logits, 1), tf.int32)
        nxt = tf.where(finished, tf.zeros_like(nxt), nxt)
        finished = tf.logical_or(finished, tf.equal(nxt, 0))
        finished = tf.logical_or(finished, tf.greater_equal(t + 1, MAX))
        return t + 1, h, nxt, finished, outs.write(t, nxt), logits_ta.write(t, logits)

    init = [
        tf.constant(0),
        h0,
        tf.ones([B], tf.int32),
        tf.zeros([B], tf.bool),
        tf.TensorArray(tf.int32, size=0, dynamic_size=True),
        tf.TensorArray(tf.float32, size=0, dynamic_size=True),
    ]
    t, h, _, finished, outs, logits_ta = tf.while_loop(cond, body, init)
    tokens = tf.transpose(outs.stack())
    logits = logits_ta.stack()
    loss = tf.reduce_sum(tf.nn.softmax(logits)[:, :, 1]) + tf.reduce_sum(h)
    gw, gu, gh = tf.gradients(loss, [w, u, h0])
    fetches = {"t": t, "tokens": tokens, "logits": logits, "gw": gw, "gu": gu, "gh0": gh}
    return [("run", fetches, {h0: _x(B, H, seed=33) * 3.0})]


@case
def scan_rnn_with_cond_trained(tf):
    T, B, D, H = 4, 3, 2, 3
    x = tf.placeholder(tf.float32, [T, B, D])
    y = tf.placeholder(tf.float32, [B, H])
    w = tf.get_variable("w", [D + H, H], initializer=tf.constant_initializer(_x(D + H, H, seed=34)))  # fmt: skip
    gate = tf.placeholder_with_default(True, [])

    def step(h, xt):
        z = tf.matmul(tf.concat([xt, h], 1), w)
        return tf.cond(gate, lambda: tf.tanh(z), lambda: tf.nn.relu(z))

    hs = tf.scan(step, x, initializer=tf.zeros([B, H]))
    mapped = tf.map_fn(lambda h: tf.reduce_sum(h * w[:H], 0), hs)
    loss = tf.reduce_mean(tf.square(hs[-1] - y)) + 0.1 * tf.reduce_mean(mapped)
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    feed = {x: _x(T, B, D, seed=35), y: _x(B, H, seed=36)}
    runs = []
    for k in range(4):
        runs.append((f"step{k}", {"loss": loss, "train": train}, {**feed, gate: k % 2 == 0}))
    runs.append(("end", {"w": w.value(), "loss": loss}, feed))
    return runs


# ------------------------------------------------------------------------------------------------
# tf.data
# ------------------------------------------------------------------------------------------------


@data
def slices_dict_batch(tf):
    ds = tf.data.Dataset.from_tensor_slices(
        {"a": np.arange(5), "b": (_x(5, 2, seed=20), np.arange(5, dtype=np.int32) * 3)}
    )
    return ds.batch(2).make_one_shot_iterator().get_next(), [None]


@data
def slices_map_batch_drop(tf):
    ds = tf.data.Dataset.from_tensor_slices((_x(7, 3, seed=21), np.arange(7, dtype=np.int32)))
    ds = ds.map(lambda a, b: (tf.reduce_sum(a) * 2.0, b + 1)).batch(3, drop_remainder=True)
    return ds.make_one_shot_iterator().get_next(), [None]


@data
def range_repeat_skip_take(tf):
    ds = tf.data.Dataset.range(5).repeat(2).skip(3).take(5).prefetch(2)
    return tf.data.make_one_shot_iterator(ds).get_next(), [None]


@data
def zip_and_concatenate(tf):
    a = tf.data.Dataset.range(4)
    b = tf.data.Dataset.from_tensor_slices(_x(3, 2, seed=22))
    z = tf.data.Dataset.zip((a, b))
    more = tf.data.Dataset.zip((tf.data.Dataset.range(10, 12), tf.data.Dataset.from_tensors(_x(2, seed=23)).repeat()))  # fmt: skip
    return z.concatenate(more).make_one_shot_iterator().get_next(), [None]


@data
def generator_padded_batch(tf):
    def gen():
        for n in (3, 1, 4, 2, 5):
            yield np.arange(n, dtype=np.int64) + n, np.float32(n)

    ds = tf.data.Dataset.from_generator(gen, (tf.int64, tf.float32), (tf.TensorShape([None]), tf.TensorShape([])))  # fmt: skip
    ds = ds.padded_batch(2, padded_shapes=([None], []))
    return ds.make_one_shot_iterator().get_next(), [None]


@data
def padded_batch_fixed(tf):
    ds = tf.data.Dataset.range(1, 6).map(lambda n: tf.ones(tf.reshape(n, [1]), tf.int64) * n)
    ds = ds.padded_batch(2, padded_shapes=[6], padding_values=tf.constant(-1, tf.int64), drop_remainder=True)  # fmt: skip
    return ds.make_one_shot_iterator().get_next(), [None]


@data
def filter_map(tf):
    ds = tf.data.Dataset.range(10).filter(lambda n: tf.equal(n % 3, 0)).map(lambda n: {"n": n, "sq": n * n})  # fmt: skip
    return ds.make_one_shot_iterator().get_next(), [None]


@data
def counts_at_their_edges(tf):
    ds = tf.data.Dataset.range(10, 0, -3).take(-1)
    ds = ds.concatenate(tf.data.Dataset.range(3).skip(-1)).concatenate(tf.data.Dataset.range(2).repeat(0))  # fmt: skip
    ds = ds.concatenate(tf.data.Dataset.range(4).skip(1).take(2)).map(lambda n: tf.fill(tf.reshape(n % 3 + 1, [1]), 7))  # fmt: skip
    return ds.padded_batch(2).make_one_shot_iterator().get_next(), [None]


@data
def initializable_placeholder(tf):
    x = tf.placeholder(tf.float32, [None, 2])
    y = tf.placeholder(tf.int32, [None])
    it = tf.data.Dataset.from_tensor_slices((x, y)).batch(2).make_initializable_iterator()
    tf.add_to_collection("data_init", it.initializer)
    return it.get_next(), [{x: _x(3, 2, seed=24), y: [1, 2, 3]}, {x: _x(1, 2, seed=25), y: [9]}]


@data
def reinitializable_from_structure(tf):
    a = tf.data.Dataset.from_tensor_slices(_x(3, 2, seed=26))
    b = tf.data.Dataset.from_tensor_slices(_x(2, 2, seed=27)).map(lambda r: r * 10.0)
    it = tf.data.Iterator.from_structure(a.output_types, a.output_shapes)
    init_a, init_b = it.make_initializer(a), it.make_initializer(b)
    tf.add_to_collection("data_init", init_b)
    tf.add_to_collection("data_init", init_a)
    return it.get_next(), [None, None]


@data
def from_tensors_repeat(tf):
    ds = tf.data.Dataset.from_tensors((_x(2, 2, seed=28), np.int32(7))).repeat(3)
    return ds.make_one_shot_iterator().get_next(), [None]


# ------------------------------------------------------------------------------------------------
# errors (TF's type and message)
# ------------------------------------------------------------------------------------------------


@error
def cond_python_bool(tf):
    tf.cond(True, lambda: tf.constant(1.0), lambda: tf.constant(2.0))


@error
def cond_true_fn_not_callable(tf):
    tf.cond(tf.constant(True), tf.constant(1.0), lambda: tf.constant(2.0))


@error
def cond_false_fn_not_callable(tf):
    tf.cond(tf.constant(True), lambda: tf.constant(1.0), 2.0)


@error
def cond_structures_differ(tf):
    x = tf.constant(1.0)
    tf.cond(tf.constant(True), lambda: (x, x), lambda: x)


@error
def cond_sequence_types_differ(tf):
    x = tf.constant(1.0)
    tf.cond(tf.constant(True), lambda: [x, x], lambda: (x, x))


@error
def cond_dict_keys_differ(tf):
    x = tf.constant(1.0)
    tf.cond(tf.constant(True), lambda: {"a": x}, lambda: {"b": x})


@error
def cond_dtypes_differ(tf):
    tf.cond(tf.constant(True), lambda: tf.constant(1.0), lambda: tf.constant(1))


@error
def cond_no_return_value(tf):
    tf.cond(tf.constant(True), lambda: None, lambda: None)


@error
def cond_pred_not_bool(tf):
    tf.cond(tf.constant(1.0), lambda: tf.constant(1.0), lambda: tf.constant(2.0))


@error
def while_cond_not_callable(tf):
    tf.while_loop(1, lambda i: i + 1, [0])


@error
def while_body_not_callable(tf):
    tf.while_loop(lambda i: i < 3, 1, [0])


@error
def while_no_loop_vars(tf):
    tf.while_loop(lambda: True, lambda: [], [])


@error
def while_shape_changes(tf):
    tf.while_loop(lambda i: tf.size(i) < 3, lambda i: tf.concat([i, [1]], 0), [tf.constant([0])])


@error
def while_invariant_incompatible(tf):
    tf.while_loop(lambda i: True, lambda i: i, [tf.constant([0])], shape_invariants=[tf.TensorShape([2])])  # fmt: skip


@error
def while_body_structure(tf):
    tf.while_loop(lambda i, j: i < 3, lambda i, j: (i + 1,), [0, 1])


@error
def while_cond_not_bool(tf):
    tf.while_loop(lambda i: i, lambda i: i + 1, [tf.constant(0)])


@error
def case_entry_not_pair(tf):
    tf.case([tf.constant(True)], default=lambda: tf.constant(1.0))


@error
def case_pred_python_bool(tf):
    tf.case([(True, lambda: tf.constant(1.0))], default=lambda: tf.constant(1.0))


@error
def case_pred_not_bool(tf):
    tf.case([(tf.constant(1), lambda: tf.constant(1.0))], default=lambda: tf.constant(1.0))


@error
def case_fn_not_callable(tf):
    p = tf.constant(True)
    tf.case([(p, tf.constant(1.0))], default=lambda: tf.constant(1.0))


@error
def case_exclusive_two_true(tf):
    x = tf.constant(1.0)
    y = tf.case([(tf.constant(True), lambda: x), (tf.constant(True), lambda: x * 2.0)], default=lambda: x * 3.0, exclusive=True)  # fmt: skip
    tf.Session().run(y)


@error
def map_fn_scalar_elems(tf):
    tf.map_fn(lambda e: e, tf.constant(1.0))


@error
def map_fn_lengths_differ(tf):
    tf.map_fn(lambda e: e[0], (tf.zeros([2]), tf.zeros([3])), dtype=tf.float32)


@error
def map_fn_structure_differs(tf):
    tf.map_fn(lambda e: (e, e), tf.zeros([2]), dtype=tf.float32)


@error
def scan_empty_without_initializer(tf):
    tf.Session().run(tf.scan(lambda a, e: a + e, tf.zeros([0, 3])))


@error
def tensor_array_without_size(tf):
    tf.TensorArray(tf.float32)


@error
def tensor_array_inconsistent_shapes(tf):
    tf.TensorArray(tf.float32, size=2).write(0, [1.0]).write(1, [1.0, 2.0])


@error
def tensor_array_write_out_of_range(tf):
    tf.Session().run(tf.TensorArray(tf.float32, size=3).write(3, 1.0).stack())


@error
def tensor_array_write_twice(tf):
    tf.Session().run(tf.TensorArray(tf.float32, size=3).write(0, 1.0).write(0, 2.0).stack())


@error
def tensor_array_read_negative(tf):
    tf.Session().run(tf.TensorArray(tf.float32, size=3).write(0, 1.0).read(-1))


@error
def tensor_array_stack_empty_unknown_shape(tf):
    tf.Session().run(tf.TensorArray(tf.float32, size=0).stack())


@error
def data_slices_lengths_differ(tf):
    tf.data.Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))


@error
def data_slices_scalar(tf):
    tf.data.Dataset.from_tensor_slices(np.float32(1))


@error
def data_one_shot_placeholder(tf):
    tf.data.Dataset.from_tensor_slices(tf.placeholder(tf.float32, [None])).make_one_shot_iterator()


@error
def data_not_initialized(tf):
    ph = tf.placeholder(tf.float32, [None])
    it = tf.data.Dataset.from_tensor_slices(ph).make_initializable_iterator()
    tf.Session().run(it.get_next())


@error
def data_make_initializer_types(tf):
    it = tf.data.Iterator.from_structure(tf.float32, tf.TensorShape([]))
    it.make_initializer(tf.data.Dataset.range(3))


@error
def data_generator_shape(tf):
    ds = tf.data.Dataset.from_generator(lambda: iter([[1, 2], [1]]), tf.int32, tf.TensorShape([2]))
    nxt = ds.make_one_shot_iterator().get_next()
    sess = tf.Session()
    sess.run(nxt)
    sess.run(nxt)


@error
def data_batch_shapes_differ(tf):
    ds = tf.data.Dataset.from_generator(lambda: iter([[1, 2], [1]]), tf.int32, tf.TensorShape([None]))  # fmt: skip
    tf.Session().run(ds.batch(2).make_one_shot_iterator().get_next())


@error
def data_pad_too_small(tf):
    ds = tf.data.Dataset.from_generator(lambda: iter([[1, 2, 3]]), tf.int32, tf.TensorShape([None]))  # fmt: skip
    tf.Session().run(ds.padded_batch(2, [2]).make_one_shot_iterator().get_next())


@error
def data_python_iteration(tf):
    iter(tf.data.Dataset.range(3))


@error
def data_end_of_sequence(tf):
    nxt = tf.data.Dataset.range(1).make_one_shot_iterator().get_next()
    sess = tf.Session()
    sess.run(nxt)
    sess.run(nxt)


def flat(struct):
    """The leaves of a fetched structure (dicts by sorted key, tuples and namedtuples in order)."""
    if isinstance(struct, dict):
        return [x for k in sorted(struct) for x in flat(struct[k])]
    if isinstance(struct, (tuple, list)):
        return [x for item in struct for x in flat(item)]
    return [struct]
