"""The package's shape (docs/architecture.md): no import cycle between modules,
no module over 400 lines, and imports that follow the data path.

Every import counts: at module level, inside functions (lazy imports) and
under ``if TYPE_CHECKING:``. A cycle tied by a lazy import is still a cycle:
the two modules cannot be understood, tested or moved apart.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Folder -> the package it is installed as (pyproject.toml maps ui/ to rag.ui).
ROOTS = {REPO / "rag": "rag", REPO / "ui": "rag.ui"}
MAX_LINES = 400

# Which subpackages each one may import (its own always).
ALLOWED = {
    "ingest": {"embed"},
    "embed": set(),
    "index": {"ingest", "embed"},
    "search": {"index", "embed", "ingest"},
    "llm": {"ingest", "index"},
    "disagree": {"search", "index", "ingest", "embed"},
    # The chat's "who reported first" questions go to the timeline through one hook
    # (rag.timeline.chat), which builds no Answer itself: no module cycle.
    "answer": {"search", "llm", "index", "ingest", "embed", "timeline", "disagree"},
    # The timeline cites with the answer's sentence scoring and citation check.
    "timeline": {"answer", "search", "index", "ingest", "embed", "llm"},
    "eval": {"answer", "search", "index", "ingest", "embed", "llm", "timeline", "disagree"},
    "testing": {"answer", "search", "index", "ingest", "embed", "llm"},
    "ui": {"answer", "search", "index", "ingest", "embed", "llm", "eval", "timeline", "disagree"},
    "serve": {"answer", "search", "index", "ingest", "embed", "llm", "eval", "timeline", "disagree"},
}


def python_files(roots: dict[Path, str]) -> dict[str, Path]:
    """Module name -> file, for every ``.py`` under the roots."""
    modules: dict[str, Path] = {}
    for folder, package in roots.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            parts = parts[:-1] if parts[-1] == "__init__" else parts
            modules[".".join((package, *parts))] = path
    return modules


def imports(path: Path) -> set[str]:
    """Modules of ``rag`` that ``path`` imports anywhere in its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "rag":
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "rag")
    return found


def graph(roots: dict[Path, str] = ROOTS) -> dict[str, set[str]]:
    modules = python_files(roots)
    return {name: {m for m in imports(path) if m in modules and m != name and not name.startswith(m + ".")}
            for name, path in modules.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path of module names, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("where", ["function", "type-checking"])
def test_the_cycle_check_sees_lazy_and_type_only_imports(tmp_path, where):
    """The check above can fail: a cycle tied only by a lazy or a type-only import is found."""
    pkg = tmp_path / "rag"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from rag.b import thing\n")
    tie = ("def late():\n    from rag.a import thing\n" if where == "function"
           else "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from rag.a import thing\n")
    (pkg / "b.py").write_text("thing = 1\n" + tie)
    assert find_cycle(graph({pkg: "rag"})) in (["rag.a", "rag.b", "rag.a"], ["rag.b", "rag.a", "rag.b"])
    (pkg / "b.py").write_text("thing = 1\n")
    assert find_cycle(graph({pkg: "rag"})) is None


def test_no_module_over_400_lines():
    long = {str(p.relative_to(REPO)): n for p in python_files(ROOTS).values()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long


def test_imports_follow_the_data_path():
    wrong = []
    for name, targets in graph().items():
        parts = name.split(".")
        if len(parts) < 2 or parts[1] not in ALLOWED:
            continue
        own = parts[1]
        for target in targets:
            sub = target.split(".")[1] if target.count(".") else ""
            if sub in ALLOWED and sub != own and sub not in ALLOWED[own]:
                wrong.append(f"{name} imports {target}")
    assert not wrong, wrong
