"""What this machine and process offer the layers above, below the cells: float32 products on
oneDNN's matmul where torch's own ``mm`` is the slower (:mod:`rnnkit.platform.gemm`), and the
process setting that keeps freed memory for reuse (:mod:`rnnkit.platform.memory`)."""
