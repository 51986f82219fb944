"""``tf.contrib.slim.model_analyzer.analyze_vars``: the number of values and bytes in a list of
variables, optionally printed one line per variable in TF-Slim's layout
(``name:0 (float32_ref 3x4) [12, bytes: 48]``, then the totals)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["analyze_vars"]


def analyze_vars(variables: Any, print_info: bool = False) -> tuple[int, int]:
    """``(total number of values, total bytes)`` of ``variables``; an unknown size counts 0."""
    lines = []
    total_size = total_bytes = 0
    for var in variables:
        shape = var.shape
        dims = shape.as_list() if shape.ndims is not None else None
        size = int(np.prod(dims)) if dims is not None and None not in dims else 0
        nbytes = size * np.dtype(var.dtype.as_numpy_dtype).itemsize
        total_size += size
        total_bytes += nbytes
        text = "x".join(str(d) for d in dims) if dims is not None else ""
        lines.append(f"{var.name} ({var.dtype.name}_ref {text}) [{size}, bytes: {nbytes}]")
    if print_info:
        print("---------")
        print("Variables: name (type shape) [size]")
        print("---------")
        for line in lines:
            print(line)
        print(f"Total size of variables: {total_size}")
        print(f"Total bytes of variables: {total_bytes}")
    return total_size, total_bytes
