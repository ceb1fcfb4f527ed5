"""The import graph of ``evo_nas``: no circle between modules, no import from a higher layer.

Reads every module's ``import`` statements with ``ast`` (nothing is imported). A module-level
import is one run when the module loads; a function-level one runs when the function is
called. Both count for layering; circles are checked among module-level imports.
``python tests/test_imports.py`` prints every circle and upward import it finds.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "evo_nas"

# Rooms, lowest first: a module may import from its own room, the rooms of its layer below it, and
# the layers below. A name matches a module and everything under it.
LAYERS = (
    ("evo_nas.base",),                              # utilities: errors, config base, files, JSON, hashing, joblib
    ("evo_nas.spaces",),                            # genomes, space types, block strings, costs
    ("evo_nas.analysis", "evo_nas.networks"),       # Pareto/hypervolume/statistics/plots; genome -> torch/ONNX
    ("evo_nas.latency",),
    ("evo_nas.accuracy",),                          # data, training, proxies, one candidate's evaluation
    ("evo_nas.problems",),                          # problems and benchmark data
    ("evo_nas.algorithms",),                        # every search strategy, baselines included
    ("evo_nas.schema",),                            # assembles the domains' configuration sections
    ("evo_nas.engine",),                            # the loop, run directory, checkpoint, cache
    ("evo_nas.compare", "evo_nas.deploy"),
    ("evo_nas.studies",),
    ("evo_nas.api",),
    ("evo_nas", "evo_nas.commands", "evo_nas.cli", "evo_nas.__main__"),
)


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(name: str, known: dict) -> str | None:
    """The longest known module that ``name`` is or lies in."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str, path: Path, known: dict) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every import of ``module`` inside the package."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    found = []

    def visit(node, top: bool):
        for child in ast.iter_child_nodes(node):
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    target = _resolve(alias.name, known)
                    if target:
                        found.append((target, child.lineno, top))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[:len(base) - (child.level - 1)]
                    source = ".".join(base + ([child.module] if child.module else []))
                else:
                    source = child.module or ""
                for alias in child.names:
                    target = _resolve(f"{source}.{alias.name}", known) if f"{source}.{alias.name}" in known \
                        else _resolve(source, known)
                    if target:
                        found.append((target, child.lineno, top))
            visit(child, inner)

    visit(tree, True)
    return [(t, line, top) for t, line, top in found if t != module]


def layer(module: str) -> int:
    best, where = -1, None
    for i, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best:
                best, where = len(name), i
    if where is None:
        raise AssertionError(f"{module} is in no layer of tests/test_imports.py LAYERS: add it")
    return where


def graph(module_level_only: bool) -> dict[str, set[str]]:
    known = modules()
    return {m: {t for t, _, top in imports(m, p, known) if top or not module_level_only} for m, p in known.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def connect(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(edges):
        if v not in index:
            connect(v)
    return out


def upward() -> list[str]:
    """``module:line imports target`` for every import of a module in a higher layer."""
    known = modules()
    out = []
    for m, p in known.items():
        for target, line, top in imports(m, p, known):
            if layer(target) > layer(m):
                where = "module level" if top else "in a function"
                out.append(f"{p.relative_to(ROOT)}:{line} imports {target} ({where}; layer {layer(m)} -> "
                           f"{layer(target)})")
    return out


def room(module: str) -> str:
    """The room a module lives in: ``evo_nas.X`` for everything under it (a root module is its own room)."""
    return ".".join(module.split(".")[:2])


def test_no_import_circle_between_modules():
    found = circles(graph(module_level_only=False))
    assert not found, f"import circles (function-level imports counted): {found}"


def test_no_import_circle_between_rooms():
    edges: dict[str, set[str]] = {}
    for m, targets in graph(module_level_only=False).items():
        edges.setdefault(room(m), set()).update(room(t) for t in targets if room(t) != room(m))
    found = circles(edges)
    assert not found, f"import circles between rooms: {found}"


def test_the_package_root_holds_only_entry_points():
    root = sorted(p.name for p in (ROOT / PACKAGE).glob("*.py"))
    assert root == ["__init__.py", "__main__.py", "api.py", "cli.py"], root


def test_no_module_imports_from_a_higher_layer():
    found = upward()
    assert not found, "imports from a higher layer (see LAYERS in tests/test_imports.py):\n" + "\n".join(found)


def test_the_checker_sees_a_circle_and_a_function_level_import(tmp_path):
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    source = tmp_path / "m.py"
    source.write_text("from .x import y\n\ndef f():\n    from ..z import w\n")
    known = {"evo_nas.p.m": source, "evo_nas.p.x": None, "evo_nas.z": None}
    assert imports("evo_nas.p.m", source, known) == [("evo_nas.p.x", 1, True), ("evo_nas.z", 4, False)]


def test_every_module_is_in_a_layer():
    for m in modules():
        layer(m)


if __name__ == "__main__":
    for name, only in (("module-level", True), ("any (function-level included)", False)):
        print(f"circles, {name} imports: {circles(graph(only)) or 'none'}")
    rooms: dict[str, set[str]] = {}
    for m, targets in graph(module_level_only=False).items():
        rooms.setdefault(room(m), set()).update(room(t) for t in targets if room(t) != room(m))
    print(f"circles between rooms: {circles(rooms) or 'none'}")
    print("upward imports:", *(upward() or ["none"]), sep="\n  ")
