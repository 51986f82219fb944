"""Unmodified TensorFlow 1.x code on rnnkit.compat.v1: ``import tensorflow`` resolves to it.

:func:`install` puts an import hook first in ``sys.meta_path``; from then on ``import tensorflow``,
``import tensorflow.compat.v1``, ``from tensorflow.contrib import rnn``, ``tensorflow.contrib.*``,
``from tensorflow.python.ops import rnn, rnn_cell``, ``from tensorflow.examples.tutorials.mnist
import input_data`` and the other forms TF1 code imports give module objects whose attributes are
rnnkit.compat.v1's (a submodule's are its namespace's: ``tensorflow.contrib.rnn`` is ``tf.contrib.rnn``).
A name outside the subset raises :class:`~rnnkit.compat.v1.UnsupportedError` naming it; an import
of a module outside it raises :class:`UnsupportedImport` (an ``ImportError``) naming it. :func:`uninstall` restores ``sys.modules`` and ``sys.meta_path``.

``python -m rnnkit tf1 SCRIPT [ARGS...]`` installs the hook and runs a script (see
``rnnkit/commands/tf1.py``); in a notebook, ``import rnnkit.compat.v1; rnnkit.compat.v1.install()``
before the notebook's own ``import tensorflow``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
import types
from typing import Any

from rnnkit.compat.v1.errors import Namespace, UnsupportedError, unsupported

__all__ = ["install", "uninstall", "installed", "UnsupportedImport", "TF_VERSION", "qualname_of"]

#: the TensorFlow version installed modules report as ``tf.__version__``: the 1.x API they follow
TF_VERSION = "1.15.0"

ROOT = "tensorflow"


class UnsupportedImport(ImportError):
    """An import of a TensorFlow module outside rnnkit.compat.v1's subset (an ``ImportError``, so
    code that tries an import and falls back on ``except ImportError`` goes on)."""


# Modules TF1 code imports by their implementation path. Each maps to where its names are looked
# up: dotted paths in the compat ``tf`` namespace ("" is ``tf`` itself), tried in order.
_LOOKUP: dict[str, tuple[str, ...]] = {
    "python.ops.rnn": ("nn",),
    "python.ops.rnn_cell": ("nn.rnn_cell", "contrib.rnn"),
    "python.ops.rnn_cell_impl": ("nn.rnn_cell", "contrib.rnn"),
    "python.ops.nn": ("nn",),
    "python.ops.nn_ops": ("nn",),
    "python.ops.embedding_ops": ("nn",),
    "python.ops.array_ops": ("",),
    "python.ops.math_ops": ("", "math"),
    "python.ops.init_ops": ("",),
    "python.ops.variable_scope": ("",),
    "python.ops.variables": ("",),
    "python.ops.random_ops": ("",),
    "python.ops.clip_ops": ("",),
    "python.ops.control_flow_ops": ("",),
    "python.ops.tensor_array_ops": ("",),
    "python.ops.functional_ops": ("",),
    "python.ops.map_fn": ("",),
    "python.data.ops.dataset_ops": ("data",),
    "python.data.ops.iterator_ops": ("data",),
    "python.ops.state_ops": ("",),
    "python.ops.gradients": ("",),
    "python.framework.ops": ("",),
    "python.framework.dtypes": ("",),
    "python.framework.constant_op": ("",),
    "python.framework.tensor_shape": ("",),
    "python.platform.tf_logging": ("logging",),
    "python.platform.flags": ("flags",),
    "python.platform.gfile": ("gfile",),
    "python.training.saver": ("train",),
    "python.layers.core": ("layers",),  # TF1 NMT code: from tensorflow.python.layers import core
    "python.util.nest": ("nest",),
    "python.ops.metrics": ("metrics",),
    "python.client.device_lib": ("_device_lib",),
    "core.framework.variable_pb2": ("_variable_pb2",),
    "core.protobuf.rewriter_config_pb2": ("_rewriter_config_pb2",),
    # TensorFlow's debugger: programs import it at the top and use it behind a flag; the module
    # imports, and each of its names is outside the subset when used
    "python.debug": (),
    "contrib.rnn.python.ops.rnn_cell": ("contrib.rnn",),
    "contrib.rnn.python.ops.core_rnn_cell": ("contrib.rnn",),
    "contrib.legacy_seq2seq.python.ops.seq2seq": ("contrib.legacy_seq2seq",),
}
_INPUT_DATA = "examples.tutorials.mnist.input_data"


def _packages() -> set[str]:
    """Every module path above a module of ``_LOOKUP`` or ``input_data``: plain packages."""
    out = set()
    for path in (*_LOOKUP, _INPUT_DATA):
        parts = path.split(".")
        out.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return out - {"contrib", "contrib.rnn", "contrib.legacy_seq2seq"}


_PACKAGES = _packages()


def _compat() -> Any:
    import rnnkit.compat.v1 as tf

    return tf


def _resolve(path: str) -> Any:
    """The compat object at dotted ``path`` ("" is the ``tf`` module); UnsupportedError if none."""
    obj = _compat()
    for part in path.split(".") if path else ():
        obj = getattr(obj, part)
    return obj


def _disable_v2_behavior() -> None:
    """Graph mode is rnnkit.compat.v1's only mode: nothing to switch off."""


def _executing_eagerly() -> bool:
    return False


def _enable_eager_execution(*args: Any, **kwargs: Any) -> None:
    raise unsupported("tf.enable_eager_execution")


# names the ``tensorflow`` module has beyond rnnkit.compat.v1's (what TF1 scripts call on set-up)
_TOP_EXTRAS: dict[str, Any] = {
    "__version__": TF_VERSION,
    "VERSION": TF_VERSION,
    "disable_v2_behavior": _disable_v2_behavior,
    "disable_eager_execution": _disable_v2_behavior,
    "executing_eagerly": _executing_eagerly,
    "enable_eager_execution": _enable_eager_execution,
    "enable_v2_behavior": _enable_eager_execution,
}
# rnnkit's own functions in the compat module, not TensorFlow's
_NOT_TF = {"install", "uninstall", "SUPPORTED", "UnsupportedError"}


class _View(types.ModuleType):
    """A module of the installed ``tensorflow``: its attributes are looked up in ``sources`` (compat
    namespaces, tried in order), then among its submodules; anything else is unsupported."""

    def __init__(self, name: str, qualname: str, sources: tuple[Any, ...], extras=None) -> None:
        super().__init__(name)
        self.__dict__["_rnnkit_qualname"] = qualname
        self.__dict__["_rnnkit_sources"] = sources
        self.__dict__.update(extras or {})

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r}")
        sub = f"{self.__name__}.{attr}"
        if _known_module(sub[len(ROOT) + 1 :]):
            return importlib.import_module(sub)
        if attr not in _NOT_TF:
            for source in self._rnnkit_sources:
                try:
                    return getattr(source, attr)
                except UnsupportedError:
                    continue
        raise unsupported(f"{self._rnnkit_qualname}.{attr}")

    def __dir__(self) -> list[str]:
        names = set(self.__dict__)
        for source in self._rnnkit_sources:
            names.update(dir(source))
        return sorted(n for n in names - _NOT_TF if not n.startswith("_rnnkit"))

    def __repr__(self) -> str:
        return f"<module {self.__name__!r} (rnnkit.compat.v1 as {self._rnnkit_qualname})>"


def _known_module(rest: str) -> bool:
    """Whether ``tensorflow.<rest>`` is a module path the hook serves without a namespace lookup."""
    return rest in ("compat", "compat.v1") or rest in _PACKAGES or rest in _LOOKUP


def _make(fullname: str) -> types.ModuleType | None:
    """The module for ``fullname`` (``tensorflow`` or below), None when it is no module (a function
    or class), UnsupportedImport when it is outside the subset."""
    rest = fullname[len(ROOT) + 1 :] if fullname != ROOT else ""
    if rest == "":
        return _View(ROOT, "tf", (_compat(),), _TOP_EXTRAS)
    if rest == "compat":
        return _View(fullname, "tf.compat", ())
    if rest == _INPUT_DATA:
        from rnnkit.compat.v1 import input_data

        return input_data
    if rest in _LOOKUP:
        return _View(fullname, fullname, tuple(_resolve(p) for p in _LOOKUP[rest]))
    if rest in _PACKAGES:
        return _View(fullname, fullname, ())
    if rest == "compat.v1":
        rest = ""
    elif rest.startswith("compat.v1."):
        rest = rest[len("compat.v1.") :]
    qualname = "tf." + rest if rest else "tf"
    try:
        target = _resolve(rest)
    except UnsupportedError as e:
        raise UnsupportedImport(str(e), name=fullname) from None
    if target is _compat():
        return _View(fullname, "tf", (target,), _TOP_EXTRAS)
    if isinstance(target, (Namespace, types.ModuleType)):
        return _View(fullname, qualname, (target,))
    return None


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves ``tensorflow`` and its submodules from rnnkit.compat.v1."""

    def __init__(self) -> None:
        self._made: dict[str, types.ModuleType] = {}

    def find_spec(self, fullname: str, path: Any = None, target: Any = None):
        if fullname != ROOT and not fullname.startswith(ROOT + "."):
            return None
        module = _make(fullname)
        if module is None:
            return None
        self._made[fullname] = module
        is_package = isinstance(module, _View)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=is_package)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self._made.pop(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        """The module is complete when made."""


_lock = threading.Lock()
_state: dict[str, Any] = {"finder": None, "saved": {}}


def _ours(name: str) -> bool:
    return name == ROOT or name.startswith(ROOT + ".")


def installed() -> bool:
    """Whether :func:`install` is in effect."""
    return _state["finder"] is not None


def install() -> None:
    """Make ``import tensorflow`` (and its submodules) resolve to rnnkit.compat.v1. Idempotent; any
    ``tensorflow`` modules imported before are set aside until :func:`uninstall`."""
    with _lock:
        if _state["finder"] is not None:
            if sys.meta_path[:1] != [
                _state["finder"]
            ]:  # something was put in front: go first again
                if _state["finder"] in sys.meta_path:
                    sys.meta_path.remove(_state["finder"])
                sys.meta_path.insert(0, _state["finder"])
            return
        _compat()  # import the compat layer before any module refers to it
        _state["saved"] = {k: sys.modules.pop(k) for k in list(sys.modules) if _ours(k)}
        finder = _Finder()
        sys.meta_path.insert(0, finder)
        _state["finder"] = finder


def uninstall() -> None:
    """Undo :func:`install`: drop the hook and the modules it made, put back what it set aside."""
    with _lock:
        finder = _state["finder"]
        if finder is None:
            return
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
        for k in [k for k in sys.modules if _ours(k)]:
            del sys.modules[k]
        sys.modules.update(_state["saved"])
        _state.update(finder=None, saved={})


def qualname_of(module_name: str) -> str | None:
    """The compat name (``tf.contrib.rnn``) of an installed module, None if it is not one."""
    module = sys.modules.get(module_name)
    return module.__dict__.get("_rnnkit_qualname") if isinstance(module, _View) else None
