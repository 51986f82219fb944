"""Moving weights between rnnkit cells, TensorFlow 1.x checkpoints and torch's RNN layers.

TensorFlow 1.x: variables are named as in a TF1 checkpoint, e.g. ``rnn/basic_rnn_cell/kernel``,
``rnn/multi_rnn_cell/cell_1/gru_cell/gates/kernel`` or ``bidirectional_rnn/fw/lstm_cell/w_f_diag``,
in TensorFlow's layout (which is also rnnkit's), so conversion is a rename.

torch: ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` state dicts (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...)
where the formulations match: BasicRNNCell (tanh/relu), BasicLSTMCell and LSTMCell without peepholes
(TensorFlow's ``forget_bias`` is folded into torch's forget-gate bias), GRUCell(reset_after=True),
and MultiRNNCell stacks of one such kind with equal widths.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch

from rnnkit._validation import invalid_type, invalid_value
from rnnkit.cells import BasicLSTMCell, BasicRNNCell, GRUCell, LSTMCell, RNNCell
from rnnkit.interop.tf1_checkpoint import TF1Checkpoint, open_tf1_checkpoint
from rnnkit.wrappers import DropoutWrapper, MultiRNNCell, OutputProjectionWrapper, ResidualWrapper

__all__ = ["load_tf1_variables", "tf1_variables", "load_torch_state_dict", "torch_state_dict"]

_TF_CELL_NAMES = {
    BasicRNNCell: "basic_rnn_cell",
    BasicLSTMCell: "basic_lstm_cell",
    LSTMCell: "lstm_cell",
    GRUCell: "gru_cell",
}
_GRU_NAMES = {
    "gates/kernel": "gates_kernel",
    "gates/bias": "gates_bias",
    "candidate/kernel": "candidate_kernel",
    "candidate/bias": "candidate_bias",
    "candidate/recurrent_bias": "candidate_recurrent_bias",  # rnnkit's reset_after=True only
}


def _leaf_params(cell: RNNCell) -> list[tuple[str, str]]:
    """(TF suffix, attribute) pairs of a leaf cell, in TF order."""
    if isinstance(cell, GRUCell):
        names = list(_GRU_NAMES.items())
        return names if cell.reset_after else names[:4]
    names = [("kernel", "kernel"), ("bias", "bias")]
    if isinstance(cell, LSTMCell) and cell.use_peepholes:
        names += [(n, n) for n in ("w_f_diag", "w_i_diag", "w_o_diag")]
    return names


def _walk(cell: RNNCell, prefix: str) -> Iterator[tuple[str, RNNCell, str]]:
    """Yield (TF variable name, owning module, attribute) for every parameter of ``cell``."""
    if isinstance(cell, MultiRNNCell):
        for k, sub in enumerate(cell.cells):
            yield from _walk(sub, f"{prefix}/multi_rnn_cell/cell_{k}")
    elif isinstance(cell, (DropoutWrapper, ResidualWrapper)):
        yield from _walk(cell.cell, prefix)
    elif isinstance(cell, OutputProjectionWrapper):
        yield from _walk(cell.cell, f"{prefix}/output_projection_wrapper")
        yield f"{prefix}/output_projection_wrapper/kernel", cell, "kernel"
        yield f"{prefix}/output_projection_wrapper/bias", cell, "bias"
    elif type(cell) in _TF_CELL_NAMES:
        base = f"{prefix}/{_TF_CELL_NAMES[type(cell)]}"
        for suffix, attr in _leaf_params(cell):
            yield f"{base}/{suffix}", cell, attr
    else:
        raise invalid_type(
            "cell", "a built-in rnnkit cell or wrapper with a TensorFlow 1.x counterpart", cell
        )


def _first_leaf(cell: RNNCell, prefix: str) -> tuple[RNNCell, str]:
    """The cell that sees the raw inputs, and the TF name of its input kernel."""
    if isinstance(cell, MultiRNNCell):
        return _first_leaf(cell.cells[0], f"{prefix}/multi_rnn_cell/cell_0")
    if isinstance(cell, (DropoutWrapper, ResidualWrapper)):
        return _first_leaf(cell.cell, prefix)
    if isinstance(cell, OutputProjectionWrapper):
        return _first_leaf(cell.cell, f"{prefix}/output_projection_wrapper")
    if type(cell) not in _TF_CELL_NAMES:
        raise invalid_type("cell", "a built-in rnnkit cell or wrapper", cell)
    kernel = "gates/kernel" if isinstance(cell, GRUCell) else "kernel"
    return cell, f"{prefix}/{_TF_CELL_NAMES[type(cell)]}/{kernel}"


def _as_array(name: str, value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    try:
        arr = np.asarray(value)
    except ValueError:
        raise invalid_value("variables", f"an array for {name}", type(value).__name__) from None
    if arr.dtype.name == "bfloat16":  # ml_dtypes, as read from a checkpoint
        arr = arr.astype(np.float32)
    if arr.dtype.kind not in "biuf":
        raise invalid_type("variables", f"a numeric array for {name}", value)
    return arr


def _shape(source: Mapping[str, Any], name: str) -> tuple[int, ...]:
    if isinstance(source, TF1Checkpoint):
        return source.shape(name)  # from the index: reads no data
    return tuple(_as_array(name, source[name]).shape)


def load_tf1_variables(cell: RNNCell, source: Any, scope: str = "rnn") -> None:
    """Load the TensorFlow 1.x variables under ``scope`` into ``cell``.

    ``source`` is a mapping (TF variable name -> array) or a TF1 checkpoint: a prefix, its
    ``.index`` file, or a directory with a ``checkpoint`` state file (its latest checkpoint), of
    which only the cell's tensors are read. Builds the cell first if needed (the input width is read
    from the first kernel). Variables outside ``scope`` and optimizer slots (names extending a
    parameter's name, e.g. ``.../kernel/Adam``, ``.../bias/Momentum``) are ignored; under ``scope``
    every parameter must be present with its exact shape and nothing else may be. Raises
    ``ValueError`` naming missing, unexpected or mis-shaped variables.

    Example::

        cell = BasicRNNCell(5)
        load_tf1_variables(cell, {"rnn/basic_rnn_cell/kernel": k, "rnn/basic_rnn_cell/bias": b})
        load_tf1_variables(LSTMCell(8), "train_dir", scope="encoder")  # a TF1 checkpoint
    """
    if not isinstance(scope, str) or not scope:
        raise invalid_value("scope", "a non-empty variable scope such as 'rnn'", repr(scope))
    if isinstance(source, (str, os.PathLike)):
        with open_tf1_checkpoint(source) as checkpoint:
            _load_tf1(cell, checkpoint, scope.rstrip("/"))
        return
    if not isinstance(source, Mapping):
        raise invalid_type(
            "source",
            "a mapping from TensorFlow variable names to arrays, or a TF1 checkpoint path",
            source,
        )
    _load_tf1(cell, source, scope.rstrip("/"))


def _load_tf1(cell: RNNCell, source: Mapping[str, Any], scope: str) -> None:
    mine = [k for k in source if isinstance(k, str) and k.startswith(scope + "/")]
    expected = list(_walk(cell, scope))  # the names do not depend on the input width
    names = {name for name, _, _ in expected}
    missing = [name for name in names if name not in mine]
    unexpected = [
        name
        for name in mine
        if name not in names and not any(name.startswith(p + "/") for p in names)  # not a slot
    ]
    if missing or unexpected:
        raise invalid_value(
            "variables",
            f"exactly the variables of {type(cell).__name__} under scope {scope!r}",
            f"missing {sorted(missing)}, unexpected {sorted(unexpected)}",
        )
    if not cell.built:  # materialise its parameters (see rnnkit.cells) for the kernel's width
        leaf, kernel_name = _first_leaf(cell, scope)
        shape = _shape(source, kernel_name)  # present: checked above
        if len(shape) != 2 or shape[0] <= leaf.num_units:
            raise invalid_value(
                "variables",
                f"{kernel_name} of shape (I + {leaf.num_units}, .) with I >= 1",
                f"shape {shape}",
            )
        cell.build(shape[0] - leaf.num_units)
    arrays = {}
    for name, owner, attr in expected:
        param = getattr(owner, attr)
        if _shape(source, name) != tuple(param.shape):
            raise invalid_value(
                "variables",
                f"{name} of shape {tuple(param.shape)}",
                f"shape {_shape(source, name)}",
            )
        arrays[name] = _as_array(name, source[name])
    with torch.no_grad():
        for name, owner, attr in expected:
            param = getattr(owner, attr)
            param.copy_(torch.as_tensor(arrays[name], dtype=param.dtype, device=param.device))


def tf1_variables(cell: RNNCell, scope: str = "rnn", grad: bool = False) -> dict[str, np.ndarray]:
    """The cell's parameters (or, with ``grad=True``, their gradients) under TensorFlow 1.x names.

    Example::

        tf1_variables(BasicRNNCell(5, input_size=3))
        # {'rnn/basic_rnn_cell/kernel': array (8, 5), 'rnn/basic_rnn_cell/bias': array (5,)}
    """
    if not cell.built:
        raise invalid_value(
            "cell", "a built cell (give input_size or call it once)", "an unbuilt cell"
        )
    out = {}
    for name, owner, attr in _walk(cell, scope.rstrip("/")):
        param = getattr(owner, attr)
        value = param.grad if grad else param
        if value is None:
            raise invalid_value("grad", f"a gradient for {name} (run backward first)", "None")
        out[name] = value.detach().cpu().numpy().copy()
    return out


# -- torch nn.RNN / nn.LSTM / nn.GRU ------------------------------------------------------------------
_LSTM_PERM = [
    0,
    2,
    1,
    3,
]  # TF (i, j, f, o) <-> torch (i, f, g, o); the permutation is its own inverse


def _chunks(t: torch.Tensor, n: int, perm: list[int], dim: int = 0) -> torch.Tensor:
    parts = t.chunk(n, dim)
    return torch.cat([parts[p] for p in perm], dim)


def _torch_layers(cell: RNNCell) -> list[RNNCell]:
    layers = list(cell.cells) if isinstance(cell, MultiRNNCell) else [cell]
    kinds = {type(c) for c in layers}
    for k, c in enumerate(layers):
        ok = (
            (isinstance(c, BasicRNNCell) and c.activation_name in ("tanh", "relu"))
            or type(c) is BasicLSTMCell
            or (type(c) is LSTMCell and not c.use_peepholes)
            or (isinstance(c, GRUCell) and c.reset_after)
        )
        if not ok:
            raise invalid_type(
                "cell",
                "a cell with a torch counterpart: BasicRNNCell (tanh/relu), BasicLSTMCell, LSTMCell "
                "without peepholes, GRUCell(reset_after=True), or a MultiRNNCell of one such kind",
                c,
            )
        if k and layers[0].num_units != c.num_units:
            raise invalid_value(
                "cell", "layers of equal num_units (torch requires it)", c.num_units
            )
    lstm_kinds = {BasicLSTMCell, LSTMCell}
    if len(kinds) > 1 and not kinds <= lstm_kinds:
        raise invalid_value(
            "cell",
            "layers of one kind (torch layers have one mode)",
            sorted(k.__name__ for k in kinds),
        )
    return layers


def _export_layer(c: RNNCell) -> dict[str, torch.Tensor]:
    I, H = c.input_size, c.num_units
    if isinstance(c, GRUCell):
        gk, ck = c.gates_kernel.detach(), c.candidate_kernel.detach()
        return {
            "weight_ih": torch.cat([gk[:I].T, ck[:I].T], 0),
            "weight_hh": torch.cat([gk[I:].T, ck[I:].T], 0),
            "bias_ih": torch.cat([c.gates_bias.detach(), c.candidate_bias.detach()]),
            "bias_hh": torch.cat(
                [torch.zeros_like(c.gates_bias), c.candidate_recurrent_bias.detach()]
            ),
        }
    W, b = c.kernel.detach().T, c.bias.detach().clone()  # (G*H, I+H), (G*H,)
    if isinstance(c, (BasicLSTMCell, LSTMCell)):
        W = _chunks(W, 4, _LSTM_PERM)
        b[2 * H : 3 * H] += c.forget_bias  # after reordering, chunk 1 is f; before it chunk 2 is
        b = _chunks(b, 4, _LSTM_PERM)
    return {
        "weight_ih": W[:, :I],
        "weight_hh": W[:, I:],
        "bias_ih": b,
        "bias_hh": torch.zeros_like(b),
    }


def _import_layer(c: RNNCell, sd: dict[str, torch.Tensor]) -> None:
    w_ih, w_hh, b_ih, b_hh = sd["weight_ih"], sd["weight_hh"], sd["bias_ih"], sd["bias_hh"]
    with torch.no_grad():
        if isinstance(c, GRUCell):
            H = c.num_units
            c.gates_kernel.copy_(torch.cat([w_ih[: 2 * H].T, w_hh[: 2 * H].T], 0))
            c.gates_bias.copy_(b_ih[: 2 * H] + b_hh[: 2 * H])
            c.candidate_kernel.copy_(torch.cat([w_ih[2 * H :].T, w_hh[2 * H :].T], 0))
            c.candidate_bias.copy_(b_ih[2 * H :])
            c.candidate_recurrent_bias.copy_(b_hh[2 * H :])
            return
        W = torch.cat([w_ih, w_hh], 1)  # (G*H, I+H)
        b = b_ih + b_hh
        if isinstance(c, (BasicLSTMCell, LSTMCell)):
            H = c.num_units
            W, b = _chunks(W, 4, _LSTM_PERM), _chunks(b, 4, _LSTM_PERM)
            b[2 * H : 3 * H] -= c.forget_bias
        c.kernel.copy_(W.T)
        c.bias.copy_(b)


def torch_state_dict(cell: RNNCell, cell_bw: RNNCell | None = None) -> dict[str, torch.Tensor]:
    """A state dict for the matching ``torch.nn.RNN``/``LSTM``/``GRU`` (``bidirectional`` with ``cell_bw``).

    Example::

        cell = GRUCell(8, reset_after=True, input_size=3)
        gru = torch.nn.GRU(3, 8); gru.load_state_dict(torch_state_dict(cell))
    """
    out = {}
    for direction, c in (("", cell), ("_reverse", cell_bw)):
        if c is None:
            continue
        if not c.built:
            raise invalid_value(
                "cell", "a built cell (give input_size or call it once)", "an unbuilt cell"
            )
        for k, layer in enumerate(_torch_layers(c)):
            for key, value in _export_layer(layer).items():
                out[f"{key}_l{k}{direction}"] = value.clone()
    return out


def load_torch_state_dict(
    cell: RNNCell, state_dict: Mapping[str, Any], cell_bw: RNNCell | None = None
) -> None:
    """Load a ``torch.nn.RNN``/``LSTM``/``GRU`` state dict into ``cell`` (and ``cell_bw``).

    Builds unbuilt cells from ``weight_ih_l0``'s width. Raises ``ValueError`` naming missing,
    unexpected or mis-shaped entries (a torch layer without biases is not supported).
    """
    if not isinstance(state_dict, Mapping):
        raise invalid_type("state_dict", "a mapping such as nn.GRU().state_dict()", state_dict)
    sd = {k: torch.as_tensor(_as_array(k, v)) for k, v in state_dict.items()}
    used: set[str] = set()
    for direction, c in (("", cell), ("_reverse", cell_bw)):
        if c is None:
            continue
        layers = _torch_layers(c)
        if not c.built:  # materialise its parameters (see rnnkit.cells) for the input width
            key = f"weight_ih_l0{direction}"
            if key not in sd:
                raise invalid_value("state_dict", f"an entry {key!r}", f"keys {sorted(sd)}")
            if sd[key].dim() != 2 or sd[key].shape[1] < 1:
                raise invalid_value(
                    "state_dict", f"{key} of shape (G * H, I) with I >= 1", tuple(sd[key].shape)
                )
            c.build(sd[key].shape[1])
        for k, layer in enumerate(layers):
            expected = _export_layer(layer)
            part = {}
            for key, ref in expected.items():
                name = f"{key}_l{k}{direction}"
                if name not in sd:
                    raise invalid_value("state_dict", f"an entry {name!r}", f"keys {sorted(sd)}")
                if tuple(sd[name].shape) != tuple(ref.shape):
                    raise invalid_value(
                        "state_dict",
                        f"{name} of shape {tuple(ref.shape)}",
                        f"shape {tuple(sd[name].shape)}",
                    )
                part[key] = sd[name].to(ref.dtype)
                used.add(name)
            _import_layer(layer, part)
    unexpected = sorted(set(sd) - used)
    if unexpected:
        raise invalid_value(
            "state_dict", "only the entries of the given cells", f"unexpected {unexpected}"
        )
