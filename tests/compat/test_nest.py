"""``tf.nest`` (``nest.py``) against TensorFlow's results (``tests/fixtures/tf1_census_gaps``)."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import census_fixture


def test_nest_matches_tf():
    import collections

    ref = census_fixture("nest")
    Point = collections.namedtuple("Point", ["y", "x"])
    structure = {"b": (1, [2, 3]), "a": Point(y=4, x=5)}
    for nest in (tf.nest, tf.contrib.framework.nest):
        flat = nest.flatten(structure)
        assert flat == list(ref["flat"])
        packed = nest.pack_sequence_as(structure, [10 * v for v in flat])
        assert nest.flatten(packed) == list(ref["packed_flat"])
        assert type(packed["a"]).__name__ == str(ref["packed_a_type"]) and list(packed) == [
            "b",
            "a",
        ]
        mapped = nest.map_structure(lambda u, v: u + v, structure, structure)
        assert nest.flatten(mapped) == list(ref["mapped_flat"])
        seq = [nest.is_sequence(v) for v in ("ab", [1], (), {"a": 1}, Point(1, 2), 3, np.zeros(2))]
        assert seq == list(ref["is_sequence"])
    with pytest.raises(ValueError, match="don't have the same nested structure"):
        tf.nest.assert_same_structure([1, 2], [1, [2]])
    with pytest.raises(ValueError, match="Structure had 2 atoms, but flat_sequence had 3"):
        tf.nest.pack_sequence_as([1, 2], [1, 2, 3])
