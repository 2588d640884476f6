"""No module inside app/ imports itself back through others, at module level or inside a function.

A cycle means two features depend on each other: the lower one must not call up into the higher
one (the caller sequences the steps), and pure rules shared by both live in a module without Flask.
A package and its own submodules are not a cycle: a blueprint's views import `bp` from the package
that imports them.
"""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in APP.rglob("*.py")}


def imported_names(name: str, path: Path):
    """Every dotted name a module imports, relative imports resolved, wherever the import sits."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for target in imported_names(name, path):
            while target and target not in known:  # `from app.x import function` → module app.x
                target = target.rpartition(".")[0]
            related = target == name or target.startswith(name + ".") or name.startswith(target + ".")
            if target and not related:
                graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One path per back edge found by a depth-first walk: enough to name every circle."""
    found, state, path = [], {}, []

    def walk(node: str) -> None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                walk(nxt)
        path.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            walk(node)
    return found


def test_the_checker_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_local_and_relative_imports():
    graph = import_graph()
    # app/templating.py imports app.main.queues inside a function: it must still be an edge.
    assert "app.main.queues" in graph["app.templating"]
    assert "app.extensions" in graph["app.transaction"]


def test_no_import_cycles_inside_app():
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" → ".join(cycle) for cycle in found)
