"""What `pip install article-rag` gets: the wheel's files and the declared dependencies.

The wheel is built from a copy of the sources (``pyproject.toml``, ``README.md``,
``rag/`` and ``ui/``) with the setuptools of this environment, no network. The
folder ``ui/`` is installed as the package ``rag.ui``.
"""

from __future__ import annotations

import ast
import importlib.metadata
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.packaging_helpers import build_wheel

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    with zipfile.ZipFile(build_wheel(tmp_path_factory.mktemp("wheel"))) as archive:
        yield archive


def test_wheel_ships_the_ui_its_streamlit_options_and_the_command(wheel):
    names = set(wheel.namelist())
    source = {p.relative_to(REPO).as_posix() for p in (REPO / "rag").rglob("*.py")}
    source |= {"rag/ui/" + p.relative_to(REPO / "ui").as_posix() for p in (REPO / "ui").rglob("*.py")}
    assert source <= names, sorted(source - names)  # a package folder missing from pyproject's list fails here
    assert not any(n.startswith("ui/") for n in names), "no top-level package named ui"
    assert {"rag/ui/app.py", "rag/ui/launch.py", "rag/ui/.streamlit/config.toml"} <= names
    shipped = tomllib.loads(wheel.read("rag/ui/.streamlit/config.toml").decode())
    assert shipped["server"]["maxUploadSize"] == 10 and shipped["client"]["showErrorDetails"] == "none"
    assert shipped["browser"]["gatherUsageStats"] is False
    info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "rag = rag.cli:app" in wheel.read(info).decode()


def test_wheel_metadata_promises_what_ci_runs(wheel):
    meta = Parser().parsestr(wheel.read(next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))).decode())
    assert meta["Requires-Python"] == ">=3.11"  # .ci/run checks that its interpreter is this floor
    required = {canonicalize_name(Requirement(r).name) for r in meta.get_all("Requires-Dist")
                if "extra ==" not in r}
    # jusText under trafilatura imports lxml.html.clean; pip 23.2 leaves its extra out.
    assert "lxml-html-clean" in required


def imported_top_level_names() -> dict[str, str]:
    """Every module ``rag/`` imports, at any depth of the code: top-level name -> a file importing it."""
    found: dict[str, str] = {}
    for path in sorted([*(REPO / "rag").rglob("*.py"), *(REPO / "ui").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], path.relative_to(REPO).as_posix())
    return found


def test_every_imported_package_is_declared_directly():
    declared = {canonicalize_name(Requirement(r).name)
                for r in PYPROJECT["dependencies"] + sum(PYPROJECT["optional-dependencies"].values(), [])}
    providers = importlib.metadata.packages_distributions()
    missing = []
    for name, where in imported_top_level_names().items():
        if name in sys.stdlib_module_names or name in ("rag", "__future__"):
            continue
        dists = {canonicalize_name(d) for d in providers.get(name, [])}
        if not dists & declared:
            missing.append(f"{name} (imported in {where}; provided by {sorted(dists) or 'nothing installed'})")
    assert not missing, missing
