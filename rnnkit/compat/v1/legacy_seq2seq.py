"""``tf.contrib.legacy_seq2seq`` (TensorFlow 1.x's ``contrib/legacy_seq2seq/python/ops/seq2seq.py``).

Decoders: ``rnn_decoder`` (with ``loop_function``), ``embedding_rnn_decoder`` (``feed_previous``,
``output_projection``), ``attention_decoder`` (``num_heads``, ``output_size``,
``initial_state_attention``), ``embedding_attention_decoder``. Models: ``basic_rnn_seq2seq``,
``tied_rnn_seq2seq``, ``embedding_rnn_seq2seq``, ``embedding_tied_rnn_seq2seq`` (one embedding
and one cell for both sides), ``embedding_attention_seq2seq``,
``model_with_buckets``. Losses: ``sequence_loss_by_example`` and ``sequence_loss``.

Each function builds the graph TF1 builds, under TF1's variable names, so checkpoints carry over:

- an encoder is a copy of ``cell`` (its own weights) reading the inputs under ``<scope>/rnn``; the
  embedding models embed its symbols with ``<scope>/rnn/embedding_wrapper/embedding`` (TF1's
  ``EmbeddingWrapper``: uniform in ``[-sqrt(3), sqrt(3)]`` unless the scope sets an initializer)
  and name its cell ``<scope>/rnn/embedding_wrapper/<cell>``;
- a decoder runs under ``rnn_decoder`` / ``attention_decoder`` (its embedding ``embedding`` one
  level up), with ``cell`` wrapped in an ``OutputProjectionWrapper`` when the model has no
  ``output_projection``;
- the attention decoder's variables: ``AttnW_<k>`` ``[1, 1, A, A]`` and ``AttnV_<k>`` ``[A]`` per
  head, the input mix ``kernel``/``bias``, ``Attention_<k>/kernel``/``bias`` (the query) and
  ``AttnOutputProjection/kernel``/``bias``. Each linear map is ``concat(args, 1) @ kernel + bias``
  (kernel: the scope's initializer or glorot-uniform; bias: zeros).

The attention of head k over states ``h (B, L, A)`` for the query ``q`` (the cell state, its parts
concatenated): ``a = softmax(sum(v * tanh(h @ W + q @ Wq + bq), -1))`` over L, read
``d = sum(a * h, 1)``. At step i the cell reads ``linear([x_i, d_1..d_H])``; the step's output is
``linear([cell_output, new d_1..d_H])``. With ``loop_function(prev, i)`` (``feed_previous``: embed
the argmax of the previous output, after ``output_projection``) each input after the first comes
from the previous output. ``feed_previous`` may be a scalar bool tensor: both decoders are built
(sharing variables) and the fed value picks one, as TF1's ``cond`` does.

The losses are TF1's graphs op for op: per step ``sparse_softmax_cross_entropy_with_logits *
weight``, summed with ``add_n``; ``average_across_timesteps`` divides by ``add_n(weights) + 1e-12``;
``sequence_loss`` sums over the batch and (``average_across_batch``) divides by the batch size.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from rnnkit import _nest
from rnnkit.compat.v1 import array_ops, math_ops
from rnnkit.compat.v1.dtypes import DType, as_dtype, float32
from rnnkit.compat.v1.init_ops import random_uniform_initializer, zeros_initializer
from rnnkit.compat.v1.nn import embedding_lookup
from rnnkit.compat.v1.ops import Tensor, convert_to_tensor, name_scope
from rnnkit.compat.v1.rnn import _initial_state, _step_list_shape, _steps_node
from rnnkit.compat.v1.rnn_cell import OutputProjectionWrapper, RNNCell, _check_cell
from rnnkit.compat.v1.variables import get_variable, get_variable_scope, variable_scope

_py_bool = bool

__all__ = [
    "rnn_decoder",
    "basic_rnn_seq2seq",
    "tied_rnn_seq2seq",
    "embedding_rnn_decoder",
    "embedding_rnn_seq2seq",
    "embedding_tied_rnn_seq2seq",
    "attention_decoder",
    "embedding_attention_decoder",
    "embedding_attention_seq2seq",
    "model_with_buckets",
    "sequence_loss_by_example",
    "sequence_loss",
]


# ------------------------------------------------------------------------------------------------
# Checks and small pieces
# ------------------------------------------------------------------------------------------------


def _steps(name: str, value: Any) -> list[Any]:
    if isinstance(value, Tensor) or not isinstance(value, (list, tuple)) or not value:
        raise TypeError(
            f"Received an invalid value for argument `{name}`: expected a non-empty list with one "
            f"tensor per time step, got {value!r}."
        )
    return list(value)


def _float_steps(name: str, value: Any, dt: DType) -> list[Tensor]:
    steps = [convert_to_tensor(x, dt) for x in _steps(name, value)]
    for x in steps:
        if x.shape.ndims not in (None, 2):
            raise ValueError(
                f"Received an invalid value for argument `{name}`: expected (batch, depth) tensors, "
                f"got {x.name!r} of shape {x.shape}."
            )
    return steps


def _symbol_steps(name: str, value: Any) -> list[Tensor]:
    steps = [convert_to_tensor(x) for x in _steps(name, value)]
    for x in steps:
        if not x.dtype.is_integer:
            raise TypeError(
                f"Received an invalid value for argument `{name}`: expected int32/int64 symbol "
                f"tensors of shape (batch,), got {x.dtype.name} ({x.name!r})."
            )
    return steps


def _positive(name: str, value: Any) -> int:
    if isinstance(value, _py_bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"Received an invalid value for argument `{name}`: expected a positive integer, got "
            f"{value!r}."
        )
    return value


def _check_loop_function(loop_function: Any) -> None:
    if loop_function is not None and not callable(loop_function):
        raise TypeError(
            "Received an invalid value for argument `loop_function`: expected a function "
            f"(prev, i) -> next input, got {loop_function!r}."
        )


def _copy_cell(cell: RNNCell) -> RNNCell:
    """A copy of ``cell`` with weights of its own (TF1's ``copy.deepcopy(cell)``): graph tensors
    it holds (fed keep probabilities) are shared, built weights are not copied."""
    memo: dict[int, Any] = {}
    stack: list[Any] = [cell]
    while stack:
        part = stack.pop()
        if getattr(part, "_weights", None) is not None:
            memo[id(part._weights)] = None
        for t in getattr(part, "_extra_inputs", ()):
            memo[id(t)] = t
        stack.extend(getattr(part, "_cells", ()))
        if getattr(part, "_cell", None) is not None:
            stack.append(part._cell)
    return copy.deepcopy(cell, memo)


def _scope_name(name: str) -> str:
    outer = get_variable_scope().name
    return f"{outer}/{name}" if outer else name


def _linear(args: Sequence[Tensor], output_size: int, dt: DType) -> Tensor:
    """TF1's ``_Linear``: ``concat(args, 1) @ kernel + bias`` with ``kernel``/``bias`` created (or
    reused) in the current variable scope."""
    widths = []
    for a in args:
        w = None if a.shape.ndims is None else a.shape.as_list()[-1]
        if a.shape.ndims not in (None, 2) or w is None:
            raise ValueError(f"linear is expecting 2D arguments of known depth: {a.shape}")
        widths.append(w)
    kernel = get_variable("kernel", [sum(widths), output_size], dtype=dt)
    bias = get_variable("bias", [output_size], dtype=dt, initializer=zeros_initializer())
    x = args[0] if len(args) == 1 else array_ops.concat(list(args), 1)
    return math_ops.add(math_ops.matmul(x, kernel), bias)


def _static_rnn_named(
    cell: RNNCell, xs: list[Tensor], init: Any, dt: DType, scope: str
) -> tuple[list[Tensor], Any]:
    """``static_rnn(cell, xs)`` with the cell's variables under ``<current scope>/<scope>``
    (reusing variables of that name, as TF1 does under a reusing scope)."""
    if not cell._has_core():
        from rnnkit.compat.v1.rnn import _unrolled

        if init is None:
            init = cell.zero_state(_batch_of(xs[0]), dt)
        return _unrolled(cell, xs, init, None, dt, scope)
    width, batch = _step_list_shape(xs)
    vscope = _scope_name(scope)
    return _steps_node(cell, vscope, xs, init, None, dt, width, batch, scope)


def _batch_of(x: Tensor) -> Any:
    b = None if x.shape.ndims is None else x.shape.as_list()[0]
    return b if b is not None else array_ops.shape(x)[0]


def _embedding_wrapper_encoder(
    cell: RNNCell, encoder_inputs: list[Tensor], num_symbols: int, embedding_size: int, dt: DType
) -> tuple[list[Tensor], Any]:
    """TF1's ``static_rnn(EmbeddingWrapper(cell, num_symbols, embedding_size), encoder_inputs)``."""
    with variable_scope("rnn"), variable_scope("embedding_wrapper"):
        init = get_variable_scope().initializer
        if init is None:
            init = random_uniform_initializer(-math.sqrt(3), math.sqrt(3))
        embedding = get_variable(
            "embedding", [num_symbols, embedding_size], dtype=dt, initializer=init
        )
    xs = [embedding_lookup(embedding, array_ops.reshape(i, [-1])) for i in encoder_inputs]
    return _static_rnn_named(cell, xs, None, dt, "rnn/embedding_wrapper")


def _extract_argmax_and_embed(
    embedding: Tensor, output_projection: Any, update_embedding: _py_bool
) -> Callable[[Tensor, int], Tensor]:
    """The ``feed_previous`` loop function: embed ``argmax(prev @ W + b)`` (``prev`` without an
    output projection); no gradient reaches the embedding when ``update_embedding`` is False."""

    def loop_function(prev: Tensor, _: int) -> Tensor:
        if output_projection is not None:
            prev = math_ops.add(math_ops.matmul(prev, output_projection[0]), output_projection[1])
        symbol = math_ops.argmax(prev, 1)
        emb = embedding_lookup(embedding, symbol)
        return emb if update_embedding else array_ops.stop_gradient(emb)

    return loop_function


def _output_projection(output_projection: Any, num_symbols: int, dt: DType) -> Any:
    if output_projection is None:
        return None
    if not isinstance(output_projection, (list, tuple)) or len(output_projection) != 2:
        raise TypeError(
            "Received an invalid value for argument `output_projection`: expected None or a pair "
            f"(W, B), got {output_projection!r}."
        )
    w = convert_to_tensor(output_projection[0], dt)
    b = convert_to_tensor(output_projection[1], dt)
    if not w.shape.is_compatible_with([None, num_symbols]):
        raise ValueError(f"Shapes {w.shape} and (?, {num_symbols}) are incompatible")
    if not b.shape.is_compatible_with([num_symbols]):
        raise ValueError(f"Shapes {b.shape} and ({num_symbols},) are incompatible")
    return w, b


def _select(pred: Tensor, when_true: Any, when_false: Any) -> Any:
    """The value of ``when_true`` where the scalar bool ``pred`` is true, else ``when_false``
    (structures of tensors; TF1 builds a ``cond`` over the two decoders)."""

    def pick(a: Tensor, b: Tensor) -> Tensor:
        return Tensor(
            "cond/Merge", a.dtype, a.shape, [pred, a, b], fn=lambda p, x, y: x if bool(p) else y
        )

    return _nest.map_structure(pick, when_true, when_false)


def _by_feed_previous(decode: Any, feed_previous: Any, fp: Tensor | None) -> Any:
    """``decode(feed, update_embedding)`` for a Python bool ``feed_previous``; for a bool tensor
    ``fp``, both decoders (the second reusing the first's variables) and the one ``fp`` picks at run
    time, as TF1 builds a ``cond`` over them."""
    if fp is None:
        return decode(feed_previous)
    with variable_scope(get_variable_scope()):
        fed = decode(True, False)
    with variable_scope(get_variable_scope(), reuse=True):
        given = decode(False, False)
    return _select(fp, fed, given)


def _feed_previous_tensor(feed_previous: Any) -> Tensor | None:
    if isinstance(feed_previous, _py_bool):
        return None
    if not isinstance(feed_previous, Tensor):
        raise TypeError(
            "Received an invalid value for argument `feed_previous`: expected a Python bool or a "
            f"scalar bool tensor, got {feed_previous!r}."
        )
    if feed_previous.dtype.name != "bool" or feed_previous.shape.ndims not in (None, 0):
        raise ValueError(
            "Received an invalid value for argument `feed_previous`: expected a scalar bool tensor, "
            f"got {feed_previous.dtype.name} of shape {feed_previous.shape}."
        )
    return feed_previous


# ------------------------------------------------------------------------------------------------
# Decoders and models without attention
# ------------------------------------------------------------------------------------------------


def rnn_decoder(
    decoder_inputs: Sequence[Any],
    initial_state: Any,
    cell: RNNCell,
    loop_function: Any = None,
    scope: str | None = None,
) -> tuple[list[Tensor], Any]:
    """``(outputs, state)``: ``cell`` run from ``initial_state`` over the list of ``(B, I)``
    decoder inputs; with ``loop_function(prev, i)``, input ``i > 0`` is computed from output
    ``i - 1`` instead (only the first decoder input is read)."""
    _check_cell("cell", cell)
    _check_loop_function(loop_function)
    xs = _float_steps("decoder_inputs", decoder_inputs, float32)
    dt = xs[0].dtype
    state = _nest.pack_sequence_as(
        initial_state, [convert_to_tensor(s, dt) for s in _nest.flatten(initial_state)]
    )
    if loop_function is None and cell._has_core():
        _, batch = _step_list_shape(xs)
        _initial_state(cell, state, dt, "initial_state", batch, dt)
        return _static_rnn_named(cell, xs, state, dt, scope or "rnn_decoder")
    outputs: list[Tensor] = []
    prev = None
    with variable_scope(scope or "rnn_decoder"):
        for i, inp in enumerate(xs):
            if loop_function is not None and prev is not None:
                with variable_scope("loop_function", reuse=True):
                    inp = convert_to_tensor(loop_function(prev, i), dt)
            if i > 0:
                get_variable_scope().reuse_variables()
            output, state = cell(inp, state)
            outputs.append(output)
            if loop_function is not None:
                prev = output
    return outputs, state


def basic_rnn_seq2seq(
    encoder_inputs: Sequence[Any],
    decoder_inputs: Sequence[Any],
    cell: RNNCell,
    dtype: Any = float32,
    scope: str | None = None,
) -> tuple[list[Tensor], Any]:
    """An encoder (a copy of ``cell``, under ``rnn``) whose final state starts ``rnn_decoder``
    (``cell``) over ``decoder_inputs``; both are lists of ``(B, I)`` tensors."""
    _check_cell("cell", cell)
    dt = as_dtype(dtype)
    xs = _float_steps("encoder_inputs", encoder_inputs, dt)
    with variable_scope(scope or "basic_rnn_seq2seq"):
        _, enc_state = _static_rnn_named(_copy_cell(cell), xs, None, dt, "rnn")
        return rnn_decoder(decoder_inputs, enc_state, cell)


def tied_rnn_seq2seq(
    encoder_inputs: Sequence[Any],
    decoder_inputs: Sequence[Any],
    cell: RNNCell,
    loop_function: Any = None,
    dtype: Any = float32,
    scope: str | None = None,
) -> tuple[list[Tensor], Any]:
    """``basic_rnn_seq2seq`` with one set of weights for the encoder and the decoder (under
    ``combined_tied_rnn_seq2seq/<scope or tied_rnn_seq2seq>``)."""
    _check_cell("cell", cell)
    dt = as_dtype(dtype)
    xs = _float_steps("encoder_inputs", encoder_inputs, dt)
    with variable_scope("combined_tied_rnn_seq2seq"):
        name = scope or "tied_rnn_seq2seq"
        _, enc_state = _static_rnn_named(cell, xs, None, dt, name)
        get_variable_scope().reuse_variables()
        return rnn_decoder(decoder_inputs, enc_state, cell, loop_function=loop_function, scope=name)


def embedding_rnn_decoder(
    decoder_inputs: Sequence[Any],
    initial_state: Any,
    cell: RNNCell,
    num_symbols: int,
    embedding_size: int,
    output_projection: Any = None,
    feed_previous: _py_bool = False,
    update_embedding_for_previous: _py_bool = True,
    scope: str | None = None,
) -> tuple[list[Tensor], Any]:
    """``rnn_decoder`` over the embedded ``(B,)`` symbols ``decoder_inputs`` (the variable
    ``embedding [num_symbols, embedding_size]``); with ``feed_previous`` each input after the first
    is the embedded argmax of the previous output (projected by ``output_projection=(W, b)``)."""
    _check_cell("cell", cell)
    _positive("num_symbols", num_symbols)
    _positive("embedding_size", embedding_size)
    symbols = _symbol_steps("decoder_inputs", decoder_inputs)
    with variable_scope(scope or "embedding_rnn_decoder") as vs:
        dt = as_dtype(vs.dtype) if vs.dtype else float32
        proj = _output_projection(output_projection, num_symbols, dt)
        embedding = get_variable("embedding", [num_symbols, embedding_size], dtype=dt)
        loop = (
            _extract_argmax_and_embed(embedding, proj, update_embedding_for_previous)
            if feed_previous
            else None
        )
        emb = [embedding_lookup(embedding, s) for s in symbols]
        return rnn_decoder(emb, initial_state, cell, loop_function=loop)


def embedding_rnn_seq2seq(
    encoder_inputs: Sequence[Any],
    decoder_inputs: Sequence[Any],
    cell: RNNCell,
    num_encoder_symbols: int,
    num_decoder_symbols: int,
    embedding_size: int,
    output_projection: Any = None,
    feed_previous: Any = False,
    dtype: Any = None,
    scope: str | None = None,
) -> tuple[list[Tensor], Any]:
    """``(outputs, state)``: an embedding encoder (a copy of ``cell``) whose final state starts
    ``embedding_rnn_decoder``; outputs are ``(B, num_decoder_symbols)`` logits (``cell`` wrapped in
    an ``OutputProjectionWrapper``), or ``(B, cell.output_size)`` with ``output_projection``.
    ``encoder_inputs``/``decoder_inputs`` are lists of ``(B,)`` int32 symbol tensors."""
    _check_cell("cell", cell)
    for what, n in (
        ("num_encoder_symbols", num_encoder_symbols),
        ("num_decoder_symbols", num_decoder_symbols),
        ("embedding_size", embedding_size),
    ):
        _positive(what, n)
    enc = _symbol_steps("encoder_inputs", encoder_inputs)
    _symbol_steps("decoder_inputs", decoder_inputs)
    fp = _feed_previous_tensor(feed_previous)
    with variable_scope(scope or "embedding_rnn_seq2seq", dtype=dtype) as vs:
        dt = as_dtype(vs.dtype) if vs.dtype else float32
        _, encoder_state = _embedding_wrapper_encoder(
            _copy_cell(cell), enc, num_encoder_symbols, embedding_size, dt
        )
        if output_projection is None:
            cell = OutputProjectionWrapper(cell, num_decoder_symbols)

        def decoder(feed: _py_bool, update: _py_bool = True) -> tuple[list[Tensor], Any]:
            return embedding_rnn_decoder(
                decoder_inputs,
                encoder_state,
                cell,
                num_decoder_symbols,
                embedding_size,
                output_projection=output_projection,
                feed_previous=feed,
                update_embedding_for_previous=update,
            )

        return _by_feed_previous(decoder, feed_previous, fp)


def embedding_tied_rnn_seq2seq(
    encoder_inputs: Sequence[Any],
    decoder_inputs: Sequence[Any],
    cell: RNNCell,
    num_symbols: int,
    embedding_size: int,
    num_decoder_symbols: int | None = None,
    output_projection: Any = None,
    feed_previous: Any = False,
    dtype: Any = None,
    scope: str | None = None,
) -> tuple[list[Tensor], Any]:
    """``tied_rnn_seq2seq`` over symbols embedded by one ``embedding [num_symbols,
    embedding_size]``: encoder and decoder share it and the cell (wrapped in an
    ``OutputProjectionWrapper`` to ``num_decoder_symbols``, default ``num_symbols``, unless
    ``output_projection`` is given)."""
    _check_cell("cell", cell)
    _positive("num_symbols", num_symbols)
    _positive("embedding_size", embedding_size)
    if num_decoder_symbols is not None:
        _positive("num_decoder_symbols", num_decoder_symbols)
    enc = _symbol_steps("encoder_inputs", encoder_inputs)
    dec = _symbol_steps("decoder_inputs", decoder_inputs)
    fp = _feed_previous_tensor(feed_previous)
    with variable_scope(scope or "embedding_tied_rnn_seq2seq", dtype=dtype) as vs:
        dt = as_dtype(vs.dtype) if vs.dtype else float32
        output_symbols = num_decoder_symbols or num_symbols
        proj = _output_projection(output_projection, output_symbols, dt)
        embedding = get_variable("embedding", [num_symbols, embedding_size], dtype=dt)
        emb_enc = [embedding_lookup(embedding, x) for x in enc]
        emb_dec = [embedding_lookup(embedding, x) for x in dec]
        if output_projection is None:
            cell = OutputProjectionWrapper(cell, output_symbols)

        def model(feed: _py_bool, update: _py_bool = True) -> tuple[list[Tensor], Any]:
            loop = _extract_argmax_and_embed(embedding, proj, update) if feed else None
            return tied_rnn_seq2seq(emb_enc, emb_dec, cell, loop_function=loop, dtype=dt)

        return _by_feed_previous(model, feed_previous, fp)


# ------------------------------------------------------------------------------------------------
# Attention
# ------------------------------------------------------------------------------------------------


def _attend(y: Tensor, feats: Tensor, v: Tensor, hidden: Tensor, attn_size: int) -> Tensor:
    """One head's read ``(B, A)``: softmax over L of ``sum(v * tanh(feats + y), -1)``, then the
    attention-weighted sum of ``hidden (B, L, A)``."""

    def fn(yv: torch.Tensor, f: torch.Tensor, vv: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        s = (vv * torch.tanh(f + yv.unsqueeze(1))).sum(-1)  # (B, L)
        a = torch.softmax(s, dim=1)
        return (a.unsqueeze(-1) * h).sum(1)

    return Tensor("attention_read", y.dtype, [None, attn_size], [y, feats, v, hidden], fn=fn)


def _check_heads(num_heads: Any) -> int:
    if isinstance(num_heads, _py_bool) or not isinstance(num_heads, int):
        raise TypeError(
            f"Received an invalid value for argument `num_heads`: expected an int, got {num_heads!r}."
        )
    if num_heads < 1:
        raise ValueError("With less than 1 heads, use a non-attention decoder.")
    return num_heads


def attention_decoder(
    decoder_inputs: Sequence[Any],
    initial_state: Any,
    attention_states: Any,
    cell: RNNCell,
    output_size: int | None = None,
    num_heads: int = 1,
    loop_function: Any = None,
    dtype: Any = None,
    scope: str | None = None,
    initial_state_attention: _py_bool = False,
) -> tuple[list[Tensor], Any]:
    """``(outputs, state)``: ``cell`` over ``decoder_inputs`` (a list of ``(B, I)``) reading
    ``num_heads`` attentions over ``attention_states (B, L, A)`` (see the module); outputs are
    ``(B, output_size)`` (default ``cell.output_size``). ``initial_state_attention`` starts the
    attentions from ``initial_state`` instead of zeros."""
    _check_cell("cell", cell)
    _check_loop_function(loop_function)
    if not isinstance(decoder_inputs, (list, tuple)) or isinstance(decoder_inputs, Tensor):
        raise TypeError(
            "Received an invalid value for argument `decoder_inputs`: expected a list of (B, I) "
            f"tensors, got {decoder_inputs!r}."
        )
    if not decoder_inputs:
        raise ValueError("Must provide at least 1 input to attention decoder.")
    num_heads = _check_heads(num_heads)
    dt0 = as_dtype(dtype) if dtype is not None else float32
    states = convert_to_tensor(attention_states, dt0)
    if states.shape.ndims != 3:
        raise ValueError(
            "Received an invalid value for argument `attention_states`: expected a (batch, "
            f"attn_length, attn_size) tensor, got shape {states.shape}."
        )
    attn_size = states.shape.as_list()[2]
    if attn_size is None:
        raise ValueError(f"Shape[2] of attention_states must be known: {states.shape}")
    if output_size is None:
        output_size = cell.output_size
    _positive("output_size", output_size)
    xs = _float_steps("decoder_inputs", decoder_inputs, dt0)
    with variable_scope(scope or "attention_decoder", dtype=dtype) as vs:
        dt = as_dtype(vs.dtype) if vs.dtype else float32
        feats, vs_ = [], []
        for a in range(num_heads):
            k = get_variable(f"AttnW_{a}", [1, 1, attn_size, attn_size], dtype=dt)
            feats.append(
                Tensor(
                    "Conv2D",
                    dt,
                    states.shape,
                    [states, k],
                    fn=lambda h, kv: h @ kv[0, 0],
                )
            )
            vs_.append(get_variable(f"AttnV_{a}", [attn_size], dtype=dt))
        state = _nest.pack_sequence_as(
            initial_state, [convert_to_tensor(s, dt) for s in _nest.flatten(initial_state)]
        )

        def attention(query: Any) -> list[Tensor]:
            parts = _nest.flatten(query)
            q = parts[0] if len(parts) == 1 else array_ops.concat(parts, 1)
            reads = []
            for a in range(num_heads):
                with variable_scope(f"Attention_{a}"):
                    y = _linear([q], attn_size, dt)
                    reads.append(_attend(y, feats[a], vs_[a], states, attn_size))
            return reads

        first = xs[0]
        attns = [
            Tensor(
                "zeros",
                dt,
                [None, attn_size],
                [first],
                fn=lambda x: torch.zeros(x.shape[0], attn_size, dtype=dt.torch),
            )
            for _ in range(num_heads)
        ]
        if initial_state_attention:
            attns = attention(state)
        outputs: list[Tensor] = []
        prev = None
        for i, inp in enumerate(xs):
            if i > 0:
                get_variable_scope().reuse_variables()
            if loop_function is not None and prev is not None:
                with variable_scope("loop_function", reuse=True):
                    inp = convert_to_tensor(loop_function(prev, i), dt)
            width = None if inp.shape.ndims is None else inp.shape.as_list()[-1]
            if inp.shape.ndims != 2 or width is None:
                raise ValueError(f"Could not infer input size from input: {inp.name}")
            x = _linear([inp, *attns], width, dt)
            cell_output, state = cell(x, state)
            if i == 0 and initial_state_attention:
                with variable_scope(get_variable_scope(), reuse=True):
                    attns = attention(state)
            else:
                attns = attention(state)
            with variable_scope("AttnOutputProjection"):
                output = _linear([cell_output, *attns], output_size, dt)
            if loop_function is not None:
                prev = output
            outputs.append(output)
    return outputs, state


def embedding_attention_decoder(
    decoder_inputs: Sequence[Any],
    initial_state: Any,
    attention_states: Any,
    cell: RNNCell,
    num_symbols: int,
    embedding_size: int,
    num_heads: int = 1,
    output_size: int | None = None,
    output_projection: Any = None,
    feed_previous: _py_bool = False,
    update_embedding_for_previous: _py_bool = True,
    dtype: Any = None,
    scope: str | None = None,
    initial_state_attention: _py_bool = False,
) -> tuple[list[Tensor], Any]:
    """``attention_decoder`` over the embedded ``(B,)`` symbols ``decoder_inputs`` (variable
    ``embedding``), greedy (``feed_previous``) as ``embedding_rnn_decoder``."""
    _check_cell("cell", cell)
    _positive("num_symbols", num_symbols)
    _positive("embedding_size", embedding_size)
    if output_size is None:
        output_size = cell.output_size
    symbols = _symbol_steps("decoder_inputs", decoder_inputs)
    with variable_scope(scope or "embedding_attention_decoder", dtype=dtype) as vs:
        dt = as_dtype(vs.dtype) if vs.dtype else float32
        proj = _output_projection(output_projection, num_symbols, dt)
        embedding = get_variable("embedding", [num_symbols, embedding_size], dtype=dt)
        loop = (
            _extract_argmax_and_embed(embedding, proj, update_embedding_for_previous)
            if feed_previous
            else None
        )
        emb = [embedding_lookup(embedding, s) for s in symbols]
        return attention_decoder(
            emb,
            initial_state,
            attention_states,
            cell,
            output_size=output_size,
            num_heads=num_heads,
            loop_function=loop,
            initial_state_attention=initial_state_attention,
        )


def embedding_attention_seq2seq(
    encoder_inputs: Sequence[Any],
    decoder_inputs: Sequence[Any],
    cell: RNNCell,
    num_encoder_symbols: int,
    num_decoder_symbols: int,
    embedding_size: int,
    encoder_cell: Any = None,
    num_heads: int = 1,
    output_projection: Any = None,
    feed_previous: Any = False,
    dtype: Any = None,
    scope: str | None = None,
    initial_state_attention: _py_bool = False,
) -> tuple[list[Tensor], Any]:
    """An embedding encoder (``encoder_cell``, default a copy of ``cell``) whose outputs are the
    attention states and whose final state starts ``embedding_attention_decoder``; outputs are
    ``(B, num_decoder_symbols)`` logits, or ``(B, cell.output_size)`` with ``output_projection``."""
    _check_cell("cell", cell)
    if encoder_cell is not None:
        _check_cell("encoder_cell", encoder_cell)
    for what, n in (
        ("num_encoder_symbols", num_encoder_symbols),
        ("num_decoder_symbols", num_decoder_symbols),
        ("embedding_size", embedding_size),
    ):
        _positive(what, n)
    enc = _symbol_steps("encoder_inputs", encoder_inputs)
    _symbol_steps("decoder_inputs", decoder_inputs)
    fp = _feed_previous_tensor(feed_previous)
    with variable_scope(scope or "embedding_attention_seq2seq", dtype=dtype) as vs:
        dt = as_dtype(vs.dtype) if vs.dtype else float32
        enc_cell = encoder_cell if encoder_cell is not None else _copy_cell(cell)
        enc_outputs, encoder_state = _embedding_wrapper_encoder(
            enc_cell, enc, num_encoder_symbols, embedding_size, dt
        )
        width = cell.output_size
        top = [array_ops.reshape(e, [-1, 1, width]) for e in enc_outputs]
        attention_states = array_ops.concat(top, 1)
        output_size = None
        if output_projection is None:
            cell = OutputProjectionWrapper(cell, num_decoder_symbols)
            output_size = num_decoder_symbols

        def decoder(feed: _py_bool, update: _py_bool = True) -> tuple[list[Tensor], Any]:
            return embedding_attention_decoder(
                decoder_inputs,
                encoder_state,
                attention_states,
                cell,
                num_decoder_symbols,
                embedding_size,
                num_heads=num_heads,
                output_size=output_size,
                output_projection=output_projection,
                feed_previous=feed,
                update_embedding_for_previous=update,
                initial_state_attention=initial_state_attention,
            )

        return _by_feed_previous(decoder, feed_previous, fp)


# ------------------------------------------------------------------------------------------------
# Buckets and losses
# ------------------------------------------------------------------------------------------------


def model_with_buckets(
    encoder_inputs: Sequence[Any],
    decoder_inputs: Sequence[Any],
    targets: Sequence[Any],
    weights: Sequence[Any],
    buckets: Sequence[tuple[int, int]],
    seq2seq: Callable[[list[Any], list[Any]], tuple[list[Tensor], Any]],
    softmax_loss_function: Any = None,
    per_example_loss: _py_bool = False,
    name: str | None = None,
) -> tuple[list[list[Tensor]], list[Tensor]]:
    """``(outputs, losses)``, one entry per bucket ``(encoder length, decoder length)``: the model
    ``seq2seq(encoder_inputs[:e], decoder_inputs[:d])`` (every bucket after the first reuses the
    first's variables) and its ``sequence_loss`` over ``targets[:d]``/``weights[:d]``
    (``sequence_loss_by_example`` when ``per_example_loss``)."""
    for what, seq in (
        ("encoder_inputs", encoder_inputs),
        ("decoder_inputs", decoder_inputs),
        ("targets", targets),
        ("weights", weights),
    ):
        _steps(what, seq)
    if isinstance(buckets, (str, bytes)) or not isinstance(buckets, (list, tuple)) or not buckets:
        raise TypeError(
            "Received an invalid value for argument `buckets`: expected a non-empty list of "
            f"(input size, output size) pairs, got {buckets!r}."
        )
    for b in buckets:
        if (
            not isinstance(b, (list, tuple))
            or len(b) != 2
            or not all(isinstance(n, int) for n in b)
        ):
            raise TypeError(
                "Received an invalid value for argument `buckets`: expected (input size, output "
                f"size) pairs of ints, got {b!r}."
            )
    if not callable(seq2seq):
        raise TypeError(
            "Received an invalid value for argument `seq2seq`: expected a function "
            f"(encoder_inputs, decoder_inputs) -> (outputs, state), got {seq2seq!r}."
        )
    if len(encoder_inputs) < buckets[-1][0]:
        raise ValueError(
            f"Length of encoder_inputs ({len(encoder_inputs)}) must be at least that of last "
            f"bucket ({buckets[-1][0]})."
        )
    if len(targets) < buckets[-1][1]:
        raise ValueError(
            f"Length of targets ({len(targets)}) must be at least that of last bucket "
            f"({buckets[-1][1]})."
        )
    if len(weights) < buckets[-1][1]:
        raise ValueError(
            f"Length of weights ({len(weights)}) must be at least that of last bucket "
            f"({buckets[-1][1]})."
        )
    losses: list[Tensor] = []
    outputs: list[list[Tensor]] = []
    with name_scope(name, "model_with_buckets"):
        for j, (n_enc, n_dec) in enumerate(buckets):
            with variable_scope(get_variable_scope(), reuse=True if j > 0 else None):
                bucket_outputs, _ = seq2seq(
                    list(encoder_inputs[:n_enc]), list(decoder_inputs[:n_dec])
                )
                outputs.append(list(bucket_outputs))
                loss = sequence_loss_by_example if per_example_loss else sequence_loss
                losses.append(
                    loss(
                        outputs[-1],
                        list(targets[:n_dec]),
                        list(weights[:n_dec]),
                        softmax_loss_function=softmax_loss_function,
                    )
                )
    return outputs, losses


def sequence_loss_by_example(
    logits: Any,
    targets: Any,
    weights: Any,
    average_across_timesteps: _py_bool = True,
    softmax_loss_function: Any = None,
    name: str | None = None,
) -> Tensor:
    """Weighted cross-entropy per example: ``logits`` a list of ``[batch, classes]`` tensors,
    ``targets`` of ``[batch]`` class ids, ``weights`` of ``[batch]`` floats (one per time step).
    Returns the ``[batch]`` log-perplexities (divided by the summed weights when
    ``average_across_timesteps``). ``softmax_loss_function(labels=, logits=)`` replaces the softmax."""
    logits = _steps("logits", logits)
    targets = _steps("targets", targets)
    weights = _steps("weights", weights)
    if len(targets) != len(logits) or len(weights) != len(logits):
        raise ValueError(
            "Lengths of logits, weights, and targets must be the same "
            f"{len(logits)}, {len(weights)}, {len(targets)}."
        )
    if softmax_loss_function is not None and not callable(softmax_loss_function):
        raise TypeError(
            "Received an invalid value for argument `softmax_loss_function`: expected a function "
            f"(labels=, logits=) -> losses, got {softmax_loss_function!r}."
        )
    from rnnkit.compat.v1.nn import sparse_softmax_cross_entropy_with_logits

    with name_scope(name, "sequence_loss_by_example"):
        log_perp_list = []
        for logit, target, weight in zip(logits, targets, weights):
            if softmax_loss_function is None:
                target = array_ops.reshape(target, [-1])
                crossent = sparse_softmax_cross_entropy_with_logits(labels=target, logits=logit)
            else:
                crossent = softmax_loss_function(labels=target, logits=logit)
            log_perp_list.append(crossent * weight)
        log_perps = math_ops.add_n(log_perp_list)
        if average_across_timesteps:
            total_size = math_ops.add_n(weights)
            total_size += 1e-12  # TensorFlow's guard against all-zero weights
            log_perps /= total_size
    return log_perps


def sequence_loss(
    logits: Any,
    targets: Any,
    weights: Any,
    average_across_timesteps: _py_bool = True,
    average_across_batch: _py_bool = True,
    softmax_loss_function: Any = None,
    name: str | None = None,
) -> Tensor:
    """``reduce_sum(sequence_loss_by_example(...))``, divided by the batch size when
    ``average_across_batch``: a scalar."""
    with name_scope(name, "sequence_loss"):
        cost = math_ops.reduce_sum(
            sequence_loss_by_example(
                logits,
                targets,
                weights,
                average_across_timesteps=average_across_timesteps,
                softmax_loss_function=softmax_loss_function,
            )
        )
        if average_across_batch:
            batch_size = array_ops.shape(_steps("targets", targets)[0])[0]
            return cost / math_ops.cast(batch_size, cost.dtype)
        return cost
