"""List the TensorFlow 1.x names a program uses and which of them ``rnnkit.compat.v1`` lacks.

A program is a ``.py`` file, a ``.ipynb`` notebook (its code cells) or a directory (every ``.py``
and ``.ipynb`` file under it, scanned as one program). The scanner reads the source's syntax tree
(never runs or imports it) and resolves the names that TF1 code binds to TensorFlow::

    import tensorflow as tf                      ->  tf.nn.dynamic_rnn        = nn.dynamic_rnn
    import tensorflow.compat.v1 as tf            ->  tf.placeholder           = placeholder
    from tensorflow.contrib import rnn           ->  rnn.BasicLSTMCell        = contrib.rnn.BasicLSTMCell
    from tensorflow.contrib import legacy_seq2seq as s2s
    from tensorflow.contrib.rnn import LSTMCell  ->  LSTMCell                 = contrib.rnn.LSTMCell
    from tensorflow.python.ops import rnn_cell   ->  rnn_cell.GRUCell         = nn.rnn_cell.GRUCell

Each use is recorded as the longest attribute chain under TensorFlow (``tf.train.AdamOptimizer``
for ``tf.train.AdamOptimizer(lr).minimize(loss)``), written without the ``tf.`` prefix and
without ``compat.v1.``. Python 2 sources, which do not parse as Python 3, are scanned token by
token instead (their import statements still parse on their own). Keyword arguments passed to
each name are recorded too, since an option can be refused where the name exists.

A name counts as present when ``rnnkit.compat.v1`` resolves it: it is in ``SUPPORTED``,
attribute access from the module down the chain succeeds (the ``tf.nn``, ``tf.contrib.rnn``, ...
namespaces raise ``UnsupportedError`` for what they lack), or, where rnnkit has its ``import
tensorflow`` hook (``rnnkit.compat.v1.install``), the name imports through it as a script run by
``python -m rnnkit tf1`` would import it (``tf.examples.tutorials.mnist.input_data``). A keyword counts as refused when the
callable's signature has neither that parameter nor ``**kwargs``.

Usage (in rnnkit's environment; TensorFlow is not needed)::

    python tools/tf1_census.py PROGRAM...                 # per program: names, and those missing
    python tools/tf1_census.py --json PROGRAM...          # the same as JSON
    python tools/tf1_census.py --counts 2 PROGRAM...      # markdown table of names used by >= 2
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import io
import json
import sys
import tokenize
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Modules outside TensorFlow's public API that TF1 programs import, and the public namespace each
# one's members are found under (the longest matching prefix wins; "" is the top-level ``tf``).
PRIVATE_MODULES = {
    "python.ops.rnn_cell": "nn.rnn_cell",
    "python.ops.rnn_cell_impl": "nn.rnn_cell",
    "python.ops.rnn": "nn",
    "python.ops.nn": "nn",
    "python.ops.nn_ops": "nn",
    "python.ops.math_ops": "",
    "python.ops.array_ops": "",
    "python.ops.init_ops": "",
    "python.ops.variable_scope": "",
    "python.ops.variables": "",
    "python.ops.control_flow_ops": "",
    "python.ops.embedding_ops": "nn",
    "python.ops.seq2seq": "contrib.legacy_seq2seq",
    "python.framework.ops": "",
    "python.framework.dtypes": "",
    "python.framework.constant_op": "",
    "python.platform.gfile": "gfile",
    "python.platform.flags": "flags",
    "python.platform.tf_logging": "logging",
    "python.layers.core": "layers",
    "python.util.nest": "nest",
    "models.rnn.rnn_cell": "nn.rnn_cell",
    "models.rnn.rnn": "nn",
    "models.rnn.seq2seq": "contrib.legacy_seq2seq",
    "contrib.rnn.python.ops.rnn_cell": "contrib.rnn",
    "contrib.rnn.python.ops.core_rnn_cell": "contrib.rnn",
    "contrib.legacy_seq2seq.python.ops.seq2seq": "contrib.legacy_seq2seq",
}

# Attribute chains that end at an object whose attributes belong to the program, not to TensorFlow
# (``tf.app.flags.FLAGS.batch_size`` is the program's own flag).
OPEN_ENDS = ("flags.FLAGS", "app.flags.FLAGS")


def public_name(module: str) -> str | None:
    """The public TensorFlow name (without ``tf.``) of a dotted module path, or None when the path
    is not TensorFlow's: ``tensorflow.contrib.rnn`` -> ``contrib.rnn``, ``tensorflow`` -> ``""``."""
    if module != "tensorflow" and not module.startswith("tensorflow."):
        return None
    rest = module[len("tensorflow") :].lstrip(".")
    return _canonical(rest)


def _canonical(name: str) -> str:
    """``compat.v1.nn.X`` -> ``nn.X``; private module paths -> their public namespace."""
    for prefix in ("compat.v1", "compat.v2"):
        if name == prefix:
            return ""
        if name.startswith(prefix + "."):
            name = name[len(prefix) + 1 :]
    parts = name.split(".")
    if len(parts) > 4 and parts[0] == "contrib" and parts[2:4] == ["python", "ops"]:
        # tensorflow.contrib.seq2seq.python.ops.attention_wrapper.X is tf.contrib.seq2seq.X
        name = ".".join(parts[:2] + parts[5:])
    best = max(
        (p for p in PRIVATE_MODULES if name == p or name.startswith(p + ".")), key=len, default=None
    )
    if best is not None:
        tail = name[len(best) :].lstrip(".")
        name = ".".join(part for part in (PRIVATE_MODULES[best], tail) if part)
    for end in OPEN_ENDS:
        if name.startswith(end + "."):
            return end
    return name


@dataclass
class Usage:
    """What one program uses: TensorFlow names, the keywords passed to each, how it was read."""

    names: Counter = field(default_factory=Counter)
    keywords: dict[str, set[str]] = field(default_factory=dict)
    token_mode: list[str] = field(default_factory=list)  # files read token by token (Python 2)

    def add(self, name: str, keywords: Iterable[str] = ()) -> None:
        if not name:
            return
        self.names[name] += 1
        kws = self.keywords.setdefault(name, set())
        kws.update(keywords)

    def merge(self, other: Usage) -> None:
        for name, n in other.names.items():
            self.names[name] += n
        for name, kws in other.keywords.items():
            self.keywords.setdefault(name, set()).update(kws)
        self.token_mode.extend(other.token_mode)


def _aliases_from(node: ast.AST) -> Iterator[tuple[str, str]]:
    """(local name, public TensorFlow name) for an import statement that binds TensorFlow."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            target = public_name(alias.name)
            if target is None:
                continue
            if alias.asname:
                yield alias.asname, target
            else:
                # ``import tensorflow.contrib.rnn`` binds ``tensorflow``; chains start there
                yield alias.name.split(".")[0], ""
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        base = public_name(node.module)
        if base is None:
            return
        for alias in node.names:
            if alias.name == "*":
                continue
            yield (
                alias.asname or alias.name,
                _canonical(".".join(p for p in (base, alias.name) if p)),
            )


def _chain(node: ast.AST) -> list[str] | None:
    """``a.b.c`` -> ["a", "b", "c"]; None for anything but a name and attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def scan_tree(tree: ast.AST) -> Usage:
    aliases: dict[str, str] = {}
    imported: list[str] = []
    for node in ast.walk(tree):
        for local, target in _aliases_from(node):
            aliases[local] = target
            if isinstance(node, ast.ImportFrom):
                imported.append(target)
    # assignments such as ``tf = tensorflow.compat.v1`` or ``rnn_cell = tf.nn.rnn_cell`` (in
    # source order, so that a chain of them resolves)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, chain = node.targets[0], _chain(node.value)
            if isinstance(target, ast.Name) and chain and chain[0] in aliases:
                resolved = _resolve(chain, aliases)
                if resolved is not None:
                    aliases[target.id] = resolved
    usage = Usage()
    for name in imported:
        usage.add(name)
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Attribute, ast.Name)):
            continue
        parent = parents.get(id(node))
        if isinstance(parent, ast.Attribute) and parent.value is node:
            continue  # part of a longer chain
        chain = _chain(node)
        if not chain or chain[0] not in aliases:
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            continue
        resolved = _resolve(chain, aliases)
        if resolved is None:
            continue
        keywords: list[str] = []
        if isinstance(parent, ast.Call) and parent.func is node:
            keywords = [k.arg for k in parent.keywords if k.arg]
        usage.add(resolved, keywords)
    return usage


def _resolve(chain: list[str], aliases: dict[str, str]) -> str | None:
    base = aliases.get(chain[0])
    if base is None:
        return None
    return _canonical(".".join(p for p in (base, *chain[1:]) if p))


def scan_tokens(source: str) -> Usage:
    """Scan source that does not parse as Python 3 (Python 2 ``print`` statements, backquotes):
    each import line is parsed on its own (as is ``name = tf.a.b``, which makes an alias), then
    every ``NAME(.NAME)*`` run of tokens whose first name is bound to TensorFlow is a use."""
    tokens = list(_tokens(source))
    aliases: dict[str, str] = {}
    usage = Usage()
    for line in _logical_lines(tokens):
        text = " ".join(t.string for t in line)
        if line and line[0].string in ("import", "from"):
            try:
                stmt = ast.parse(text)
            except SyntaxError:
                continue
            for node in ast.walk(stmt):
                for local, target in _aliases_from(node):
                    aliases[local] = target
                    if isinstance(node, ast.ImportFrom):
                        usage.add(target)
        elif (
            len(line) >= 3
            and line[0].type == tokenize.NAME
            and line[1].string == "="
            and line[2].string in aliases
            and all(t.type == tokenize.NAME or t.string == "." for t in line[2:])
        ):
            # ``flags = tf.app.flags``: the name is an alias from here on
            chain = [t.string for t in line[2:] if t.string != "."]
            resolved = _resolve(chain, aliases)
            if resolved is not None:
                aliases[line[0].string] = resolved
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        prev = tokens[i - 1].string if i else ""
        if tok.type == tokenize.NAME and tok.string in aliases and prev not in (".", "import"):
            chain = [tok.string]
            j = i + 1
            while (
                j + 1 < len(tokens)
                and tokens[j].string == "."
                and tokens[j + 1].type == tokenize.NAME
            ):
                chain.append(tokens[j + 1].string)
                j += 2
            if tokens[j - 1].string != "import" and not (prev == "as" or _in_import(tokens, i)):
                resolved = _resolve(chain, aliases)
                if resolved:
                    usage.add(resolved, _call_keywords(tokens, j))
            i = j
        else:
            i += 1
    return usage


def _call_keywords(tokens: list[tokenize.TokenInfo], i: int) -> list[str]:
    """The ``name=`` keywords of a call whose ``(`` is token i (none if token i is not one)."""
    if i >= len(tokens) or tokens[i].string != "(":
        return []
    depth, found = 0, []
    for j in range(i, len(tokens)):
        s = tokens[j].string
        if s in "([{" and tokens[j].type == tokenize.OP:
            depth += 1
        elif s in ")]}" and tokens[j].type == tokenize.OP:
            depth -= 1
            if depth == 0:
                break
        elif (
            depth == 1
            and s == "="
            and tokens[j - 1].type == tokenize.NAME
            and tokens[j - 2].string in ("(", ",")
        ):
            found.append(tokens[j - 1].string)
    return found


def _tokens(source: str) -> Iterator[tokenize.TokenInfo]:
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type not in (tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT):
                yield tok
    except (tokenize.TokenError, IndentationError):
        return


def _logical_lines(tokens: list[tokenize.TokenInfo]) -> Iterator[list[tokenize.TokenInfo]]:
    line: list[tokenize.TokenInfo] = []
    for tok in tokens:
        if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            if line:
                yield line
            line = []
        else:
            line.append(tok)
    if line:
        yield line


def _in_import(tokens: list[tokenize.TokenInfo], i: int) -> bool:
    """Whether token i is inside an import statement (its line starts with import/from)."""
    j = i
    while j > 0 and tokens[j - 1].type != tokenize.NEWLINE:
        j -= 1
    return tokens[j].string in ("import", "from")


def scan_source(source: str, label: str = "<source>") -> Usage:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        usage = scan_tokens(source)
        usage.token_mode.append(label)
        return usage
    return scan_tree(tree)


def notebook_source(text: str) -> str:
    """The code cells of a notebook, joined; IPython's ``%magic`` and ``!shell`` lines dropped."""
    nb = json.loads(text)
    cells = nb.get("cells")
    if cells is None:  # nbformat 3
        cells = [c for ws in nb.get("worksheets", []) for c in ws.get("cells", [])]
    lines = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", cell.get("input", ""))
        src = "".join(src) if isinstance(src, list) else src
        for line in src.splitlines():
            stripped = line.lstrip()
            if stripped.startswith(("%", "!", "?")):  # kept as a statement: it may be a block's
                line = line[: len(line) - len(stripped)] + "pass"
            lines.append(line)
        lines.append("")
    return "\n".join(lines)


def program_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".py", ".ipynb") and p.is_file())
    if not path.is_file():
        raise FileNotFoundError(f"program: no such file or directory: {path}")
    return [path]


def scan_program(path: str | Path) -> Usage:
    usage = Usage()
    for file in program_files(Path(path)):
        text = file.read_text(encoding="utf-8", errors="replace")
        if file.suffix == ".ipynb":
            try:
                text = notebook_source(text)
            except (ValueError, AttributeError, TypeError):
                continue
        usage.merge(scan_source(text, str(file)))
    return usage


# ---------------------------------------------------------------------------------------------
# What rnnkit.compat.v1 has


_MISSING = object()


def _rnnkit_v1() -> Any:
    import rnnkit.compat.v1 as v1

    return v1


def _walk(obj: Any, parts: list[str]) -> Any:
    for part in parts:
        try:
            obj = getattr(obj, part)
        except Exception:  # UnsupportedError, AttributeError, or whatever a property raises
            return _MISSING
    return obj


def _imported(name: str, v1: Any) -> Any:
    """The object for a name through rnnkit's ``import tensorflow`` hook (``v1.install``), as
    ``python -m rnnkit tf1`` gives it to a script: the longest module prefix of the name that
    imports, then attributes; ``_MISSING`` without the hook or when nothing resolves."""
    install, uninstall = getattr(v1, "install", None), getattr(v1, "uninstall", None)
    if not (callable(install) and callable(uninstall)):
        return _MISSING
    parts = name.split(".")
    saved = {
        k: m for k, m in sys.modules.items() if k == "tensorflow" or k.startswith("tensorflow.")
    }
    try:
        install()
        for k in range(len(parts), -1, -1):
            try:
                module = importlib.import_module(".".join(["tensorflow", *parts[:k]]))
            except Exception:  # ImportError (UnsupportedImport) or an error the hook raises
                continue
            return _walk(module, parts[k:])
        return _MISSING
    finally:
        uninstall()
        for k in [k for k in sys.modules if k == "tensorflow" or k.startswith("tensorflow.")]:
            if k not in saved:
                del sys.modules[k]
        sys.modules.update(saved)


def lookup(name: str, v1: Any = None) -> Any:
    """The object ``rnnkit.compat.v1`` gives for a TensorFlow name, or ``_MISSING``: attribute
    access down its namespaces, else an import through its ``import tensorflow`` hook."""
    v1 = v1 if v1 is not None else _rnnkit_v1()
    obj = _walk(v1, name.split("."))
    return obj if obj is not _MISSING else _imported(name, v1)


def has_name(name: str, v1: Any = None) -> bool:
    v1 = v1 if v1 is not None else _rnnkit_v1()
    return name in getattr(v1, "SUPPORTED", ()) or lookup(name, v1) is not _MISSING


def refused_keywords(name: str, keywords: Iterable[str], v1: Any = None) -> list[str]:
    """The keywords that rnnkit's callable for ``name`` has no parameter for (none when it takes
    ``**kwargs``, is missing, or has no readable signature)."""
    obj = lookup(name, v1)
    if obj is _MISSING or not callable(obj):
        return []
    try:
        params = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return []
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return []
    accepted = {p.name for p in params}
    return sorted(k for k in keywords if k not in accepted)


def report(programs: dict[str, Usage], v1: Any = None) -> dict[str, Any]:
    v1 = v1 if v1 is not None else _rnnkit_v1()
    out = {}
    for label, usage in programs.items():
        names = sorted(usage.names)
        refused = {n: r for n in names if (r := refused_keywords(n, usage.keywords.get(n, ()), v1))}
        out[label] = {
            "names": names,
            "missing": [n for n in names if not has_name(n, v1)],
            "keywords": {n: sorted(k) for n, k in sorted(usage.keywords.items()) if k},
            "refused_keywords": refused,
            "token_mode": usage.token_mode,
        }
    return out


def counts(programs: dict[str, Usage]) -> Counter:
    """In how many programs each name occurs."""
    total: Counter = Counter()
    for usage in programs.values():
        total.update(set(usage.names))
    return total


def counts_markdown(programs: dict[str, Usage], minimum: int = 2, v1: Any = None) -> str:
    v1 = v1 if v1 is not None else _rnnkit_v1()
    rows = ["| name | programs | rnnkit has it |", "| --- | ---: | --- |"]
    for name, n in sorted(counts(programs).items(), key=lambda kv: (-kv[1], kv[0])):
        if n >= minimum:
            rows.append(f"| `tf.{name}` | {n} | {'yes' if has_name(name, v1) else '**no**'} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("programs", nargs="+", help=".py, .ipynb, or a directory (one program)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--counts",
        type=int,
        metavar="N",
        help="print a markdown table of the names used by N or more of the programs",
    )
    args = parser.parse_args(argv)
    if args.counts is not None and args.counts < 1:
        parser.error(f"--counts: expected a number of programs >= 1, got {args.counts}")
    try:
        programs = {p: scan_program(p) for p in args.programs}
    except (FileNotFoundError, UnicodeDecodeError) as e:
        parser.error(str(e))
    if args.counts is not None:
        print(counts_markdown(programs, args.counts))
        return 0
    rep = report(programs)
    if args.json:
        json.dump(rep, sys.stdout, indent=1)
        print()
        return 0
    for label, r in rep.items():
        mode = " (Python 2: read token by token)" if r["token_mode"] else ""
        print(f"{label}: {len(r['names'])} names, {len(r['missing'])} missing{mode}")
        for n in r["names"]:
            mark = "  " if n not in r["missing"] else "- "
            kws = r["keywords"].get(n)
            refused = r["refused_keywords"].get(n)
            extra = f"({', '.join(kws)})" if kws else ""
            extra += f"  refuses {', '.join(refused)}" if refused else ""
            print(f"  {mark}tf.{n}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
