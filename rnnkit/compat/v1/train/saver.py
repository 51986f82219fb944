"""``tf.train.Saver``: TensorFlow's own checkpoint files (V2 tensor
bundle: ``prefix.index`` + ``prefix.data-00000-of-00001`` + the ``checkpoint`` state file), written
and read by :mod:`rnnkit.interop` without TensorFlow, under the variables' TensorFlow names, so a
checkpoint saved here restores in real TensorFlow and the other way round.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from rnnkit._validation import invalid_type
from rnnkit.compat.v1.errors import InvalidArgumentError, NotFoundError
from rnnkit.compat.v1.ops import GraphKeys, Tensor, get_default_graph
from rnnkit.compat.v1.train.checkpoint_state import latest_checkpoint
from rnnkit.compat.v1.variables import Variable

__all__ = ["Saver", "latest_checkpoint"]


class Saver:
    """``Saver(var_list=None, max_to_keep=5)``: ``save(sess, path, global_step=None)`` returns the
    prefix written (``path-STEP``); ``restore(sess, path)`` sets every variable of ``var_list``
    (default: all global variables, optimizer slots included) from the checkpoint."""

    def __init__(
        self,
        var_list: Any = None,
        reshape: bool = False,
        sharded: bool = False,
        max_to_keep: int | None = 5,
        **kwargs: Any,
    ) -> None:
        graph = get_default_graph()
        if var_list is None:
            variables = {v._op_name: v for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES)}
        elif isinstance(var_list, dict):
            variables = dict(var_list)
        else:
            variables = {v._op_name: v for v in var_list}
        for name, v in variables.items():
            if not isinstance(v, Variable):
                raise TypeError(
                    f"Received an invalid value for argument `var_list`: expected tf.Variable items, got {v!r} for {name!r}."
                )
        if not variables:
            raise ValueError("No variables to save")
        self._variables = variables
        self._max_to_keep = max_to_keep
        self._kept: list[str] = []

    def save(
        self,
        sess: Any,
        save_path: str,
        global_step: Any = None,
        latest_filename: Any = None,
        meta_graph_suffix: str = "meta",
        write_meta_graph: bool = True,
        write_state: bool = True,
        **kwargs: Any,
    ) -> str:
        from rnnkit.interop import write_tf1_checkpoint
        from rnnkit.interop._checkpoint_state import fspath
        from rnnkit.interop._checkpoint_state import write_state as record_state

        save_path = fspath("save_path", save_path)
        if global_step is not None:
            step = global_step
            if isinstance(step, (Variable, Tensor)):
                step = sess.run(step)
            step = np.asarray(step)
            if step.shape != () or step.dtype.kind not in "iu":
                raise invalid_type(
                    "global_step", "an integer (or an integer variable)", global_step
                )
            save_path = f"{save_path}-{int(step)}"
        tensors = {}
        for name, v in self._variables.items():
            value = sess.variable_store.read(v)  # FailedPreconditionError naming it
            tensors[name] = value.detach().cpu().numpy()
        directory = os.path.dirname(os.path.abspath(save_path))
        if not os.path.isdir(directory):
            raise NotFoundError(f"Parent directory of {save_path} doesn't exist, can't save.")
        prefix = write_tf1_checkpoint(save_path, tensors, update_state=False)
        if self._max_to_keep:  # TF1: with max_to_keep None or 0 nothing is kept track of
            if prefix in self._kept:
                self._kept.remove(prefix)
            self._kept.append(prefix)
            if len(self._kept) > self._max_to_keep:
                old = self._kept.pop(0)  # a checkpoint this saver wrote: its files go
                for suffix in (".index", ".data-00000-of-00001"):
                    try:
                        os.remove(old + suffix)
                    except FileNotFoundError:
                        pass
        if write_state:  # the state file lists what this saver keeps (TF1's last_checkpoints)
            state_path = os.path.join(directory, latest_filename or "checkpoint")
            # the state file names paths relative to its own folder: a relative save_path
            # ("save/model.ckpt") is relative to the working directory, not to that folder
            record_state(state_path, [os.path.abspath(p) for p in self._kept or [prefix]])
        return prefix

    def restore(self, sess: Any, save_path: str) -> None:
        from rnnkit.interop import open_tf1_checkpoint
        from rnnkit.interop._checkpoint_state import fspath

        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        save_path = fspath("save_path", save_path)
        if not os.path.exists(save_path + ".index"):
            raise NotFoundError(f"The passed save_path is not a valid checkpoint: {save_path}")
        with open_tf1_checkpoint(save_path) as ckpt:
            keys = set(ckpt.keys())
            values = {}
            for name, v in self._variables.items():
                if name not in keys:
                    raise NotFoundError(f"Key {name} not found in checkpoint {save_path}")
                arr = np.asarray(ckpt[name])
                if arr.dtype != v.dtype._np:  # TF refuses to cast a checkpoint's values
                    raise InvalidArgumentError(
                        f"Restoring from checkpoint failed: tensor {name} has dtype {arr.dtype} in "
                        f"{save_path}, but the variable expects {v.dtype.name} (expected dtype "
                        f"{v.dtype.name} does not equal original dtype {arr.dtype})."
                    )
                if v.shape.is_fully_defined() and tuple(arr.shape) != tuple(v.shape.as_list()):
                    raise InvalidArgumentError(
                        f"Restoring from checkpoint failed: {name} has shape {tuple(arr.shape)} in "
                        f"{save_path}, but the variable has shape {v.shape}."
                    )
                values[v] = torch.from_numpy(np.array(arr, dtype=v.dtype._np, copy=True))
        sess.variable_store.assign_all(values, "save/restore_all")

    @property
    def last_checkpoints(self) -> list[str]:
        return list(self._kept)
