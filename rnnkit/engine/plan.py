r"""How a ``dynamic_rnn`` call would run, and why, without running it: :func:`choose` applies the
rules of :mod:`rnnkit.engine.paths` (and the small path's own test, ``small.takes``) to the call and
returns a :class:`Plan`; ``rnnkit.engine.explain`` is its public name.

Example::

    plan = choose(cell, x)
    plan.path           # "small", "general", "final", "loop", "operators", "onnx", "cuda" or "empty"
    print(plan)         # one line per layer, with the reasons
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnkit import engine as fused
from rnnkit._validation import _is_compiling, as_lengths
from rnnkit.engine import cpu, final, kinds, onednn, paths, small
from rnnkit.engine.layers import drops, flatten_states, layer_plan
from rnnkit.platform import memory

__all__ = ["choose", "Plan", "LayerPlan"]


@dataclass
class LayerPlan:
    """How one layer runs: ``route`` (``"small"``, ``"onednn"``, ``"onednn halves"``, ``"halves"``,
    ``"loop"`` for the engine's own loop, ``"final"`` for its final-state loop, ``"operator"``,
    ``"onnx"``, ``"cuda"``), the kind's name and why."""

    index: int
    kind: str
    units: int
    route: str
    reason: str

    def __str__(self) -> str:
        return f"layer {self.index} ({self.kind}, H={self.units}): {self.route} -- {self.reason}"


@dataclass
class Plan:
    """How a ``dynamic_rnn`` call runs: ``path`` is ``"small"``, ``"general"`` (eager CPU, layer by
    layer), ``"final"`` (eager CPU, final state only: :mod:`rnnkit.engine.final`), ``"loop"`` (the
    plain loop of cell calls), ``"operators"`` (torch operators while tracing), ``"onnx"``,
    ``"cuda"`` or ``"empty"`` (no steps or no rows); ``reason`` says why, ``layers`` how each layer
    runs (none on the plain loop). ``final_only``: the call wants its final state only
    (``rnnkit.final_state``); ``outputs`` says whether it still builds the outputs, and why."""

    call: str
    path: str
    reason: str
    layers: list[LayerPlan] = field(default_factory=list)
    final_only: bool = False
    outputs: str = "built (dynamic_rnn returns them)"

    def __str__(self) -> str:
        lines = [f"{self.call}: {self.path} path -- {self.reason}"]
        if self.final_only:
            lines.append(f"  final state only; outputs: {self.outputs}")
        lines += [f"  {layer}" for layer in self.layers]
        return "\n".join(lines)


def choose(
    cell: Any,
    inputs: Any,
    sequence_length: Any = None,
    initial_state: Any = None,
    time_major: bool = False,
    *,
    dtype: Any = None,
    engine: str = "auto",
    final_only: bool = False,
) -> Plan:
    """How ``dynamic_rnn(cell, inputs, sequence_length, initial_state, dtype, time_major, engine)``
    would run now (grad mode, tracing and the machine's load as they are), by the rules the call
    itself applies; with ``final_only``, how ``rnnkit.final_state`` (same arguments) would. Runs
    nothing; arguments the call would refuse get ``path="loop"`` at most and a reason, not the
    call's error."""
    plan = _choose(cell, inputs, sequence_length, initial_state, time_major, dtype, engine,
                   final_only)  # fmt: skip
    plan.final_only = final_only
    if final_only and plan.path == "loop":
        plan.outputs = "none kept (the plain loop drops each step's output)"
    elif final_only and plan.path == "empty":
        plan.outputs = "none (no steps or no rows)"
    elif final_only and plan.path == "final":
        plan.outputs = "not built (nothing of size T is allocated)"
    elif final_only and plan.path == "small":
        plan.outputs = "built and dropped (a small call's outputs are small)"
    elif final_only and plan.path != "general":
        plan.outputs = f"built and dropped (the {plan.path} path returns them)"
    return plan


def _choose(
    cell: Any,
    inputs: Any,
    sequence_length: Any,
    initial_state: Any,
    time_major: bool,
    dtype: Any,
    engine: str,
    final_only: bool,
) -> Plan:
    if isinstance(inputs, (list, tuple, dict)):
        why = "a Python list, tuple or dict is a nested structure to TF1: dynamic_rnn refuses it"
        return Plan(f"dynamic_rnn({type(cell).__name__}, {type(inputs).__name__})", "loop", why)
    x = inputs if isinstance(inputs, Tensor) else torch.as_tensor(np.asarray(inputs))
    call = _describe_call(cell, x, time_major)
    if x.dim() != 3:
        return Plan(call, "loop", f"inputs of rank {x.dim()}: dynamic_rnn raises its ValueError")
    # 1. the small path, before the runner's checks
    why_not_small = _why_not_short(sequence_length, initial_state, dtype, engine)
    if fused.short_call_allowed(x, sequence_length, initial_state, dtype, engine):
        taken = small.takes(cell, x, time_major)
        if taken is not None and not (final_only and taken[2] is not None):
            return _small_plan(call, cell, x, time_major, taken)
        if taken is not None:
            why_not_small = "not the small path: its oneDNN LSTM returns every step's outputs"
        else:
            why_not_small = _why_not_small(cell, x, time_major)
    xt = x if time_major else x.transpose(0, 1)  # (T, B, I)
    T, B = xt.shape[0], xt.shape[1]
    if engine == "loop":
        return Plan(call, "loop", "engine='loop' asks for the plain loop")
    if T == 0 or B == 0:
        return Plan(call, "empty", f"T={T}, B={B}: zero outputs, no cell call")
    if paths.one_step(engine, xt):
        return Plan(call, "loop", "one time step: the plain loop (no recurrence to fuse)")
    probe = xt  # integer and bool inputs: converted by the runner (dtype, else the cell's)
    if not xt.is_floating_point():
        own = getattr(cell, "_param_dtype_device", lambda: (None, None))()[0]
        target = dtype if isinstance(dtype, torch.dtype) else own
        probe = xt.to(target or torch.float32)
    if not fused.supports(cell, probe):
        why = _why_unsupported(cell, probe, layer_plan, drops, fused.available())
        if engine == "fused":
            why += "; engine='fused' raises its error instead"
        return Plan(call, "loop", why)
    plan = layer_plan(cell)
    where = fused.backend(xt)
    if where == "onnx":
        layers = [
            _other(k, layer.cell, "onnx", f"ONNX {kinds.of(layer.cell).onnx_op}")
            for k, layer in enumerate(plan)
        ]
        return Plan(call, "onnx", "under torch.onnx.export: ONNX's own operators", layers)
    if where == "operators":
        layers = [
            _other(k, layer.cell, "operator", f"rnnkit::{kinds.of(layer.cell).operator_name}")
            for k, layer in enumerate(plan)
        ]
        why = "traced (torch.compile / torch.export): one torch operator per layer"
        return Plan(call, "operators", why, layers)
    if where == "cuda":
        layers = [
            _other(k, layer.cell, "cuda", f"torch._VF.{kinds.of(layer.cell).cudnn}")
            for k, layer in enumerate(plan)
        ]
        return Plan(call, "cuda", "CUDA tensors: torch's cuDNN RNN", layers)
    lengths = as_lengths("sequence_length", sequence_length, B, T, xt.device)
    lengths_np, tmax = cpu.lengths_np(lengths, B, T)
    grad = torch.is_grad_enabled() or paths.transformed()
    no_state = torch.empty(0)  # zeros from the cell: nothing that requires grad
    states = (
        [no_state] * len(plan) if initial_state is None else flatten_states(cell, initial_state)
    )
    if final_only:
        why_full = paths.final_route(plan, xt, states)
        if why_full is None:
            layers = [
                LayerPlan(k, kinds.of(layer.cell).name, layer.cell.num_units, "final",
                          "the engine's final-state loop, rows in blocks and steps in chunks of "
                          f"{' x '.join(map(str, _final_block(plan, B, tmax)))} (rows x steps)")
                for k, layer in enumerate(plan)
            ]  # fmt: skip
            why = f"eager CPU call ({why_not_small}), final state only, no graph recorded"
            return Plan(call, "final", why, layers, outputs="not built")
    x_k, layers = xt, []
    for k, (layer, s) in enumerate(zip(plan, states)):
        c = layer.cell
        graph = paths.records(grad, c, x_k, s)  # the layer's own rule
        layers.append(_general_layer(k, c, x_k, lengths_np, tmax, graph))
        x_k = torch.empty(T, B, c.num_units, dtype=probe.dtype, requires_grad=graph)
    why = f"eager CPU call ({why_not_small}): layer by layer"
    if final_only:
        return Plan(call, "general", why, layers, outputs=f"built and dropped: {why_full}")
    return Plan(call, "general", why, layers)


def _final_block(plan: list[Any], B: int, tmax: int) -> tuple[int, int]:
    gh = max(layer.cell.num_units * kinds.of(layer.cell).gate_blocks for layer in plan)
    return final.blocks(B, gh, tmax)


def _describe_call(cell: Any, x: Tensor, time_major: bool) -> str:
    names = "(T, B, I)" if time_major else "(B, T, I)"
    return f"dynamic_rnn({type(cell).__name__}, inputs {names}={tuple(x.shape)} {x.dtype})"


def _other(k: int, cell: Any, route: str, what: str) -> LayerPlan:
    return LayerPlan(k, kinds.of(cell).name, cell.num_units, route, what)


def _why_not_short(sequence_length: Any, initial_state: Any, dtype: Any, engine: Any) -> str:
    if sequence_length is not None:
        return "not the small path: sequence_length given"
    if initial_state is not None:
        return "not the small path: initial_state given"
    if dtype is not None:
        return "not the small path: a dtype that converts the inputs"
    return f"not the small path: engine={engine!r}"


def _why_not_small(cell: Any, x: Tensor, time_major: bool) -> str:
    kind = kinds.of(cell)
    if kind is None:
        return f"not the small path: {type(cell).__name__} is not a built-in leaf cell"
    if not kind.small:
        return f"not the small path: it does not run {kind.name}"
    if cell._input_size != x.shape[2]:
        if cell._input_size is None:
            return "not the small path: the cell is not built yet (this call builds it)"
        return "not the small path: the cell is built for another input width"
    if type(x) is not Tensor or not x.is_cpu or x.dtype not in (torch.float32, torch.float64):
        return "not the small path: not a plain CPU float32/float64 tensor"
    if _is_compiling() or torch.jit.is_tracing() or paths.transformed():
        return "not the small path: tracing or a torch.func transform"
    T, B = (x.shape[0], x.shape[1]) if time_major else (x.shape[1], x.shape[0])
    macs = T * B * cell.num_units * (x.shape[2] + cell.num_units) * kind.gate_blocks
    if T == 0 or B == 0:
        return "not the small path: no steps or no rows"
    if macs > small.MAX_MACS:
        return f"not the small path: {macs} multiply-adds > small.MAX_MACS = {small.MAX_MACS}"
    return "not the small path: a parameter replaced by one of another shape, type or layout"


def _why_unsupported(cell: Any, x: Tensor, layer_plan: Any, drops: Any, available: bool) -> str:
    if x.dtype not in (torch.float32, torch.float64):
        return f"the fused engine runs float32 and float64, not {x.dtype}"
    plan = layer_plan(cell)
    if plan is None:
        return (
            f"{type(cell).__name__} is (or holds) a cell the engine does not run (a user-written "
            "cell, another activation, a wrapper dropping the state)"
        )
    if drops(plan):
        return "an active DropoutWrapper runs on the engine in eager CPU calls only"
    if x.device.type == "cpu" and not available:
        return "numba could not be imported: the CPU engine is unavailable"
    if x.device.type == "cuda":
        missing = [
            kinds.of(layer.cell).name for layer in plan if kinds.of(layer.cell).cudnn is None
        ]
        return f"on CUDA, cuDNN has no formulation of {', '.join(missing)}"
    return f"the engine does not run {x.device.type} tensors"


def _general_layer(k: int, cell: Any, x: Tensor, lengths: np.ndarray, tmax: int, graph: bool):
    """Layer ``k`` of the general path over ``x (T, B, I)``, by :func:`paths.layer_route`."""
    kind = kinds.of(cell)
    T, B, H = tmax, x.shape[1], cell.num_units
    route = paths.layer_route(cell, x, lengths, tmax)
    if route is paths.ONEDNN:
        cut = paths.onednn_cut(cell, x, tmax, graph)
        what = f"T*B*H*4H = {T * B * H * 4 * H} >= onednn.MIN_MACS, float32, every row all steps"
        if cut:
            why = (
                f"torch's oneDNN LSTM in two halves of rows [:{cut}] and [{cut}:] at once ({what}; "
                f"records a graph, T*B*H = {T * B * H} >= ONEDNN_SPLIT_MIN_TBH)"
            )
            return LayerPlan(k, kind.name, H, "onednn halves", why)
        why = f"torch's oneDNN LSTM, whole ({what}; {_why_whole_onednn(B, H, T, graph)})"
        return LayerPlan(k, kind.name, H, "onednn", why)
    if route is paths.HALVES:
        why = (
            "the engine's loop in two halves of the batch at once on torch's threads "
            f"(T*B*H*G*H = {T * B * H * kind.gate_blocks * H} >= SPLIT_MIN_MACS)"
        )
        return LayerPlan(k, kind.name, H, "halves", why)
    why = (
        f"the engine's loop, whole ({_why_not_onednn(cell, x, lengths, tmax)}; "
        f"{_why_not_halves(cell, x, tmax)})"
    )
    return LayerPlan(k, kind.name, H, "loop", why)


def _why_whole_onednn(B: int, H: int, tmax: int, graph: bool) -> str:
    if not graph:
        return "forward only: no graph recorded"
    if B < 2:
        return "one row"
    if tmax * B * H < paths.ONEDNN_SPLIT_MIN_TBH:
        return f"T*B*H = {tmax * B * H} < ONEDNN_SPLIT_MIN_TBH"
    if memory.retaining():
        return "freed memory is kept (retain_freed_memory)"
    if B * H * H * 4 >= paths.ONEDNN_SPLIT_MAX_STEP:
        return f"per-step product B*H*4H = {B * H * H * 4} >= ONEDNN_SPLIT_MAX_STEP"
    return "the machine has no two spare cores for the team"


def _why_not_onednn(cell: Any, x: Tensor, lengths: np.ndarray, tmax: int) -> str:
    kind = kinds.of(cell)
    if not kind.onednn:
        return f"not oneDNN: {kind.name} is not an LSTM it runs"
    if not onednn.big_enough(tmax, x.shape[1], cell.num_units):
        return "not oneDNN: T*B*H*4H < onednn.MIN_MACS"
    if x.dtype != torch.float32:
        return f"not oneDNN: {x.dtype}"
    if tmax == 0 or int(lengths.min()) < tmax:
        return "not oneDNN: rows of different lengths (TF1's per-row freezing)"
    if paths.transformed():
        return "not oneDNN: a torch.func transform is active"
    return "not oneDNN: torch was built without it or it is disabled"


def _why_not_halves(cell: Any, x: Tensor, tmax: int) -> str:
    B, H = x.shape[1], cell.num_units
    if B < 2:
        return "not in halves: one row"
    step = B * H * H * kinds.of(cell).gate_blocks
    if tmax * step < paths.SPLIT_MIN_MACS:
        return f"not in halves: T*B*H*G*H = {tmax * step} < SPLIT_MIN_MACS"
    if step >= cpu.PARALLEL_MIN_MACS:
        return "not in halves: the per-step product runs on several BLAS threads already"
    if paths.transformed():
        return "not in halves: a torch.func transform is active"
    return "not in halves: the machine has no two spare cores for the team"


def _small_plan(call: str, cell: Any, x: Tensor, time_major: bool, taken: tuple) -> Plan:
    kind, params, route = taken
    T, B = (x.shape[0], x.shape[1]) if time_major else (x.shape[1], x.shape[0])
    H = cell.num_units
    macs = T * B * H * (x.shape[2] + H) * kind.gate_blocks
    if route is None:
        what = f"one compiled kernel each way ({macs} multiply-adds <= small.MAX_MACS)"
        return Plan(
            call,
            "small",
            "no lengths, state or dtype; a small built-in layer",
            [LayerPlan(0, kind.name, H, "small", what)],
        )
    graph = small.records(x, params)
    xt = x if time_major else x.transpose(0, 1)
    cut = paths.onednn_cut(cell, xt, T, graph)
    why = (
        f"an LSTM of {macs} multiply-adds > small.MAX_MACS = {small.MAX_MACS} that torch's "
        "oneDNN LSTM takes: straight to the oneDNN node from zero state"
    )
    if cut:
        layer = LayerPlan(
            0, kind.name, H, "onednn halves", f"two halves of rows [:{cut}] and [{cut}:] at once"
        )
    else:
        layer = LayerPlan(0, kind.name, H, "onednn", f"whole ({_why_whole_onednn(B, H, T, graph)})")
    return Plan(call, "small", why, [layer])
