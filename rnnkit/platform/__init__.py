"""What this machine and process offer the layers above, below the cells: float32 products on
oneDNN's matmul where torch's own ``mm`` is the slower (:mod:`rnnkit.platform.gemm`), the process
setting that keeps freed memory for reuse (:mod:`rnnkit.platform.memory`), the compiled kernels'
shared activations (:mod:`rnnkit.platform.compiled`) and an LSTM step's elementwise part as one
compiled kernel and one autograd node (:mod:`rnnkit.platform.pointwise`)."""
