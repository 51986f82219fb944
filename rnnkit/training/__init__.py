"""What the ``train`` and ``evaluate`` commands are built from: bundled datasets (``data``), sequence
models (``models``), verified model files and checkpoints (``checkpoint``, on the safe file primitives
of ``files`` and the JSON schema of ``schema``), RNG states (``rng``), metrics, plots, devices and
``torchrun`` DDP (``distributed``). Imports the library (cells, runners), never a command.
"""
