"""The folder tree is the architecture: imports flow one way and no two modules import each other.

Every ``import`` in ``rnnkit/`` is read with ``ast`` (function-local imports included), so a lazy import
cannot hide a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "rnnkit"

# Lowest first: a module may import modules of its own level or below, never above.
LEVELS: list[tuple[str, ...]] = [
    ("rnnkit._validation", "rnnkit._nest", "rnnkit._protos", "rnnkit.platform"),
    ("rnnkit.cells",),
    ("rnnkit.wrappers",),
    ("rnnkit.engine", "rnnkit.interop"),
    ("rnnkit.runners", "rnnkit.fused"),
    ("rnnkit",),  # the public API (rnnkit/__init__.py re-exports the core)
    ("rnnkit.compat", "rnnkit.training"),
    ("rnnkit.commands", "rnnkit.__main__"),
]


def _module_name(path: Path) -> str:
    parts = ["rnnkit", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p) for p in ROOT.rglob("*.py")}


def _level(module: str) -> int:
    best = None
    for level, prefixes in enumerate(LEVELS):
        for prefix in prefixes:
            if module == prefix or (prefix != "rnnkit" and module.startswith(prefix + ".")):
                best = level
    assert best is not None, f"{module} is in no level of LEVELS: add it"
    return best


def _imports(path: Path, module: str) -> set[str]:
    """rnnkit modules imported by ``path``; ``from a import b`` counts ``a.b`` when that is a module,
    else ``a``."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for a in node.names:
                out.add(f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                out.add(arg.value)
    return {n for n in out if n in MODULES}


GRAPH = {
    _module_name(p): _imports(p, _module_name(p)) - {_module_name(p)} for p in ROOT.rglob("*.py")
}


def test_every_module_has_a_level():
    for module in MODULES:
        _level(module)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_flow_down(module):
    up = [m for m in GRAPH[module] if _level(m) > _level(module)]
    assert not up, f"{module} imports {up}, which sit above it"


def test_no_import_circles():
    # The package __init__ files import their own submodules (re-exports); a submodule importing its
    # package's __init__ is a circle only when that __init__ imports it back, which the search finds.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(GRAPH.get(m, ())):
            if (
                n.startswith(m + ".") and m != "rnnkit"
            ):  # a package's __init__ importing its own part
                continue
            if m.startswith(n + "."):  # a part importing its own package: re-exports, not a circle
                continue
            if state.get(n) == 1:
                raise AssertionError("import circle: " + " -> ".join(stack[stack.index(n) :] + [n]))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)


def test_the_core_never_imports_a_command():
    for module, deps in GRAPH.items():
        if not module.startswith("rnnkit.commands") and module != "rnnkit.__main__":
            assert not any(d.startswith("rnnkit.commands") for d in deps), module
