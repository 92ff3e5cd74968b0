"""Building the project's wheel from a copy of its sources, as `pip install article-rag` would get it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def build_wheel(out: Path) -> Path:
    """The wheel built into ``out`` from ``pyproject.toml``, ``README.md``, ``rag/`` and ``ui/``,
    with this environment's setuptools and no network."""
    with tempfile.TemporaryDirectory(prefix="rag-src-") as tmp:
        src = Path(tmp)
        shutil.copy(REPO / "pyproject.toml", src)
        shutil.copy(REPO / "README.md", src)
        for folder in ("rag", "ui"):
            shutil.copytree(REPO / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
        out.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                        "-q", "-w", str(out), str(src)], check=True, timeout=300)
    [built] = out.glob("article_rag-*.whl")
    return built
