"""Peak memory and speed of reading a large TF1 checkpoint with rnnkit (no TensorFlow).

Writes a checkpoint of ``--tensors`` float32 tensors totalling ``--size-mb`` MiB, then measures, each
in a fresh process, the peak resident memory (``ru_maxrss``) above the same process's baseline after
``import rnnkit.interop``:

* ``open``: ``open_tf1_checkpoint`` plus ``keys()``/``shape()``/``dtype()`` of every tensor;
* ``one tensor``: reading one tensor (``size / tensors`` MiB);
* ``all tensors``: ``read_tf1_checkpoint`` (every tensor).

Example::

    python benchmarks/bench_tf1_checkpoint.py --size-mb 1024 --tensors 8
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, resource, sys, time
import numpy as np
from rnnkit.interop import open_tf1_checkpoint, read_tf1_checkpoint, write_tf1_checkpoint

def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

mode, prefix, size_mb, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
base, start, got = peak_mib(), time.perf_counter(), 0
if mode == "write":
    n = size_mb * (1 << 20) // 4 // count
    rng = np.random.default_rng(0)
    write_tf1_checkpoint(prefix, {f"layer_{k}/kernel": rng.random(n, dtype=np.float32) for k in range(count)})
    got = size_mb << 20
elif mode == "open":
    with open_tf1_checkpoint(prefix) as ckpt:
        meta = [(name, ckpt.shape(name), ckpt.dtype(name)) for name in ckpt]
elif mode == "one":
    with open_tf1_checkpoint(prefix) as ckpt:
        got = ckpt["layer_0/kernel"].nbytes
elif mode == "all":
    got = sum(a.nbytes for a in read_tf1_checkpoint(prefix).values())
print(json.dumps({"mode": mode, "seconds": time.perf_counter() - start,
                  "peak_above_baseline_mib": peak_mib() - base, "tensor_mib": got / (1 << 20)}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--tensors", type=int, default=8)
    parser.add_argument("--dir", default=None, help="where to write the checkpoint (a temp dir)")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(dir=args.dir)
    prefix = os.path.join(folder, "model.ckpt-1")
    try:
        rows = []
        for mode in ("write", "open", "one", "all"):
            cmd = [sys.executable, "-c", CHILD, mode, prefix, str(args.size_mb), str(args.tensors)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            rows.append(json.loads(out.splitlines()[-1]))
        on_disk = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    finally:
        shutil.rmtree(folder)
    print(f"checkpoint: {on_disk / (1 << 20):.1f} MiB on disk, {args.tensors} float32 tensors")
    print(
        f"{'step':12s} {'seconds':>8s} {'tensors read MiB':>17s} {'peak RSS above baseline MiB':>28s}"
    )
    for r in rows:
        print(
            f"{r['mode']:12s} {r['seconds']:8.2f} {r['tensor_mib']:17.1f} {r['peak_above_baseline_mib']:28.1f}"
        )
    print(json.dumps({"when": time.strftime("%Y-%m-%d"), "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
