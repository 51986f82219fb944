import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", parent=settings.get_profile("default"), derandomize=True, print_blob=True
)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture
def general_path(monkeypatch):
    """Every fused call through the engine's general path, however small the layer (tests of what
    that path does: threads, buffers, oneDNN, the team); small layers, and LSTM layers for oneDNN
    from zero state, otherwise take ``rnnkit.engine.small``'s short dispatch."""
    from rnnkit.engine import small

    monkeypatch.setattr(small, "MAX_MACS", -1)
    monkeypatch.setattr(small, "_onednn_takes", lambda *args: False)
