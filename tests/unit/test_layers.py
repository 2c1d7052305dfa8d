"""Imports flow one way: the package's modules form no import cycle (counting imports inside functions
and type-checking blocks too), types.py is a leaf, and only the console script imports the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "assistant"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The package modules ``path`` imports, anywhere in the file."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "assistant"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "assistant":
                continue
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}  # "from . import extractive" is a module import
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: {target for target in imports_of(path) if target in modules and target != name} for name, path in modules.items()}


def test_there_is_no_import_cycle() -> None:
    edges = graph()
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for target in sorted(edges[node]):
            assert state.get(target) != "open", "import cycle: " + " -> ".join([*trail, node, target])
            if target not in state:
                visit(target, [*trail, node])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [])


def test_types_is_a_leaf_and_only_the_entry_point_imports_the_cli() -> None:
    edges = graph()
    assert edges["assistant.types"] == set()
    assert {name for name, targets in edges.items() if "assistant.cli" in targets} <= {"assistant.__main__"}
    # Storage never reaches up into querying or answering.
    for name, targets in edges.items():
        if name.startswith("assistant.store"):
            assert not {t for t in targets if t.split(".")[1] in ("retrieval", "answer", "engine", "ingest", "maintenance")}, name


def test_the_graph_sees_relative_imports() -> None:
    edges = graph()
    assert "assistant.store.chroma" in edges["assistant.store.index"]
    assert "assistant.answer" in edges["assistant.answer.citations"]
