"""Record real TensorFlow's results for the programs in ``tests/compat/_census_programs.py``: one
``<program>.npz`` per program in ``tests/fixtures/tf1_census_programs`` (float32/int arrays, no
pickles), and ``errors.json`` with the type and text of each error case.

Needs TensorFlow 2.16 or later with ``tf-keras``; run it outside rnnkit's environment::

    TF_USE_LEGACY_KERAS=1 /root/tfvenv/bin/python tools/make_tf1_census_program_fixtures.py \\
        --out tests/fixtures/tf1_census_programs
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tf_reference import tf1

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.compat import _census_programs as programs  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "tests/fixtures/tf1_census_programs")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, fn in programs.PROGRAMS.items():
        arrays = {k: np.asarray(v) for k, v in fn(tf1).items()}
        np.savez_compressed(args.out / f"{name}.npz", **arrays)
        print(name, sorted(arrays))
    errors = {}
    for fn in (programs.bidirectional_float_lengths,):
        try:
            fn(tf1)
        except Exception as e:  # the error TF raises is the record
            errors[fn.__name__] = {"type": type(e).__name__, "message": str(e)}
        else:
            raise SystemExit(f"{fn.__name__}: TensorFlow raised nothing")
    (args.out / "errors.json").write_text(json.dumps(errors, indent=1) + "\n")
    print(errors)


if __name__ == "__main__":
    main()
