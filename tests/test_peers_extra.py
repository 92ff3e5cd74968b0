"""The peers benchmark's libraries stay out of the product and the test suite."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parent.parent
PEERS = ("llama-index", "llama_index", "haystack")


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~\[;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_peer_libraries_only_in_the_peers_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert any(n.startswith(PEERS) for n in names(extras["peers"]))
    for group, requirements in [("dependencies", project["dependencies"]),
                                *((f"extra {k}", v) for k, v in extras.items() if k != "peers")]:
        leaked = {n for n in names(requirements) if n.startswith(PEERS)}
        assert not leaked, f"{group} pulls in {leaked}; they belong in the peers extra only"


def test_no_test_or_library_module_imports_a_peer():
    pattern = re.compile(r"^\s*(from|import)\s+(llama_index|haystack|haystack_integrations)\b", re.M)
    offenders = [str(p.relative_to(ROOT)) for folder in ("rag", "tests") for p in (ROOT / folder).rglob("*.py")
                 if pattern.search(p.read_text())]
    assert not offenders, offenders
