r"""The fused engine's CPU math on numpy arrays: each cell kind's forward and backward around the numba
kernels of :mod:`rnnkit.engine.kernels`, with the BLAS threads and scratch memory they use.
:mod:`rnnkit.engine.autograd` makes one autograd node per layer of them (eager calls) and
:mod:`rnnkit.engine.library` torch operators (``torch.compile``, ``torch.export``).

Shapes: T time steps, B batch, I input width, H units, G gate blocks (1 tanh/relu, 4 LSTM, 3 GRU).

For each layer the engine computes::

    xw = x.reshape(T*B, I) @ W_x + b                    # all steps in ONE matmul      (T*B, G*H)
    for t in range(max(lengths)):                       # compiled loop (rnnkit.engine.kernels)
        gates = xw[t] + h @ W_h                         # the only per-step matmul      (B, G*H)
        h, c, y[t] = cell_elementwise(gates, h, c)      # fused, rows past their length frozen

and backward runs back-propagation through time in the same compiled style, producing the gate
gradients ``dg (T, B, G*H)`` from which ``dx = dg @ W_x^T``, ``dW_x = x^T dg``, ``dW_h = h_{t-1}^T dg``
are large matrix multiplies (over chunks of steps, so memory stays bounded for very long sequences).
What is saved for backward is only what the formulas need: the outputs for tanh/relu, the activated
gates and cell states for LSTM, the gates (and the recurrent candidate for ``reset_after``) for GRU.

Parameters are the cells' own (``kernel[:I]`` is ``W_x``, ``kernel[I:]`` is ``W_h``), so the fused path
and the plain loop are interchangeable and gradients land on the cells' parameters.

Example::

    cell = BasicLSTMCell(64, input_size=32)
    x = torch.randn(100, 16, 32)                                 # (T, B, I)
    y, (c, h) = rnnkit.engine.dynamic_rnn_fused(cell, x, None, cell.zero_state(16))
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from rnnkit.engine import kernels as K
from rnnkit.engine import load
from rnnkit.platform import gemm

__all__ = [
    "as_array",
    "as_dense_array",
    "lengths_np",
    "release_scratch",
    "rnn_forward",
    "rnn_backward",
    "lstm_forward",
    "lstm_backward",
    "gru_forward",
    "gru_backward",
    "grur_forward",
    "grur_backward",
]

# Backward processes at most this many gate-gradient elements per chunk of steps (bounds memory at
# 32 MiB in float32 while keeping the weight-gradient matmuls large).
CHUNK_ELEMENTS = 1 << 23

# --------------------------------------------------------------------------------------- threads
# The kernels' matmuls run on the OpenBLAS that numba's np.dot calls (scipy's), with at most
# torch.get_num_threads() threads. Measured on the 2-core machine: for small layers (S: B=32, H=64) a
# second OpenBLAS thread next to torch's OpenMP pool makes forward+backward ~2x slower (idle threads
# of both pools spin), for large ones (M, L) two threads are ~1.5-1.9x faster. So by default a layer
# whose per-step product has at least PARALLEL_MIN_MACS multiply-adds (B*H*G*H) uses torch's thread
# count, smaller ones one thread. BIG_THREADS (input projection, weight gradients) and STEP_THREADS
# (per-step product) override that when set to an int (still capped by torch.get_num_threads()).
# When the big products' count is 1 they run on torch's matmul and thread pool instead (see _tmm).
# The threshold was 1 << 20; in training loops, where other torch ops run between engine calls and
# leave torch's OpenMP workers spinning, two OpenBLAS threads made mid-size layers 2-3x slower
# (the TF1 chapter's MNIST step, BasicRNNCell(150), B=150, T=28: 14.7 ms per step at 1 << 20,
# 5.2 ms at 1 << 24, same run; rnnkit bench at M level within noise: 43/124/136 -> 45/122/147 ms).
BIG_THREADS: int | None = None
STEP_THREADS: int | None = None
PARALLEL_MIN_MACS = 1 << 24
# Products of at most TINY_MACS multiply-adds run on numpy's dot, whose call costs ~1 us against
# ~5 us for wrapping the arrays for torch or entering a compiled kernel (seed-size layers).
TINY_MACS = 1 << 12
_auto_threads = 1
# While two layers run at once (the two directions of a bidirectional RNN, on two threads: see
# rnnkit.engine.autograd), each runs all its products on single-threaded OpenBLAS in its own thread
# (torch's matmul would start a second OpenMP team from the worker thread); overrides are ignored.
_paired = 0


def _plan_threads(B: int, H: int, GH: int) -> None:
    """Pick the layer's OpenBLAS thread count from the size of its per-step product."""
    global _auto_threads
    big = B * H * GH >= PARALLEL_MIN_MACS and not _paired
    # a large layer takes torch's thread count, but no more threads than other processes leave cores
    _auto_threads = max(1, min(torch.get_num_threads(), round(load.spare_cores()))) if big else 1
    # Set now, not only in backward: a forward-only process (inference) otherwise ran the per-step
    # products on OpenBLAS's default thread count next to torch's spinning OpenMP pool (measured
    # at S-size LSTM under no_grad: 6.4 ms per call instead of ~2 ms, single calls up to 0.3 s).
    _step_threads()


_blas_libs: list[Any] | None = None
_blas_now: int | None = None


def _blas_threads(n: int) -> None:
    """Set the thread count of the OpenBLAS behind the kernels (cheap when unchanged)."""
    global _blas_libs, _blas_now
    if n == _blas_now:
        return
    if _blas_libs is None:
        try:
            import scipy.linalg.cython_blas  # noqa: F401  (the BLAS numba calls)
            from threadpoolctl import ThreadpoolController

            libs = ThreadpoolController().select(internal_api="openblas").lib_controllers
            # only scipy's copy (numba's np.dot); numpy's own OpenBLAS is left to the user
            _blas_libs = [lib for lib in libs if "scipy.libs" in lib.filepath] or list(libs)
        except Exception:  # pragma: no cover - threadpoolctl missing or an exotic BLAS
            _blas_libs = []
    for lib in _blas_libs:
        lib.set_num_threads(n)
    _blas_now = n


def _big_threads() -> None:
    n = _auto_threads if BIG_THREADS is None or _paired else BIG_THREADS
    _blas_threads(max(1, min(n, torch.get_num_threads())))


def _step_threads() -> None:
    n = _auto_threads if STEP_THREADS is None or _paired else STEP_THREADS
    _blas_threads(max(1, min(n, torch.get_num_threads())))


@contextlib.contextmanager
def paired() -> Iterator[None]:
    """Two layers run at once in this block (one per thread): each on one core. OpenBLAS is set to one
    thread on entry, so no piece meets a multi-threaded OpenBLAS from two threads at once."""
    global _paired
    _paired += 1
    _blas_threads(1)
    try:
        yield
    finally:
        _paired -= 1


# --------------------------------------------------------------------------------------- helpers
def as_array(t: torch.Tensor) -> np.ndarray:
    """``t``'s values as a numpy array: a view for CPU tensors (detach's cost without a new
    tensor), with ``t``'s strides."""
    return t.numpy(force=True)


def as_dense_array(t: torch.Tensor) -> np.ndarray:
    """A C-contiguous numpy view (or single-threaded copy) of ``t``: strided inputs are accepted."""
    return np.ascontiguousarray(t.numpy(force=True))


def _empty(*shape: int, like: np.ndarray) -> np.ndarray:
    return output_buffer(shape, like.dtype)


# --------------------------------------------------------------------------------------- outputs
# What a forward hands out (outputs, and what it saves for backward) is allocated per call. Buffers of
# BIG_MIN_BYTES or more come from a pool instead and are reused once nothing references them any more
# (their tensors were freed): a fresh 168 MB buffer, the TF1 chapter's test-set forward, cost 126-344
# ms of first page faults on the 2-core VM (7.5 ms once warm), each time glibc handed the memory back.
# The pool holds at most BIG_POOL_BYTES; CPython's exact reference counts say when a buffer is free.
BIG_MIN_BYTES = 1 << 25
BIG_POOL_BYTES = 1 << 30
_big_pool: list[np.ndarray] = []
_big_lock = threading.Lock()
_FREE = (
    3  # references to a free pooled buffer while checked: the pool, the loop name, getrefcount's
)


def output_buffer(shape: tuple[int, ...], dtype: np.dtype, pool_from: int = 0) -> np.ndarray:
    """An uninitialised ``shape`` array that may leave the call (see BIG_MIN_BYTES; ``pool_from``:
    a lower size from which this caller's buffers are pooled too)."""
    n = math.prod(shape)
    if n * np.dtype(dtype).itemsize < min(BIG_MIN_BYTES, pool_from or BIG_MIN_BYTES):
        return np.empty(shape, dtype=dtype)
    with _big_lock:
        for buf in _big_pool:
            if buf.size == n and buf.dtype == dtype and sys.getrefcount(buf) == _FREE:
                return buf.reshape(shape)  # a view: it keeps ``buf`` referenced while in use
        fresh = np.empty(n, dtype=dtype)
        _big_pool.append(fresh)
        total = sum(b.nbytes for b in _big_pool)
        i = 0
        while total > BIG_POOL_BYTES and i < len(_big_pool) - 1:  # drop free ones, oldest first
            buf = _big_pool[i]
            if sys.getrefcount(buf) == _FREE:
                total -= buf.nbytes
                del _big_pool[i]
            else:
                i += 1
            del buf
        return fresh.reshape(shape)


# --------------------------------------------------------------------------------------- scratch
class _ScratchBuffers(threading.local):
    def __init__(self) -> None:
        self.bufs: dict[tuple[str, np.dtype], np.ndarray] = {}
        self.zeros: dict[tuple[str, np.dtype], np.ndarray] = {}  # see _zeros: never written


_SCRATCH = _ScratchBuffers()
SCRATCH_KEEP_BYTES = 1 << 24  # 16 MiB per buffer; a handful of names per thread


def _scratch(name: str, *shape: int, like: np.ndarray) -> np.ndarray:
    """An uninitialised buffer for a temporary that never leaves one forward or backward call.

    Buffers of up to SCRATCH_KEEP_BYTES are reused across calls: one per name and dtype, per thread,
    grown to the largest size seen. Fresh multi-MB temporaries cost page faults on every call, as
    glibc hands freed memory back to the OS: measured on the 2-core machine in a new process, S-size
    forward+backward spent about a third of its time in them. Larger buffers are allocated per call
    (their page faults are small next to the work that fills them) so that little memory stays held.
    """
    return _kept(_SCRATCH.bufs, name, shape, like.dtype, np.empty)


def _kept(store: dict, name: str, shape: tuple[int, ...], dtype: np.dtype, make: Any) -> np.ndarray:
    """A ``shape`` view of this thread's buffer ``name`` in ``store``, made by ``make`` (np.empty or
    np.zeros) and grown to the largest size seen; per call past SCRATCH_KEEP_BYTES."""
    n = math.prod(shape)
    if n * np.dtype(dtype).itemsize > SCRATCH_KEEP_BYTES:
        return make(shape, dtype=dtype)
    key = (name, dtype)
    buf = store.get(key)
    if buf is None or buf.size < n:
        buf = make(max(n, 1), dtype=dtype)
        store[key] = buf
    return buf[:n].reshape(shape)


def _zeros(*shape: int, like: np.ndarray) -> np.ndarray:
    """A read-only-by-contract array of zeros (per thread, reused like :func:`_scratch`).

    Stands for the gradient of outputs nothing read (a classifier that reads only the final state):
    autograd would otherwise fill a fresh ``(T, B, H)`` tensor of zeros each step, measured at 0.57 ms
    of a 9 ms training step (the TF1 chapter's MNIST RNN, one thread), mostly first page faults."""
    return _kept(_SCRATCH.zeros, "zeros", shape, like.dtype, np.zeros)


def _state_grad(grad: torch.Tensor | None, like: np.ndarray) -> np.ndarray:
    """A private copy of a final state's gradient (the kernels update it in place); zeros where
    nothing read that state."""
    return np.zeros(like.shape, dtype=like.dtype) if grad is None else as_array(grad).copy()


def release_scratch() -> None:
    """Free this thread's scratch buffers (they are reallocated on the next fused call), and the
    pooled output buffers nothing references any more."""
    _SCRATCH.bufs.clear()
    _SCRATCH.zeros.clear()
    with _big_lock:
        _big_pool[:] = [b for b in _big_pool if sys.getrefcount(b) > _FREE]


def lengths_np(lengths: torch.Tensor | None, B: int, T: int) -> tuple[np.ndarray, int]:
    """The lengths as a contiguous int64 array (all ``T`` when ``None``) and ``tmax``, the number of
    steps any row runs (values outside ``[0, T]`` act as the nearest bound)."""
    if lengths is None:
        return np.full(B, T, dtype=np.int64), T
    arr = np.ascontiguousarray(lengths.detach().cpu().numpy(), dtype=np.int64)
    return arr, steps_run(arr, T)


def steps_run(lengths: np.ndarray, T: int) -> int:
    """``tmax`` of some rows' ``lengths`` (see :func:`lengths_np`); 0 for no rows."""
    return int(min(max(int(lengths.max()), 0), T)) if len(lengths) else 0


def _chunks(tmax: int, row_elems: int):
    """Yield ``(t0, t1)`` step ranges from the end, each with at most CHUNK_ELEMENTS gate gradients."""
    step = max(1, min(tmax, CHUNK_ELEMENTS // max(1, row_elems)))
    t1 = tmax
    while t1 > 0:
        t0 = max(0, t1 - step)
        yield t0, t1
        t1 = t0


def _projection(x: np.ndarray, wx: np.ndarray, rows: int, tmax: int) -> np.ndarray:
    """``x[:tmax] @ wx`` as ONE matmul into a fresh ``(rows, B, G*H)`` buffer (bias added per step)."""
    T, B, I = x.shape
    xw = output_buffer((rows, B, wx.shape[1]), x.dtype)
    n = tmax * B
    if n:
        _tmm(x.reshape(T * B, I)[:n], wx, xw.reshape(rows * B, wx.shape[1])[:n])
    return xw


class _Grads:
    """The large-matmul gradients of one layer, accumulated over backward chunks (numpy, OpenBLAS)."""

    def __init__(
        self,
        need_x: bool,
        need_w: bool,
        x: np.ndarray,
        wx: np.ndarray,
        GH: int,
        H: int,
        dwx: np.ndarray | None = None,
    ) -> None:
        T, B, I = x.shape  # x: the C-contiguous inputs saved by forward
        self.x2, self.B, self.I = x.reshape(T * B, I), B, I
        self.need_x, self.need_w = need_x, need_w
        self.wxt = wx.T  # (G*H, I), a transposed view
        self.dx = np.zeros(x.shape, dtype=x.dtype) if self.need_x else None
        if not self.need_w:
            dwx = None
        elif dwx is None:
            dwx = np.zeros_like(wx)
        self.dwx = dwx  # zeros, or a zeroed view into the caller's kernel gradient
        self.dbx = np.zeros(GH, dtype=x.dtype) if self.need_w else None
        self.first = True
        _plan_threads(B, H, GH)
        _step_threads()

    def add(self, t0: int, t1: int, dg: np.ndarray) -> None:
        """``dg (Tc, B, G*H)``: gradients w.r.t. the input projection of steps ``[t0, t1)``."""
        B = self.B
        dg2 = dg[: t1 - t0].reshape((t1 - t0) * B, -1)
        if self.need_x:
            _tmm(dg2, self.wxt, self.dx.reshape(-1, self.I)[t0 * B : t1 * B])
        if self.need_w:
            _mm_acc(self.x2[t0 * B : t1 * B].T, dg2, self.dwx, self.first)
            self.dbx += dg2.sum(0)
        self.first = False

    def result(self):
        f = _tensor
        return f(self.dx), f(self.dwx), f(self.dbx)


def _mm_acc(a: np.ndarray, b: np.ndarray, out: np.ndarray, first: bool) -> None:
    """``out = a @ b`` on the first chunk, ``out += a @ b`` after."""
    _tmm(a, b, out, accumulate=not first)


def _tmm(a: np.ndarray, b: np.ndarray, out: np.ndarray, accumulate: bool = False) -> None:
    """``out = a @ b`` (or ``out += a @ b``) for the large products (input projection, input and
    weight gradients); ``out`` is C-contiguous, ``a``/``b`` may be transposed views.

    Layers whose per-step product runs on one OpenBLAS thread use torch's thread pool, on zero-copy
    views: oneDNN's matmul where :func:`gemm.takes` says so (:mod:`rnnkit.platform.gemm`), else
    torch's ``mm``. Measured on the 2-core machine: S-size LSTM forward+backward ~10% faster on
    torch's mm than on one OpenBLAS thread, mostly from the transposed weight-gradient product; the
    TF1 chapter's MNIST RNN training step (B=150, T=28, H=150) on one thread 6.75 -> 5.68 ms with
    oneDNN's in place of torch's mm (freed memory kept, alternating in one process). Layers whose
    per-step product uses several OpenBLAS threads keep OpenBLAS, as OpenBLAS's waiting threads and
    torch's pool contend for the cores (M-size LSTM forward+backward measured ~35% slower with
    torch's matmul).

    When torch itself computes on one thread (a busy machine: ``adaptive_threads``; or the user's
    setting) there is no pool to use, and a product oneDNN does not take runs on OpenBLAS, whose one
    thread runs these shapes about twice as fast as torch's ``mm`` (MKL's path for AMD CPUs): one
    thread, us, ``mm`` -> OpenBLAS, ``(4200, 28) @ (28, 150)`` 378 -> 187, the transposed
    ``(150, 4050) @ (4050, 150)`` 2027 -> 1089, ``(4200, 150) @ (150, 28)`` 529 -> 264. The MNIST
    step above on one thread, alternating in one process: 7.75 -> 6.21 ms (1.03x faster where
    ``OPENBLAS_CORETYPE=Haswell`` holds OpenBLAS to its AVX2 kernels)."""
    if a.shape[0] * a.shape[1] * b.shape[1] <= TINY_MACS:  # call overhead dominates: numpy
        if accumulate:  # np.dot: ~0.7 us less per call than the matmul ufunc at seed size
            out += np.dot(a, b)
        else:
            np.dot(a, b, out)
        return
    if _paired or (_auto_threads if BIG_THREADS is None else BIG_THREADS) > 1 or _one_thread(a, b):
        a, b = _blas_ready(a), _blas_ready(b)
        if not accumulate and out.nbytes >= PREFAULT_BYTES:
            _touch(out)
        _big_threads()
        if accumulate:
            K.gemm_acc(a, b, out, np.empty_like(out))
        else:
            K.gemm(a, b, out)
        _step_threads()
        return
    f = torch.from_numpy
    gemm.mm_into(f(a), f(b), f(out), accumulate)


def _one_thread(a: np.ndarray, b: np.ndarray) -> bool:
    """Torch computes on one thread and oneDNN would not take ``a @ b``: OpenBLAS's one thread is
    the faster (see :func:`_tmm`)."""
    return torch.get_num_threads() == 1 and not gemm.takes(torch.from_numpy(a), torch.from_numpy(b))


# A fresh output of at least PREFAULT_BYTES is touched once (one write per page, on this thread) before
# OpenBLAS's threads fill it: two threads taking the first page faults of one new mapping at once were
# measured 2-10x slower than one (the TF1 chapter's test-set forward, B=10000, T=28, I=28, H=150: the
# input projection into a 168 MB buffer took 43-300 ms on two threads, 25 ms on one; touched first,
# the faults cost ~5 ms).
PREFAULT_BYTES = 1 << 25


def _touch(out: np.ndarray) -> None:
    """Take the page faults of a C-contiguous ``out`` now (its values are about to be overwritten)."""
    flat = out.reshape(-1)
    flat[:: max(1, 4096 // out.itemsize)] = 0


def _blas_ready(a: np.ndarray) -> np.ndarray:
    """``a`` if numba's gemm takes it as is (C or F order), else a contiguous copy."""
    return a if a.flags.c_contiguous or a.flags.f_contiguous else np.ascontiguousarray(a)


def _tensor(a: np.ndarray | None) -> torch.Tensor | None:
    return None if a is None else torch.from_numpy(a)


def _acc_prev(h0: np.ndarray, hist: np.ndarray, t0: int, t1: int, d: np.ndarray,
              out: np.ndarray, first: bool) -> None:  # fmt: skip
    """``out (+)= sum_t h_{t-1}^T d_t`` over steps ``[t0, t1)``, where ``h_{t-1}`` is ``hist[t-1]`` and
    ``h0`` at ``t = 0``; ``d ((t1 - t0) * B, N)``. Two products instead of copying ``[h0, hist]``."""
    B, H = h0.shape
    if t0 > 0:
        _mm_acc(hist[t0 - 1 : t1 - 1].reshape(-1, H).T, d, out, first)
        return
    _mm_acc(h0.T, d[:B], out, first)
    if t1 > 1:
        _mm_acc(hist[: t1 - 1].reshape(-1, H).T, d[B:], out, False)


def _prev(h0: np.ndarray, hist: np.ndarray, t0: int, t1: int) -> np.ndarray:
    """``h_{t-1}`` for t in ``[t0, t1)`` as ``(t1 - t0, B, H)`` (a view when ``t0 > 0``)."""
    if t0 > 0:
        return hist[t0 - 1 : t1 - 1]
    hp = _scratch("prev", t1 - t0, *h0.shape, like=h0)
    hp[0] = h0
    hp[1:] = hist[: t1 - 1]
    return hp


def _dout(grad_out: torch.Tensor | None, t0: int, t1: int, out: np.ndarray) -> np.ndarray:
    """The output gradients of steps ``[t0, t1)``, C-contiguous (copied into scratch if needed);
    zeros shaped like ``out`` where nothing read the outputs (``grad_out`` is None)."""
    if grad_out is None:
        return _zeros(t1 - t0, *out.shape[1:], like=out)
    g = as_array(grad_out)[t0:t1]  # numpy's slice: cheaper than a torch view per chunk
    if g.flags.c_contiguous:
        return g
    buf = _scratch("dout", *g.shape, like=g)
    np.copyto(buf, g)
    return buf


def _split_kernel(kernel: np.ndarray, I: int) -> tuple[np.ndarray, np.ndarray]:
    """``W_x``, ``W_h``: row views of a cell's ``kernel (I + H, G*H)`` (the layer's one parameter, so
    autograd records no slicing and its gradient is filled in place by backward)."""
    k = np.ascontiguousarray(kernel)  # a view unless the parameter was made non-contiguous
    return k[:I], k[I:]


def _gru_weights(gk: np.ndarray, ck: np.ndarray, I: int):
    """A GRUCell's kernels as the engine uses them: ``W_x (I, 3H)``, the input side of
    [reset, update | candidate] (a concatenated copy), and the recurrent ``(W_gh, W_ch)`` (views)."""
    (gx, gh), (cx, ch) = _split_kernel(gk, I), _split_kernel(ck, I)
    return np.concatenate([gx, cx], 1), (gh, ch)


def _gru_grads(g: Any, dwx: Any, dbx: Any, dgk: np.ndarray, dck: np.ndarray, I: int) -> tuple:
    """Gradients of (gates_kernel, candidate_kernel, gates_bias, candidate_bias) from the engine's
    concatenated input-side gradients ``dwx (I, 3H)``, ``dbx (3H,)`` and the recurrent rows already
    written into ``dgk[I:]``, ``dck[I:]``."""
    if not g.need_w:
        return None, None, None, None
    G2 = dgk.shape[1]  # 2H
    dwx, dbx = dwx.numpy(), dbx.numpy()
    dgk[:I], dck[:I] = dwx[:, :G2], dwx[:, G2:]
    f = torch.from_numpy
    return f(dgk), f(dck), f(dbx[:G2].copy()), f(dbx[G2:].copy())  # no shared storage


# --------------------------------------------------------------------------------------- tanh/relu
# Each cell kind has a forward and a backward on numpy arrays; rnnkit.engine.autograd wraps them as an
# autograd.Function (eager calls), rnnkit.engine.library as torch operators (torch.compile / export).
# ``rows`` is the number of steps of the saved intermediates: ``tmax`` for eager calls, ``T`` for the
# operators (whose output shapes cannot depend on the lengths' values); rows past ``tmax`` are zeros.


def rnn_forward(xn, h0, kernel, bias, lengths, tmax, relu):
    """``xn (T, B, I)`` C-contiguous -> ``(out (T, B, H), h (B, H))``."""
    T, B, I = xn.shape
    Wx, Wh = _split_kernel(kernel, I)
    _plan_threads(B, Wh.shape[0], Wh.shape[1])
    out = _projection(xn, Wx, T, tmax)  # (T, B, H), becomes the outputs
    h = h0.copy()
    K.rnn_forward(out, bias, Wh, h, lengths, tmax, relu, _scratch("s0", *h.shape, like=h))
    return out, h


def rnn_backward(x, h0, kern, out, grad_out, grad_h, lengths, tmax, relu, need_x, need_w):
    """Gradients ``(dx, dh0, dkernel, dbias)`` (None where not needed) from the saved arrays."""
    B, H = h0.shape
    I = x.shape[2]
    Wx, Wh = _split_kernel(kern, I)
    dk = np.zeros(kern.shape, dtype=kern.dtype)  # the kernel's gradient: dW_x rows, then dW_h rows
    g = _Grads(need_x, need_w, x, Wx, H, H, dwx=dk[:I])
    dh = _state_grad(grad_h, h0)
    dwh = dk[I:]
    wht = np.asfortranarray(Wh.T)  # a view: the product reads it transposed
    tmp = _scratch("s0", B, H, like=dh)
    dg = None
    for t0, t1 in _chunks(tmax, B * H):
        if dg is None:
            dg = _scratch("dg", t1 - t0, B, H, like=dh)
        K.rnn_backward(_dout(grad_out, t0, t1, out), out, wht, dh, lengths, t0, t1, relu, dg, tmp)
        if need_w:
            _acc_prev(h0, out, t0, t1, dg[: t1 - t0].reshape(-1, H), dwh, g.first)
        g.add(t0, t1, dg)
    dx, _, dbx = g.result()
    return dx, torch.from_numpy(dh), torch.from_numpy(dk) if need_w else None, dbx


# --------------------------------------------------------------------------------------- LSTM
def lstm_forward(xn, c0, h0, kernel, bias, wi, wf, wo, lengths, tmax, forget_bias, rows):
    """-> ``(out (T, B, H), c (B, H), h (B, H), gates (rows, B, 4H), cs (rows, B, H))``; gates are
    the activated i, j, f, o and cs the cell states, both kept for backward."""
    T, B, I = xn.shape
    Wx, Wh = _split_kernel(kernel, I)
    H = Wh.shape[0]
    _plan_threads(B, H, Wx.shape[1])
    gates = _projection(xn, Wx, rows, tmax)  # (rows, B, 4H), becomes activations
    cs = _empty(rows, B, H, like=xn)
    out = _empty(T, B, H, like=xn)
    c, h = c0.copy(), h0.copy()
    K.lstm_forward(
        gates, bias, Wh, c, h, cs, out, lengths, tmax, xn.dtype.type(forget_bias), wi, wf, wo,
        _scratch("s0", B, 4 * H, like=xn),
    )  # fmt: skip
    gates[tmax:], cs[tmax:] = 0, 0
    return out, c, h, gates, cs


def lstm_backward(x, c0, h0, kern, wi, wf, wo, gates, cs, out, grad_out, grad_c, grad_h,
                  lengths, tmax, peep, need_x, need_w):  # fmt: skip
    """Gradients ``(dx, dc0, dh0, dkernel, dbias, dpeep (3, H) or None)``."""
    B, H = h0.shape
    I = x.shape[2]
    Wx, Wh = _split_kernel(kern, I)
    dk = np.zeros(kern.shape, dtype=kern.dtype)  # the kernel's gradient: dW_x rows, then dW_h rows
    g = _Grads(need_x, need_w, x, Wx, 4 * H, H, dwx=dk[:I])
    dh, dc = _state_grad(grad_h, h0), _state_grad(grad_c, c0)
    dwh = dk[I:]
    dpeep = np.zeros((3, H), dtype=x.dtype)
    wht = np.asfortranarray(Wh.T)  # a view: the product reads it transposed
    tmp = _scratch("s0", B, H, like=dh)
    dg = None
    for t0, t1 in _chunks(tmax, B * 4 * H):
        if dg is None:
            dg = _scratch("dg", t1 - t0, B, 4 * H, like=dh)
        K.lstm_backward(
            _dout(grad_out, t0, t1, out), gates, cs, c0, wht, dh, dc, lengths, t0, t1,
            wi, wf, wo, dg, tmp,
        )  # fmt: skip
        if need_w:
            _acc_prev(h0, out, t0, t1, dg[: t1 - t0].reshape(-1, 4 * H), dwh, g.first)
        if peep:  # peephole gradients: sum over steps and rows of gate gradient * cell
            d = dg[: t1 - t0]
            cprev = _prev(c0, cs, t0, t1)
            dpeep[0] += np.einsum("tbh,tbh->h", d[..., :H], cprev)
            dpeep[1] += np.einsum("tbh,tbh->h", d[..., 2 * H : 3 * H], cprev)
            dpeep[2] += np.einsum("tbh,tbh->h", d[..., 3 * H :], cs[t0:t1])
        g.add(t0, t1, dg)
    dx, _, dbx = g.result()
    dk_t = torch.from_numpy(dk) if need_w else None
    dp = torch.from_numpy(dpeep) if peep else None
    return dx, torch.from_numpy(dc), torch.from_numpy(dh), dk_t, dbx, dp


# --------------------------------------------------------------------------------------- GRU (TF1)
def gru_forward(xn, h0, gk, ck, gb, cb, lengths, tmax, rows):
    """-> ``(out (T, B, H), h (B, H), gates (rows, B, 3H))`` (activated r, u and candidate)."""
    T, B, I = xn.shape
    Wx, (Wgh, Wch) = _gru_weights(gk, ck, I)
    bx = np.concatenate([gb, cb])
    H = Wch.shape[0]
    _plan_threads(B, H, Wx.shape[1])
    gates = _projection(xn, Wx, rows, tmax)  # (rows, B, 3H) -> r, u, c
    out = _empty(T, B, H, like=xn)
    h = h0.copy()
    K.gru_forward(
        gates, bx, Wgh, Wch, h, out, lengths, tmax,
        _scratch("s0", B, 2 * H, like=xn), np.zeros_like(h), _scratch("s1", B, H, like=xn),
    )  # fmt: skip
    gates[tmax:] = 0
    return out, h, gates


def gru_backward(x, h0, gk, ck, gates, out, grad_out, grad_h, lengths, tmax, need_x, need_w):
    """Gradients ``(dx, dh0, d gates_kernel, d candidate_kernel, d gates_bias, d candidate_bias)``."""
    B, H = h0.shape
    I = x.shape[2]
    Wx, (Wgh, Wch) = _gru_weights(gk, ck, I)
    g = _Grads(need_x, need_w, x, Wx, 3 * H, H)
    dh = _state_grad(grad_h, h0)
    dgk, dck = np.zeros(gk.shape, x.dtype), np.zeros(ck.shape, x.dtype)  # kernels' gradients
    dwgh, dwch = dgk[I:], dck[I:]
    wght, wcht = np.asfortranarray(Wgh.T), np.asfortranarray(Wch.T)  # views
    dpc, dgu, drh, acc = (_scratch("s0", B, H, like=dh), _scratch("s1", B, 2 * H, like=dh),
                          _scratch("s2", B, H, like=dh), _scratch("s3", B, H, like=dh))  # fmt: skip
    dg = None
    for t0, t1 in _chunks(tmax, B * 3 * H):
        if dg is None:
            dg = _scratch("dg", t1 - t0, B, 3 * H, like=dh)
        K.gru_backward(
            _dout(grad_out, t0, t1, out), out, gates, h0, wght, wcht, dh, lengths, t0, t1,
            dg, dpc, dgu, drh, acc,
        )  # fmt: skip
        if need_w:
            n = (t1 - t0) * B
            d = dg[: t1 - t0].reshape(n, 3 * H)
            _acc_prev(h0, out, t0, t1, d[:, : 2 * H], dwgh, g.first)
            rh = _scratch("rh", t1 - t0, B, H, like=dh)
            np.multiply(gates[t0:t1, :, :H], _prev(h0, out, t0, t1), out=rh)  # r * h_{t-1}
            _mm_acc(rh.reshape(n, H).T, d[:, 2 * H :], dwch, g.first)
        g.add(t0, t1, dg)
    dx, dwx, dbx = g.result()
    return dx, torch.from_numpy(dh), *_gru_grads(g, dwx, dbx, dgk, dck, I)


# --------------------------------------------------------------------------------------- GRU (after)
def grur_forward(xn, h0, gk, ck, gb, cb, brec, lengths, tmax, rows):
    """-> ``(out (T, B, H), h (B, H), gates (rows, B, 3H), hcs (rows, B, H))`` (hcs: the recurrent
    candidate product ``h W_ch + b_rec``)."""
    T, B, I = xn.shape
    Wx, (Wgh, Wch) = _gru_weights(gk, ck, I)
    bx = np.concatenate([gb, cb])
    Wh = np.concatenate([Wgh, Wch], 1)  # (H, 3H): one recurrent product per step
    H = Wh.shape[0]
    _plan_threads(B, H, Wx.shape[1])
    gates = _projection(xn, Wx, rows, tmax)  # (rows, B, 3H) -> r, u, c
    hcs = np.zeros((rows, B, H), dtype=xn.dtype)  # rows past a length stay zeros (deterministic)
    out = _empty(T, B, H, like=xn)
    h = h0.copy()
    K.grur_forward(
        gates, bx, Wh, brec, h, hcs, out, lengths, tmax, _scratch("s0", B, 3 * H, like=xn)
    )
    gates[tmax:] = 0
    return out, h, gates, hcs


def grur_backward(x, h0, gk, ck, gates, hcs, out, grad_out, grad_h, lengths, tmax, need_x, need_w):
    """Gradients ``(dx, dh0, d gates_kernel, d candidate_kernel, d gates_bias, d candidate_bias,
    d candidate_recurrent_bias)``."""
    B, H = h0.shape
    I = x.shape[2]
    Wx, (Wgh, Wch) = _gru_weights(gk, ck, I)
    Wh = np.concatenate([Wgh, Wch], 1)
    g = _Grads(need_x, need_w, x, Wx, 3 * H, H)
    dh = _state_grad(grad_h, h0)
    dwh = np.zeros_like(Wh) if need_w else None
    dbrec = np.zeros(H, dtype=x.dtype) if need_w else None
    wht = np.asfortranarray(Wh.T)  # a view: the product reads it transposed
    tmp = _scratch("s0", B, H, like=dh)
    dg = drec = None
    for t0, t1 in _chunks(tmax, B * 6 * H):
        if dg is None:
            dg = _scratch("dg", t1 - t0, B, 3 * H, like=dh)
            drec = _scratch("drec", t1 - t0, B, 3 * H, like=dh)
        K.grur_backward(
            _dout(grad_out, t0, t1, out),
            out,
            gates,
            hcs,
            h0,
            wht,
            dh,
            lengths,
            t0,
            t1,
            dg,
            drec,
            tmp,
        )
        if need_w:
            n = (t1 - t0) * B
            dr = drec[: t1 - t0].reshape(n, 3 * H)
            _acc_prev(h0, out, t0, t1, dr, dwh, g.first)
            dbrec += dr[:, 2 * H :].sum(0)
        g.add(t0, t1, dg)
    dx, dwx, dbx = g.result()
    dgk, dck = np.zeros(gk.shape, x.dtype), np.zeros(ck.shape, x.dtype)
    if need_w:
        dgk[I:], dck[I:] = dwh[:, : 2 * H], dwh[:, 2 * H :]
    return dx, torch.from_numpy(dh), *_gru_grads(g, dwx, dbx, dgk, dck, I), _tensor(dbrec)
