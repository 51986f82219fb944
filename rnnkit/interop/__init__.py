"""Moving weights between rnnkit and other systems: ``names`` maps TF1 variable names and torch
``nn.RNN``/``nn.LSTM``/``nn.GRU`` state dicts onto rnnkit cells; ``tf1_checkpoint`` reads and writes
TensorFlow 1.x checkpoint files (``.index`` + ``.data-*``) without TensorFlow.

Imports only the library core (cells, wrappers, validation); the commands and compat layer use it.
"""

from rnnkit.interop.names import (
    load_tf1_variables,
    load_torch_state_dict,
    tf1_variables,
    torch_state_dict,
)
from rnnkit.interop.tf1_checkpoint import (
    TF1Checkpoint,
    latest_tf1_checkpoint,
    open_tf1_checkpoint,
    read_tf1_checkpoint,
    write_tf1_checkpoint,
)

__all__ = [
    "load_tf1_variables",
    "tf1_variables",
    "load_torch_state_dict",
    "torch_state_dict",
    "read_tf1_checkpoint",
    "open_tf1_checkpoint",
    "write_tf1_checkpoint",
    "latest_tf1_checkpoint",
    "TF1Checkpoint",
]
