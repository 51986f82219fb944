"""What the ``train`` and ``evaluate`` commands are built from: bundled datasets (``data``), sequence
models (``models``), safe checkpoints (``checkpoint``), metrics, devices and ``torchrun`` DDP
(``distributed``). Imports the library (cells, runners), never a command.
"""
