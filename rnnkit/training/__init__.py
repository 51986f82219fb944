"""What the ``train`` and ``evaluate`` commands are built from, and the training itself.

``loop.fit`` trains a run: it opens ``--out`` (refusing a foreign or unwritable folder), restores the
last checkpoint or starts from the seed, trains epoch by epoch (the global batch split across
``torchrun`` processes, stopping on a non-finite loss or weight before saving it), saves a checkpoint
after each, and writes the model files, ``metrics.json`` and plots; each of those steps is a function
of ``loop``. ``runs`` holds a run's options, their per-task defaults and the exit codes (no torch).

Below it: bundled datasets (``data``), sequence models (``models``), verified model files and
checkpoints (``checkpoint``, on the safe file primitives of ``files`` and the JSON schema of
``schema``), RNG states (``rng``), metrics, plots, devices and ``torchrun`` DDP (``distributed``).
Imports the library (cells, runners), never a command.
"""
