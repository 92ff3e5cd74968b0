"""Settings: one home for every tunable.

Precedence, weakest first: defaults, ``rag.toml`` (in the working directory, or
the file named by ``RAG_CONFIG``), environment variables (prefix ``RAG_``,
nested with ``__``, e.g. ``RAG_LLM__BACKEND``), then values passed in code
(the CLI passes its flags this way).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class EmbeddingSettings(BaseModel):
    """Which embedder turns passages into vectors."""

    backend: str = "sentence-transformers"
    # None: the packaged all-MiniLM-L6-v2 (sentence-transformers) or the
    # server's own default name (openai).
    model: str | None = None
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    dim: int | None = None  # openai backend: expected dimension, checked
    max_tokens: int | None = None  # openai backend: the model's window
    batch_size: int = 64
    timeout: float = 60.0
    max_retries: int = 2


class ChunkingSettings(BaseModel):
    """How article bodies are cut into passages (in embedder tokens)."""

    # Capped at the embedder's window (254 content tokens for MiniLM).
    max_tokens: int = 256
    overlap_tokens: int = 48


class RetrievalSettings(BaseModel):
    """Hybrid search knobs; the defaults were measured (docs/retrieval.md)."""

    k: int = 6
    candidates: int = 100
    lexical_weight: float = 1.0
    dense_weight: float = 0.2
    sentence_weight: float = 0.4
    rrf_k: int = 60
    source_boost: float = 1.0
    date_boost: float = 1.0
    max_per_article: int = 3
    duplicate_threshold: float = 0.95


class LLMSettings(BaseModel):
    """Which chat model writes the answer."""

    backend: str = "llama-cpp"
    model: str | None = None
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout: float = 120.0
    max_retries: int = 2
    temperature: float = 0.1
    max_answer_tokens: int = 400
    context_tokens: int = 4096
    # llama.cpp: threads for reading the prompt and writing the answer (None:
    # every core), and prompt tokens read per batch.
    threads: int | None = None
    batch_tokens: int = 512


class AnswerSettings(BaseModel):
    """The answer pipeline (docs/answers.md has the measurements behind the defaults)."""

    passages: int = 6
    # Extra passages retrieved for each publisher and each day the question names.
    per_hint_passages: int = 2
    # "sentences": each article's evidence sentences (and neighbours) within
    # context_tokens; "passages": the whole retrieved passages.
    context: str = "sentences"
    context_tokens: int = 400
    max_sources: int = 6
    # Evidence sentences: BM25 (scaled to the best sentence) plus this weight
    # times the embedder's cosine; sentences below min_relative of the best are left out.
    sentence_dense_weight: float = 0.0
    sentence_min_relative: float = 0.0
    # Refuse, without a model call, questions about names no indexed passage mentions.
    check_names: bool = True
    # Ask the model first, in a short call, whether the sources answer the question.
    check_evidence: bool = False
    min_relevance: float = 0.0
    rewrite_followups: bool = True
    # Follow-up rewriting: how much of the conversation the model is shown,
    # and how long the standalone question may be.
    rewrite_history_turns: int = 6
    rewrite_turn_chars: int = 600
    rewrite_max_tokens: int = 96


class UISettings(BaseModel):
    """The Streamlit app."""

    max_question_chars: int = 4000


class Settings(BaseSettings):
    """All settings of article-rag."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_",
        env_nested_delimiter="__",
        toml_file="rag.toml",
        extra="ignore",
    )

    index_dir: Path = Path("index")
    articles_dir: Path = Path("data/articles")
    # Seconds a build waits for another build's lock before giving up.
    lock_timeout: float = 0.0
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    ui: UISettings = Field(default_factory=UISettings)
    # Where derived models are cached (the assembled GGUF, exported ONNX
    # models); env RAG_CACHE_DIR.
    cache_dir: Path = Path.home() / ".cache" / "article-rag"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = os.environ.get("RAG_CONFIG", "rag.toml")
        toml = TomlConfigSettingsSource(settings_cls, toml_file=toml_path)
        return (init_settings, env_settings, toml)


def cache_dir() -> Path:
    """The configured cache folder (``cache_dir``: rag.toml or ``RAG_CACHE_DIR``)."""
    return Settings().cache_dir.expanduser()


def load_settings(**overrides: Any) -> Settings:
    """Settings from rag.toml and the environment, with ``overrides`` on top.

    Nested overrides are dicts, e.g. ``load_settings(llm={"backend": "openai"})``;
    they are merged into the lower layers rather than replacing whole sections.
    """
    base = Settings()
    if not overrides:
        return base
    merged = base.model_dump()
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **{k: v for k, v in value.items() if v is not None}}
        elif value is not None:
            merged[key] = value
    return Settings.model_validate(merged)
