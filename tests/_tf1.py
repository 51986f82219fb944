"""Loading and replaying the TensorFlow 1.x reference cases (see tests/fixtures/tf1/README.md).

``tests/fixtures/tf1`` is a byte-identical copy of the project's shared cases (``../shared/fixtures/tf1``,
checked by tests/test_tf1_fixtures.py when ``../shared`` exists), so the suite runs on a clone of this
repository alone; ``tests/fixtures/tf1_extra`` holds this repository's own cases. A missing index or
case file raises: the suite fails instead of shrinking.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

import rnnkit
from rnnkit.interop import load_tf1_variables

ROOT = Path(__file__).resolve().parent
TF1 = ROOT / "fixtures" / "tf1"  # vendored copy of SHARED_TF1
TF1_EXTRA = ROOT / "fixtures" / "tf1_extra"
SHARED_TF1 = ROOT.parent.parent / "shared" / "fixtures" / "tf1"
DIRS = [TF1, TF1_EXTRA]


def load_cases() -> list[tuple[dict, Path]]:
    """(case, path of its .npz) for every case listed in each directory's ``cases.json``."""
    cases = []
    for d in DIRS:
        index = d / "cases.json"  # read_text raises when it is missing
        cases += [(c, d / f"{c['name']}.npz") for c in json.loads(index.read_text())]
    return cases


def make_cell(spec: dict) -> rnnkit.RNNCell:
    kind = spec["type"]
    if kind == "MultiRNNCell":
        return rnnkit.MultiRNNCell([make_cell(s) for s in spec["cells"]])
    if kind == "BasicRNNCell":
        return rnnkit.BasicRNNCell(spec["num_units"], activation=spec.get("activation", "tanh"))
    if kind == "BasicLSTMCell":
        return rnnkit.BasicLSTMCell(spec["num_units"], forget_bias=spec.get("forget_bias", 1.0))
    if kind == "LSTMCell":
        return rnnkit.LSTMCell(
            spec["num_units"],
            forget_bias=spec.get("forget_bias", 1.0),
            use_peepholes=spec.get("use_peepholes", False),
        )
    if kind == "GRUCell":
        return rnnkit.GRUCell(spec["num_units"])
    raise ValueError(kind)


def state_leaves(state: Any, prefix: str) -> dict[str, torch.Tensor]:
    """Flatten a state into {path: tensor} with the fixture's path convention."""
    if isinstance(state, rnnkit.LSTMStateTuple):
        return {f"{prefix}/c": state.c, f"{prefix}/h": state.h}
    if isinstance(state, tuple):
        out = {}
        for k, s in enumerate(state):
            out.update(state_leaves(s, f"{prefix}/{k}"))
        return out
    return {prefix: state}


def build_state(data: dict, prefix: str, template: Any) -> Any:
    """Rebuild an initial state structure from ``init/...`` leaves, shaped like ``template``."""
    if isinstance(template, rnnkit.LSTMStateTuple):
        return rnnkit.LSTMStateTuple(data[f"{prefix}/c"], data[f"{prefix}/h"])
    if isinstance(template, tuple):
        return tuple(build_state(data, f"{prefix}/{k}", s) for k, s in enumerate(template))
    return data[prefix]


def replay(
    case: dict, path: Path, engine: str = "auto"
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Run one case; returns {key: (rnnkit value, TensorFlow value)} for values and gradients."""
    data = dict(np.load(path))
    runner = case["runner"]
    bidir = runner == "bidirectional_dynamic_rnn"
    variables = {k[4:]: v for k, v in data.items() if k.startswith("var/")}
    cells = {}
    if bidir:
        cells["fw"] = make_cell(case["cell"])
        cells["bw"] = make_cell(case["cell_bw"])
        load_tf1_variables(cells["fw"], variables, scope="bidirectional_rnn/fw")
        load_tf1_variables(cells["bw"], variables, scope="bidirectional_rnn/bw")
    else:
        cells[""] = make_cell(case["cell"])
        load_tf1_variables(cells[""], variables, scope="rnn")

    x = torch.tensor(data["inputs"], requires_grad=True)
    lengths = data.get("sequence_length")
    init_leaves = {
        k: torch.tensor(v, requires_grad=True) for k, v in data.items() if k.split("/")[0] == "init"
    }
    time_major = case.get("time_major", False)

    def initial(cell: rnnkit.RNNCell, direction: str) -> Any:
        if not case.get("initial_state"):
            return None
        return build_state(
            init_leaves, "/".join(p for p in ("init", direction) if p), cell.state_size
        )

    if runner == "static_rnn":
        cell = cells[""]
        outs, state = rnnkit.static_rnn(
            cell, list(x.unbind(0)), initial_state=initial(cell, ""), sequence_length=lengths
        )
        outputs = {"out/outputs": torch.stack(outs, 0)}
        states = state_leaves(state, "out/state")
    elif runner == "dynamic_rnn":
        cell = cells[""]
        out, state = rnnkit.dynamic_rnn(
            cell,
            x,
            sequence_length=lengths,
            initial_state=initial(cell, ""),
            time_major=time_major,
            engine=engine,
        )
        outputs = {"out/outputs": out}
        states = state_leaves(state, "out/state")
    else:
        (o_fw, o_bw), (s_fw, s_bw) = rnnkit.bidirectional_dynamic_rnn(
            cells["fw"],
            cells["bw"],
            x,
            sequence_length=lengths,
            initial_state_fw=initial(cells["fw"], "fw"),
            initial_state_bw=initial(cells["bw"], "bw"),
            time_major=time_major,
            engine=engine,
        )
        outputs = {"out/outputs/fw": o_fw, "out/outputs/bw": o_bw}
        states = {**state_leaves(s_fw, "out/state/fw"), **state_leaves(s_bw, "out/state/bw")}

    results: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    loss = torch.zeros((), dtype=x.dtype)
    for key, value in {**outputs, **states}.items():
        results[key] = (value.detach().numpy(), data[key])
        loss = loss + (torch.tensor(data["coef/" + key[4:]]) * value).sum()
    loss.backward()
    results["grad/inputs"] = (x.grad.numpy(), data["grad/inputs"])
    for scope_key, cell in cells.items():
        scope = "rnn" if not scope_key else f"bidirectional_rnn/{scope_key}"
        for name, g in rnnkit.interop.tf1_variables(cell, scope=scope, grad=True).items():
            results[f"grad/var/{name}"] = (g, data[f"grad/var/{name}"])
    for k, leaf in init_leaves.items():
        grad_key = "grad/" + k
        results[grad_key] = (leaf.grad.numpy(), data[grad_key])
    return results
