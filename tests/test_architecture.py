"""The house has floors: each layer of ``model/`` imports only from the layers below it, there is no
import cycle, and no private name (``_x``) is imported from another module.

The layers, from the bottom up (DESIGN.md, "Data flow and layers"):

    params -> engine -> budget -> service -> results -> analysis -> outputs -> cli

A module may import from its own layer (the arrows inside a layer must not form a cycle) and from any
layer below. The test reads every import of every module, including those inside functions, so that a
cycle cannot hide in a lazy import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "model"
LAYERS = ("params", "engine", "budget", "service", "results", "analysis", "outputs", "cli")


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports() -> list[tuple[str, str, str, int]]:
    """(importer, imported module, name, line) for every import of a model module by a model module."""
    mods = _modules()
    found = []
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = _resolve(name, path.name == "__init__.py", node)
                if not target.startswith("model"):
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    if sub in mods:  # `from . import graphiques`: the module itself
                        found.append((name, sub, "*", node.lineno))
                    else:
                        found.append((name, target, alias.name, node.lineno))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("model"):
                        found.append((name, alias.name, "*", node.lineno))
    return found


def layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return LAYERS.index(parts[1])


def test_every_module_is_in_a_layer():
    loose = [m for m in _modules() if m != "model" and layer(m) is None]
    assert loose == [], f"modules outside the layers {LAYERS}: {loose}"


def test_arrows_point_down_only():
    up = [f"{a} (layer {LAYERS[layer(a)]}) imports {b}.{n} (layer {LAYERS[layer(b)]}), line {line}"
          for a, b, n, line in imports()
          if layer(a) is not None and layer(b) is not None and layer(b) > layer(a)]
    assert up == [], "\n".join(up)


def test_no_import_cycle():
    graph: dict[str, set[str]] = {}
    for a, b, _, _ in imports():
        if a != b and b != "model":
            graph.setdefault(a, set()).add(b)
    # a package's __init__ importing its own modules is its face, not a cycle
    for a in list(graph):
        graph[a] = {b for b in graph[a] if not a.startswith(b + ".") or b not in _packages()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if state.get(nxt) is None:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if state.get(node) is None:
            cycle = visit(node)
            assert cycle is None, "import cycle: " + " -> ".join(cycle)


def _packages() -> set[str]:
    return {_module_name(p) for p in PACKAGE.rglob("__init__.py")}


def test_no_private_name_crosses_a_module():
    private = [f"{a} imports {n} from {b}, line {line}" for a, b, n, line in imports()
               if n.startswith("_") and not n.startswith("__") and a != b]
    assert private == [], "\n".join(private)


def test_imports_are_at_the_top_unless_deliberately_lazy():
    """An import inside a function is allowed only where it is deliberately lazy (a heavy or optional
    library, or a command's modules in the command line) and says so in a ``# lazy: why`` comment on the
    line above (or on a line of the statement)."""
    hidden = []
    for name, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        tree = ast.parse(text)
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)) or id(node) in top:
                continue
            around = lines[max(0, node.lineno - 4):node.end_lineno]  # the comment, or the group's, just above
            if not any("# lazy:" in line for line in around):
                hidden.append(f"{name}, line {node.lineno}: {lines[node.lineno - 1].strip()}")
    assert hidden == [], "\n".join(hidden)


PLANTED = {
    # an upward import of a private name, and an import hidden in a function
    "upward": {"_planted_for_test.py": "from model.cli.main import _private_name\n\n\ndef f():\n    import json\n"},
    # two modules of one layer that import each other, lazily: a cycle all the same
    "cycle": {"planted_a.py": "def f():\n    from model.params import planted_b  # lazy: test\n",
              "planted_b.py": "from model.params import planted_a\n"},
}


@pytest.mark.parametrize("checker, planted", [(test_arrows_point_down_only, "upward"),
                                              (test_no_private_name_crosses_a_module, "upward"),
                                              (test_imports_are_at_the_top_unless_deliberately_lazy, "upward"),
                                              (test_no_import_cycle, "cycle")])
def test_the_checks_can_fail(checker, planted):
    """The checks see a planted violation (a test that cannot fail proves nothing)."""
    files = [PACKAGE / "params" / name for name in PLANTED[planted]]
    assert not any(f.exists() for f in files)
    try:
        for f in files:
            f.write_text(PLANTED[planted][f.name], encoding="utf-8")
        with pytest.raises(AssertionError):
            checker()
    finally:
        for f in files:
            f.unlink(missing_ok=True)
