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
    # sentence-transformers: a local model folder, None for the packaged
    # all-MiniLM-L6-v2. openai: the server's model name (required there).
    model: str | None = None
    # sentence-transformers: what runs the model. "torch" (PyTorch), "onnx"
    # (ONNX Runtime, fp32) or "onnx-int8" (ONNX Runtime, int8 weights); the
    # onnx ones export the model once into cache_dir. Part of the index's
    # embedder id: changing it needs `rag index build --full`.
    runtime: str = "torch"
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
    threads: int | None = None


class AnswerSettings(BaseModel):
    """The answer pipeline."""

    passages: int = 6
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
