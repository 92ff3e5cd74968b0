"""The suite ignores the developer's rag.toml and RAG_* variables (tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from rag.config import Settings, load_settings
from tests.conftest import REPO


def test_settings_are_the_defaults():
    assert load_settings() == Settings.model_validate({})
    assert "OPENAI_API_KEY" not in os.environ
    if os.environ.get("ISOLATION_PROBE"):  # run by the test below: test configuration is kept
        assert os.environ.get("RAG_TEST_PROBE") == "kept"


def test_developer_settings_do_not_reach_the_tests(tmp_path):
    """The test above, run by a developer with a rag.toml in the working folder,
    RAG_* variables and an OpenAI key set, still sees the defaults."""
    (tmp_path / "rag.toml").write_text('index_dir = "elsewhere"\n[llm]\nbackend = "openai"\n')
    env = {**os.environ, "RAG_EMBEDDING__BACKEND": "hashing", "RAG_RETRIEVAL__K": "3",
           "OPENAI_API_KEY": "sk-developer", "RAG_TEST_PROBE": "kept", "ISOLATION_PROBE": "1", "PYTHONPATH": str(REPO)}
    env.pop("RAG_CONFIG")
    probe = f"{REPO / 'tests' / 'test_isolation.py'}::test_settings_are_the_defaults"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", probe],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 passed" in done.stdout
