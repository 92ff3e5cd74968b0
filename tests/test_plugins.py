"""Backends from other packages: an installed package registers an embedder, a chat
backend and a passage store through entry points, they are found by name, and
the contract classes shipped in rag.testing run over them from outside this repository.

The plugin is a real distribution built from a pyproject.toml written here and
installed with pip into a folder of its own (no network), then used in a fresh
interpreter that has that folder on its path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PYPROJECT = """\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "rag-demo-plugin"
version = "0.1"

[project.entry-points."article_rag.embedders"]
demo-embedder = "rag_demo_plugin:DemoEmbedder"

[project.entry-points."article_rag.chat_models"]
demo-chat = "rag_demo_plugin:DemoChat"

[project.entry-points."article_rag.passage_stores"]
demo-store = "rag_demo_plugin:demo_store"
"""

PLUGIN = '''\
"""A tiny plugin: a hashing embedder under its own id, a quoting chat model, the embedded store in a subfolder."""
from rag.embed.hashing import HashingEmbedder
from rag.index.embedded.store import IndexStore
from rag.llm.extractive import ExtractiveChatModel


class DemoEmbedder(HashingEmbedder):
    def __init__(self, settings=None):
        super().__init__(settings)
        self.model_id = "demo/" + self.model_id


class DemoChat(ExtractiveChatModel):
    backend = "demo-chat"


def demo_store(settings):
    return IndexStore(settings.index_dir / "demo-store")
'''

CONTRACTS = '''\
import pytest
from rag.config import EmbeddingSettings, LLMSettings
from rag.embed.registry import make_embedder
from rag.llm.registry import make_chat_model
from rag.testing.chat_model import ChatModelContract
from rag.testing.embedder import EmbedderContract
from rag.testing.passage_store import PassageStoreContract
import rag_demo_plugin


class TestDemoEmbedder(EmbedderContract):
    @pytest.fixture(scope="class")
    @classmethod
    def embedder(cls):
        return make_embedder(EmbeddingSettings(backend="demo-embedder"))


class TestDemoChat(ChatModelContract):
    @pytest.fixture
    def chat_model(self):
        return make_chat_model(LLMSettings(backend="demo-chat"))


class TestDemoStore(PassageStoreContract):
    @pytest.fixture
    def make_store(self):
        from rag.config import load_settings
        return lambda folder: rag_demo_plugin.demo_store(load_settings(index_dir=folder))
'''

BY_NAME = '''\
import sys
from pathlib import Path
from rag.config import load_settings
from rag.embed.registry import embedder_names
from rag.index.building import build_index
from rag.llm.registry import chat_model_names
from rag.search.open_index import open_index

articles, index = Path(sys.argv[1]), Path(sys.argv[2])
assert "demo-embedder" in embedder_names() and "demo-chat" in chat_model_names()
settings = load_settings(index_dir=index, embedding={"backend": "demo-embedder"},
                         llm={"backend": "demo-chat"}, store={"backend": "demo-store"})
report = build_index(settings, [articles])
assert report.articles == 1, report
assert (index / "demo-store" / "CURRENT").is_file()
opened = open_index(settings)
hits = opened.retriever.search("lighthouse keeper", k=1)
print(opened.embedder.model_id, type(opened.embedder).__name__, len(hits))
'''


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("plugin-src")
    (src / "pyproject.toml").write_text(PYPROJECT)
    (src / "rag_demo_plugin").mkdir()
    (src / "rag_demo_plugin" / "__init__.py").write_text(PLUGIN)
    site = tmp_path_factory.mktemp("plugin-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                    "-q", "--target", str(site), str(src)], check=True, timeout=300)
    assert list(site.glob("rag_demo_plugin-0.1.dist-info/entry_points.txt"))
    return site


def run_with(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["RAG_CONFIG"] = str(cwd / "no-rag.toml")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_backends_of_an_installed_package_are_found_by_name(plugin_site, tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "keeper.txt").write_text("Lighthouse keeper retires\n\nThe lighthouse keeper retired on Friday "
                                         "after forty years on the northern cape.\n", encoding="utf-8")
    script = tmp_path / "by_name.py"
    script.write_text(BY_NAME)
    done = run_with(plugin_site, str(script), str(articles), str(tmp_path / "index"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    model_id, cls, hits = done.stdout.split()
    assert model_id.startswith("demo/") and cls == "DemoEmbedder" and hits == "1"


def test_an_unknown_name_lists_the_installed_plugins_too(plugin_site, tmp_path):
    code = ("from rag.llm.registry import make_chat_model\nfrom rag.config import LLMSettings\n"
            "make_chat_model(LLMSettings(backend='nope'))")
    done = run_with(plugin_site, "-c", code, cwd=tmp_path)
    assert done.returncode != 0 and "demo-chat" in done.stderr and "extractive" in done.stderr


def test_the_shipped_contracts_run_over_an_outside_package(plugin_site, tmp_path):
    (tmp_path / "test_demo_contracts.py").write_text(CONTRACTS)
    done = run_with(plugin_site, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                    "test_demo_contracts.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary
    passed = int(summary.split(" passed")[0].split()[-1])
    assert passed >= 30  # every check of the three contracts ran
