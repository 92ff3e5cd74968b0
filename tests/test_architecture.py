"""The package's shape (docs/architecture.md): no import cycle between modules,
no module over 400 lines, and imports that follow the data path."""

from __future__ import annotations

import ast
from pathlib import Path

RAG = Path(__file__).resolve().parent.parent / "rag"
MAX_LINES = 400

# Which subpackages each one may import at module level (its own always).
ALLOWED = {
    "ingest": {"embed"},
    "embed": set(),
    "index": {"ingest", "embed"},
    "search": {"index", "embed", "ingest"},
    "llm": {"ingest", "index"},
    "disagree": {"search", "index", "ingest", "embed"},
    "answer": {"search", "llm", "index", "ingest", "embed", "disagree"},
    "eval": {"answer", "search", "index", "ingest", "embed", "llm", "disagree"},
    "ui": {"answer", "search", "index", "ingest", "embed", "llm", "eval", "disagree"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(RAG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> set[str]:
    """Modules of ``rag`` imported at module level (not inside functions)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rag"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("rag"))
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in RAG.rglob("*.py")}
    return {name: {m for m in top_level_imports(path) if m in modules and m != name}
            for name, path in modules.items()}


def test_no_import_cycle():
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in edges[node]:
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_no_module_over_400_lines():
    long = {str(p.relative_to(RAG.parent)): n for p in RAG.rglob("*.py")
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
