"""Moving weights between rnnkit and other systems: ``names`` maps TF1 variable names and torch
``nn.RNN``/``nn.LSTM``/``nn.GRU`` state dicts onto rnnkit cells.

Imports only the library core (cells, wrappers, validation); the commands and compat layer use it.
"""

from rnnkit.interop.names import (
    load_tf1_variables,
    load_torch_state_dict,
    tf1_variables,
    torch_state_dict,
)

__all__ = ["load_tf1_variables", "tf1_variables", "load_torch_state_dict", "torch_state_dict"]
