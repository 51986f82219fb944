"""``python -m rnnkit tf1 SCRIPT [ARGS...]`` and ``rnnkit.compat.v1.install()``: unmodified TF1 scripts.

Small TF1-style scripts written to tmp_path run through the command in a subprocess (exit status,
output, the one-line error for a name outside the subset, argv and flags); the import hook itself is
checked in this process (every import form, idempotence, ``uninstall`` restoring ``sys.modules``).
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

import rnnkit.compat.v1 as compat
from rnnkit.compat.v1 import _install, input_data
from rnnkit.compat.v1.errors import _INSTEAD

ROOT = Path(__file__).resolve().parents[2]


def _tf1(script: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    shown = str(script) if cwd else script.name  # as typed: relative to the folder it runs in
    cmd = [sys.executable, "-m", "rnnkit", "tf1", shown, *args]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, cwd=cwd or script.parent, env=env
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip())
    return path


# -- through the command, in a subprocess ---------------------------------------------------------
@pytest.mark.slow  # two subprocesses
def test_the_command_keeps_freed_memory_unless_told_not_to(tmp_path):
    script = _write(
        tmp_path / "mem.py",
        """
        import tensorflow as tf
        from rnnkit.platform import memory

        print("retaining", memory.retaining())
        """,
    )
    kept = _tf1(script)
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout.split() == ["retaining", str(1 << 30)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "rnnkit", "tf1", "--no-retain-memory", script.name]
    released = subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env
    )
    assert released.returncode == 0, released.stderr
    assert released.stdout.split() == ["retaining", "0"]


@pytest.mark.slow  # a subprocess
def test_a_script_runs_with_its_imports_argv_flags_and_exit_status(tmp_path):
    (tmp_path / "helper.py").write_text("WHO = 'helper next to the script'\n")
    script = _write(
        tmp_path / "prog.py",
        """
        import sys

        import numpy as np
        import tensorflow as tf
        import tensorflow.compat.v1 as tfv1
        from tensorflow.contrib import legacy_seq2seq, rnn
        from tensorflow.contrib.rnn import BasicLSTMCell
        from tensorflow.python.ops import rnn as rnn_ops
        from tensorflow.python.ops import rnn_cell
        from tensorflow.examples.tutorials.mnist import input_data

        import helper

        tfv1.disable_v2_behavior()
        flags = tf.app.flags
        flags.DEFINE_integer("units", 2, "state size")
        flags.DEFINE_string("tag", "none", "a label")
        FLAGS = flags.FLAGS


        def main(argv):
            print("argv", argv, FLAGS.units, FLAGS.tag, helper.WHO)
            print("main", __name__, __file__ == sys.modules["__main__"].__file__, __file__)
            print("same", tfv1.placeholder is tf.placeholder, rnn.BasicLSTMCell is BasicLSTMCell,
                  rnn_cell.GRUCell is tf.nn.rnn_cell.GRUCell, rnn_ops.dynamic_rnn is tf.nn.dynamic_rnn,
                  legacy_seq2seq.sequence_loss is tf.contrib.legacy_seq2seq.sequence_loss,
                  callable(input_data.read_data_sets), tf.__version__)
            x = tf.placeholder(tf.float32, [None, 3, 1])
            out, _ = tf.nn.dynamic_rnn(BasicLSTMCell(FLAGS.units), x, dtype=tf.float32)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                print("shape", sess.run(out, {x: np.ones((4, 3, 1))}).shape)
            return 7


        if __name__ == "__main__":
            tf.app.run()
        """,
    )
    proc = _tf1(script, "--units=5", "positional", "--tag", "x y")
    assert proc.returncode == 7, proc.stderr  # tf.app.run exits with what main returns
    lines = proc.stdout.splitlines()
    assert lines[0] == "argv ['prog.py', 'positional'] 5 x y helper next to the script"
    assert lines[1] == f"main __main__ True {script}"  # __file__ absolute, as Python 3.9+
    assert lines[2] == "same True True True True True True 1.15.0"
    assert lines[3] == "shape (4, 3, 5)"
    assert proc.stderr == ""


@pytest.mark.slow  # a subprocess
@pytest.mark.parametrize(
    ("body", "line", "name"),
    [
        ("import tensorflow as tf\n\n\nx = tf.contrib.foo.bar(3)\n", 4, "tf.contrib.foo.bar"),
        ("from tensorflow.contrib import foo\n", 1, "tf.contrib.foo"),
        ("import tensorflow.contrib.foo.ops\n", 1, "tf.contrib.foo.ops"),
        ("from tensorflow.contrib.rnn import NoSuchCell\n", 1, "tf.contrib.rnn.NoSuchCell"),
        ("import tensorflow as tf\ntf.enable_eager_execution()\n", 2, "tf.enable_eager_execution"),
        ("from helper import build\nbuild()\n", 4, "tf.nn.no_such_op"),
        (
            "import tensorflow as tf\ntf.contrib.cudnn_rnn.CudnnLSTM(1, 8)\n",
            2,
            "tf.contrib.cudnn_rnn.CudnnLSTM",
        ),
    ],
    ids=["attribute", "from-import", "import", "from-import-name", "eager", "in-a-module", "hint"],
)
def test_a_name_outside_the_subset_stops_with_one_line(tmp_path, body, line, name):
    (tmp_path / "helper.py").write_text(
        "import tensorflow as tf\n\ndef build():\n    return tf.nn.no_such_op(1)\n"
    )
    script = _write(tmp_path / "train.py", body)
    proc = _tf1(script)
    where = "helper.py" if "helper" in body else "train.py"
    hint = f"; for {_INSTEAD['tf.contrib.cudnn_rnn']}" if "cudnn" in body else ""
    assert proc.stderr == f"rnnkit tf1: error: {name} is not supported ({where}:{line}){hint}\n"
    assert proc.returncode == 3 and proc.stdout == ""


@pytest.mark.slow  # a subprocess
def test_the_scripts_own_exception_keeps_its_traceback_as_under_python(tmp_path):
    script = _write(
        tmp_path / "boom.py",
        """
        import tensorflow as tf

        def check(n):
            raise ValueError(f"bad n {n}")

        check(3)
        """,
    )
    proc = _tf1(script, cwd=ROOT)
    python = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    # the same frames as Python's own (there, `import tensorflow` would fail first)
    assert proc.returncode == 1
    assert proc.stderr == (
        "Traceback (most recent call last):\n"
        f'  File "{script}", line 6, in <module>\n    check(3)\n'
        f'  File "{script}", line 4, in check\n    raise ValueError(f"bad n {{n}}")\n'
        "ValueError: bad n 3\n"
    )
    assert python.returncode == 1 and "rnnkit" not in proc.stderr


@pytest.mark.slow  # a subprocess
def test_a_missing_script_is_a_usage_error(tmp_path):
    proc = _tf1(tmp_path / "nope.py")
    assert proc.returncode == 2
    assert (
        proc.stderr.splitlines()[-1] == "rnnkit tf1: error: can't open file 'nope.py': no such file"
    )


# -- the import hook, in this process --------------------------------------------------------------
@pytest.fixture
def hook():
    before_modules = {k: v for k, v in sys.modules.items() if k.split(".")[0] == "tensorflow"}
    before_path = list(sys.meta_path)
    yield compat
    compat.uninstall()
    assert {k: v for k, v in sys.modules.items() if k.split(".")[0] == "tensorflow"} == (
        before_modules
    )
    assert sys.meta_path == before_path


def test_install_is_idempotent_and_uninstall_restores_sys_modules(hook):
    sentinel = types.ModuleType("tensorflow")  # a tensorflow imported before: set aside, restored
    sys.modules["tensorflow"] = sentinel
    try:
        hook.install()
        hook.install()
        assert sum(isinstance(f, _install._Finder) for f in sys.meta_path) == 1
        import tensorflow as tf
        import tensorflow.compat.v1 as tfv1
        from tensorflow.contrib import rnn

        assert tf is not sentinel and tf.placeholder is compat.placeholder
        assert tfv1.nn is compat.nn and rnn is compat.contrib.rnn
        hook.uninstall()
        assert sys.modules["tensorflow"] is sentinel
        assert "tensorflow.compat.v1" not in sys.modules
        assert not any(isinstance(f, _install._Finder) for f in sys.meta_path)
        hook.uninstall()  # a second uninstall does nothing
    finally:
        sys.modules.pop("tensorflow", None)


def test_import_forms_resolve_to_compat_namespaces(hook):
    hook.install()
    import tensorflow as tf
    import tensorflow.contrib.legacy_seq2seq as s2s
    from tensorflow.contrib.rnn.python.ops import core_rnn_cell
    from tensorflow.keras.datasets import mnist
    from tensorflow.python.framework import dtypes, ops
    from tensorflow.python.ops import array_ops, math_ops, rnn, rnn_cell_impl, variable_scope

    assert mnist.load_data is compat.keras.datasets.mnist.load_data
    assert s2s.sequence_loss is compat.contrib.legacy_seq2seq.sequence_loss
    assert core_rnn_cell.OutputProjectionWrapper is compat.contrib.rnn.OutputProjectionWrapper
    assert rnn_cell_impl.LSTMStateTuple is compat.nn.rnn_cell.LSTMStateTuple
    assert rnn.static_rnn is compat.nn.static_rnn and array_ops.concat is compat.concat
    assert math_ops.tanh is compat.tanh and variable_scope.get_variable is compat.get_variable
    assert ops.get_default_graph is compat.get_default_graph and dtypes.float32 is compat.float32
    assert tf.compat.v1.train is compat.train and tf.executing_eagerly() is False
    assert "placeholder" in dir(tf) and "install" not in dir(tf)
    with pytest.raises(compat.UnsupportedError, match="`tensorflow.python.ops.rnn.no_such`"):
        rnn.no_such  # noqa: B018
    with pytest.raises(compat.UnsupportedError, match="`tf.install`"):
        tf.install  # noqa: B018
    with pytest.raises(ImportError, match="`tf.contrib.nope`"):
        import tensorflow.contrib.nope  # noqa: F401
    try:  # code that falls back when an import fails goes on
        from tensorflow.contrib import nope  # noqa: F401
    except ImportError:
        fell_back = True
    assert fell_back


# -- tensorflow.examples.tutorials.mnist.input_data ------------------------------------------------
def _idx(path: Path, array: np.ndarray, magic: int) -> None:
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _mnist_folder(folder: Path, n_train: int = 12, n_test: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte.gz": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": (np.arange(n_test) + 3) % 10,
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, a in arrays.items():
        _idx(folder / name, a, 2051 if a.ndim == 3 else 2049)
    return arrays


def test_input_data_reads_tf1_idx_files_and_walks_epochs_like_tf1(tmp_path):
    arrays = _mnist_folder(tmp_path / "MNIST_data")
    np.random.seed(0)
    mnist = input_data.read_data_sets(str(tmp_path / "MNIST_data"), one_hot=True, validation_size=2)
    train = mnist.train
    assert train.images.shape == (10, 784) and train.images.dtype == np.float32
    assert train.labels.shape == (10, 10) and train.labels.dtype == np.float64
    np.testing.assert_array_equal(
        mnist.validation.images * 255, arrays["train-images-idx3-ubyte.gz"][:2].reshape(2, -1)
    )
    assert mnist.test.labels.argmax(1).tolist() == [3, 4, 5, 6]
    rows = {tuple(r) for r in train.images}
    seen = [tuple(r) for _ in range(2) for r in train.next_batch(4)[0]]
    x, y = train.next_batch(4)  # crosses the end of the first epoch: 2 old + 2 of the next
    assert x.shape == (4, 784) and y.shape == (4, 10) and train.epochs_completed == 1
    seen += [tuple(r) for r in x[:2]]
    assert sorted(seen) == sorted(rows)  # the first epoch shows every example once
    with pytest.raises(ValueError, match="argument `batch_size`: expected 1 to 10"):
        train.next_batch(11)
    plain = input_data.read_data_sets(str(tmp_path / "MNIST_data"), validation_size=0)
    assert plain.train.labels.dtype == np.uint8 and plain.train.num_examples == 12


def test_input_data_without_idx_files_reads_keras_mnist(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    rng = np.random.default_rng(1)
    np.savez(
        tmp_path / "datasets" / "mnist.npz",
        x_train=rng.integers(0, 256, (8, 28, 28), dtype=np.uint8),
        y_train=np.arange(8, dtype=np.uint8),
        x_test=rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        y_test=np.arange(3, dtype=np.uint8),
    )
    mnist = input_data.read_data_sets(str(tmp_path / "empty"), validation_size=3)
    assert mnist.train.num_examples == 5 and mnist.test.labels.tolist() == [0, 1, 2]


def test_input_data_refuses_broken_idx_files(tmp_path):
    _mnist_folder(tmp_path)
    _idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(4), 2051)
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz: IDX magic number 2051"):
        input_data.read_data_sets(str(tmp_path))
    _mnist_folder(tmp_path)
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(np.array([2051, 12, 28, 28], ">u4").tobytes() + b"\0" * 100)
    with pytest.raises(ValueError, match=r"the header says \(12, 28, 28\)"):
        input_data.read_data_sets(str(tmp_path))
    _mnist_folder(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(b"not gzip")
    with pytest.raises(ValueError, match="not a readable gzip file"):
        input_data.read_data_sets(str(tmp_path))
    _mnist_folder(tmp_path)
    with pytest.raises(ValueError, match="Validation size should be between 0 and 12"):
        input_data.read_data_sets(str(tmp_path), validation_size=13)
