"""``tf.nn.sampled_softmax_loss`` and ``tf.nn.log_uniform_candidate_sampler`` (TensorFlow 1.x's
``nn_impl._compute_sampled_logits`` and ``LogUniformCandidateSampler``).

The sampled softmax loss of one row is the softmax cross entropy over ``num_true`` true classes
(target ``1 / num_true`` each) and ``num_sampled`` sampled classes (target 0), whose logits are
``inputs . weights[class] + biases[class] - log(expected count of class)``. With
``remove_accidental_hits`` a sampled class equal to one of the row's true classes gets
``-FLT_MAX`` added to its logit (it drops out of the softmax). Given ``sampled_values`` the loss is
deterministic and equals TensorFlow's; otherwise classes are drawn by the log-uniform (Zipfian)
sampler below, with torch's random stream (so the values differ from TF's draw by chance only).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rnnkit.compat.v1.dtypes import float32, int64
from rnnkit.compat.v1.ops import StructNode, Tensor, convert_to_tensor, leaf

__all__ = ["sampled_softmax_loss", "log_uniform_candidate_sampler"]


class _SamplerNode(StructNode):
    """A random draw of several tensors, with a per-session generator seeded as other random ops."""

    _stateful = True

    def __init__(self, name: str, inputs: list, fn: Any, seed: Any) -> None:
        graph = inputs[0].graph
        super().__init__(name, inputs, fn, graph)
        self._seed = graph._op_seed(seed)

    def _compute(self, sess: Any, values: list[Any]) -> Any:
        return self._fn(sess._generator(self, self._seed), *values)


_FLT_MAX = float(np.finfo(np.float32).max)


def _log_uniform_probs(range_max: int) -> torch.Tensor:
    k = np.arange(range_max, dtype=np.float64)
    return torch.from_numpy((np.log(k + 2) - np.log(k + 1)) / np.log(range_max + 1))


def _draw_log_uniform(
    gen: torch.Generator, probs: torch.Tensor, num_sampled: int, unique: bool
) -> tuple[torch.Tensor, int]:
    """(classes, number of draws made): with ``unique`` draws repeat until ``num_sampled``
    distinct classes came, as TF's sampler does."""
    if not unique:
        return torch.multinomial(probs, num_sampled, replacement=True, generator=gen), num_sampled
    seen: dict[int, None] = {}
    tries = 0
    while len(seen) < num_sampled:
        batch = torch.multinomial(probs, num_sampled, replacement=True, generator=gen).tolist()
        for c in batch:
            tries += 1
            seen.setdefault(int(c), None)
            if len(seen) == num_sampled:
                break
    return torch.tensor(list(seen), dtype=torch.int64), tries


def _expected(probs: torch.Tensor, ids: torch.Tensor, tries: int, unique: bool) -> torch.Tensor:
    p = probs[ids]
    if unique:  # the chance that a class came at least once in ``tries`` draws
        return (-torch.expm1(tries * torch.log1p(-p))).to(torch.float32)
    return (p * tries).to(torch.float32)


def _check_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"Received an invalid value for argument `{name}`: expected a positive integer, got "
            f"{value!r}."
        )
    return int(value)


def log_uniform_candidate_sampler(
    true_classes: Any,
    num_true: int,
    num_sampled: int,
    unique: bool,
    range_max: int,
    seed: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """``(sampled_candidates (num_sampled,) int64, true_expected_count (B, num_true),
    sampled_expected_count (num_sampled,))``: classes in ``[0, range_max)`` with
    ``P(k) = log((k + 2) / (k + 1)) / log(range_max + 1)``."""
    nt, ns, rm = (_check_int(n, v) for n, v in
                  (("num_true", num_true), ("num_sampled", num_sampled), ("range_max", range_max)))  # fmt: skip
    if unique and ns > rm:
        raise ValueError(
            f"Received an invalid value for argument `num_sampled`: expected at most range_max "
            f"({rm}) with unique=True, got {ns}."
        )
    tc = convert_to_tensor(true_classes)
    probs = _log_uniform_probs(rm)
    uniq = bool(unique)

    def draw(gen: torch.Generator, t: torch.Tensor) -> tuple:
        ids, tries = _draw_log_uniform(gen, probs, ns, uniq)
        true_ids = t.long().reshape(-1, nt)
        return ids, _expected(probs, true_ids, tries, uniq), _expected(probs, ids, tries, uniq)

    struct = _SamplerNode(
        tc.graph.unique_name(name or "LogUniformCandidateSampler"), [tc], draw, seed
    )
    batch = None if tc.shape.ndims is None else tc.shape.as_list()[0]
    return (
        leaf(struct, (0,), int64, [ns]),
        leaf(struct, (1,), float32, [batch, nt]),
        leaf(struct, (2,), float32, [ns]),
    )


def _weights_rows(weights: Any, partition_strategy: str) -> tuple[list[Tensor], Any]:
    """The weight shards as tensors and a torch function joining their values into one matrix
    whose row ``i`` is class ``i`` (TF's ``mod``/``div`` partitioning)."""
    shards = list(weights) if isinstance(weights, (list, tuple)) else [weights]
    if not shards:
        raise ValueError("Received an invalid value for argument `weights`: got an empty list.")
    if partition_strategy not in ("mod", "div"):
        raise ValueError(
            "Received an invalid value for argument `partition_strategy`: expected 'mod' or "
            f"'div', got {partition_strategy!r}."
        )
    tensors = [convert_to_tensor(s) for s in shards]

    def join(*vals: torch.Tensor) -> torch.Tensor:
        if len(vals) == 1:
            return vals[0]
        if partition_strategy == "div":
            return torch.cat(vals, 0)
        n = sum(v.shape[0] for v in vals)
        out = vals[0].new_empty((n, *vals[0].shape[1:]))
        for k, v in enumerate(vals):
            out[k :: len(vals)] = v
        return out

    return tensors, join


def sampled_logits(
    wv: torch.Tensor,
    bv: torch.Tensor,
    xv: torch.Tensor,
    yv: torch.Tensor,
    sv: torch.Tensor,
    true_log_count: torch.Tensor,
    sampled_log_count: torch.Tensor,
    remove_accidental_hits: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The logits ``(B, nt + ns)`` of a row's true classes ``yv (B, nt)`` then the sampled classes
    ``sv (ns,)``, each less the log of its expected count, and their targets (``1/nt`` for a true
    class, 0 for a sampled one). With ``remove_accidental_hits`` a sampled class that is one of the
    row's true classes gets ``-FLT_MAX`` added, so it carries no weight in either loss."""
    true_logits = (wv[yv] * xv.unsqueeze(1)).sum(-1) + bv[yv]  # (B, nt)
    s_logits = xv @ wv[sv].t() + bv[sv]  # (B, ns)
    if remove_accidental_hits:
        hit = (yv.unsqueeze(-1) == sv.view(1, 1, -1)).any(1)
        s_logits = s_logits + hit.to(s_logits.dtype) * -_FLT_MAX
    true_logits = true_logits - true_log_count
    s_logits = s_logits - sampled_log_count
    logits = torch.cat([true_logits, s_logits], 1)
    nt = true_logits.shape[1]
    targets = torch.cat([torch.full_like(true_logits, 1.0 / nt), torch.zeros_like(s_logits)], 1)
    return logits, targets


def sampled_softmax_loss(
    weights: Any,
    biases: Any,
    labels: Any,
    inputs: Any,
    num_sampled: int,
    num_classes: int,
    num_true: int = 1,
    sampled_values: Any = None,
    remove_accidental_hits: bool = True,
    partition_strategy: str = "mod",
    name: str = "sampled_softmax_loss",
    seed: Any = None,
) -> Tensor:
    """The sampled softmax training loss per row, ``(batch,)``: ``weights`` ``(num_classes, dim)``
    (or a list of shards), ``biases`` ``(num_classes,)``, ``labels`` ``(batch, num_true)`` int,
    ``inputs`` ``(batch, dim)``; ``sampled_values`` is a sampler's triple (default: the
    log-uniform sampler with ``unique=True``)."""
    nt = _check_int("num_true", num_true)
    ns = _check_int("num_sampled", num_sampled)
    nc = _check_int("num_classes", num_classes)
    w_parts, join = _weights_rows(weights, partition_strategy)
    b = convert_to_tensor(biases)
    x = convert_to_tensor(inputs)
    y = convert_to_tensor(labels)
    if y.dtype.is_floating:
        raise TypeError(
            f"Received an invalid value for argument `labels`: expected an integer tensor, got "
            f"{y.dtype.name}."
        )
    if y.shape.ndims is not None and y.shape.ndims != 2:
        raise ValueError(
            f"Received an invalid value for argument `labels`: expected shape (batch, num_true), "
            f"got {y.shape}."
        )
    if sampled_values is None:
        sampled_values = log_uniform_candidate_sampler(y, nt, ns, True, nc, seed=seed)
    if not isinstance(sampled_values, (list, tuple)) or len(sampled_values) != 3:
        raise TypeError(
            "Received an invalid value for argument `sampled_values`: expected a triple "
            f"(sampled_candidates, true_expected_count, sampled_expected_count), got "
            f"{sampled_values!r}."
        )
    sampled, true_exp, samp_exp = (convert_to_tensor(t) for t in sampled_values)
    hits = bool(remove_accidental_hits)
    n_w = len(w_parts)

    def fn(*vals: torch.Tensor) -> torch.Tensor:
        wv = join(*vals[:n_w])
        bv, xv, yv, sv, tev, sev = vals[n_w:]
        yv = yv.long().reshape(-1, nt)
        sv = sv.long().reshape(-1)
        if yv.shape[0] != xv.shape[0]:
            raise ValueError(
                f"labels has {yv.shape[0]} rows of {nt} classes but inputs has {xv.shape[0]} rows."
            )
        bad = torch.cat([yv.reshape(-1), sv])
        if bool(((bad < 0) | (bad >= wv.shape[0])).any()):
            raise IndexError(f"a class id is outside [0, {wv.shape[0]}) in labels or sampled ids")
        logits, targets = sampled_logits(
            wv, bv, xv, yv, sv,
            torch.log(tev.to(xv.dtype).reshape(-1, nt)),
            torch.log(sev.to(xv.dtype).reshape(1, -1)),
            hits,
        )  # fmt: skip
        return -(targets * torch.log_softmax(logits, 1)).sum(1)

    batch = None if x.shape.ndims is None else x.shape.as_list()[0]
    inputs_ = [*w_parts, b, x, y, sampled, true_exp, samp_exp]
    return Tensor(name, x.dtype, [batch], inputs_, fn=fn)
