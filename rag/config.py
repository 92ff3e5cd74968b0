"""Settings: one home for every tunable.

Precedence, weakest first: defaults, ``rag.toml`` (in the working directory, or
the file named by ``RAG_CONFIG``), environment variables (prefix ``RAG_``,
nested with ``__``, e.g. ``RAG_LLM__BACKEND``), then values passed in code
(the CLI passes its flags this way).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, SecretStr, model_validator
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
    # embedder id: changing it needs `rag index build --full`. The default is
    # the fastest runtime whose dev retrieval stays within 0.005 of PyTorch's
    # (docs/embedding_runtime.md: 2.2x PyTorch, Hits@10 -0.0014, MRR@10 -0.0006).
    runtime: str = "onnx-int8"
    base_url: str | None = None
    # Keys: see LLMSettings (the same rule, rag.openai_api.server_key).
    api_key_env: str | None = None
    api_key: SecretStr | None = Field(default=None, exclude=True, repr=False)
    dim: int | None = None  # openai backend: expected dimension, checked
    max_tokens: int | None = None  # openai backend: the model's window
    batch_size: int = 64
    # Passages a build hands the embedder per call (it splits them into
    # batch_size batches); build progress advances once per call. At least
    # batch_size * concurrency for the openai backend.
    build_batch_size: int = 256
    timeout: float = 60.0
    max_retries: int = 2  # per batch request
    # openai backend: batch requests in flight at once (several embedding
    # servers behind a load balancer stay busy); 1 sends them one by one.
    concurrency: int = Field(4, ge=1, le=64)
    # Where the ONNX export is cached: always Settings.cache_dir (Settings sets it);
    # None in a section made on its own, which then reads the configured one.
    cache_dir: Path | None = None


class StoreSettings(BaseModel):
    """Where passages are stored and searched (docs/scale.md)."""

    # "faiss" (the embedded store), "qdrant", or a store an installed package
    # registers (entry point group article_rag.passage_stores, rag.plugins).
    backend: str = "faiss"
    # qdrant: a server or cluster, e.g. http://qdrant.internal:6333; unset: local mode in ``path``.
    url: str | None = None
    # qdrant local mode: the folder (default: <index_dir>/qdrant). One process at a time.
    path: Path | None = None
    # qdrant: the environment variable that holds the API key of ``url``; the key
    # is sent to that url only, never to another server.
    api_key_env: str | None = None
    # qdrant: the alias that publishes a version, and the prefix of its collections.
    collection_prefix: str = Field("rag", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$")
    timeout: float = 30.0
    # qdrant server: shards and copies of each new version's collections (None: the server's
    # defaults, one shard and one copy); see docs/scale.md for sizing.
    shards: int | None = Field(None, ge=1)
    replicas: int | None = Field(None, ge=1)
    # qdrant: how far (a fraction) the BM25 average passage length may move before a
    # publish reweights every sparse vector; 0 keeps BM25 exact, like the faiss store.
    avgdl_tolerance: float = Field(0.0, ge=0.0, le=1.0)


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
    # Diversification looks at the best max(k * diversify_window_per_result,
    # diversify_window_min) fused candidates for the k results.
    diversify_window_per_result: int = 10
    diversify_window_min: int = 50


class LLMSettings(BaseModel):
    """Which chat model writes the answer."""

    backend: str = "llama-cpp"
    model: str | None = None
    base_url: str | None = None
    # The *name* of the variable holding the key for ``base_url``. Unset, only
    # OpenAI's own endpoint gets a key (from OPENAI_API_KEY); any other server
    # gets one only when this names a variable for it (rag.openai_api.server_key).
    api_key_env: str | None = None
    # A key given in code (the UI's key typed for one session). Never dumped,
    # so never written to the manifest, a conversation or a JSON cache key.
    api_key: SecretStr | None = Field(default=None, exclude=True, repr=False)
    timeout: float = 120.0
    max_retries: int = 2
    # 0: the most likely token each time, so the same question over the same index gets
    # the same answer (with llama-cpp, whose prompts are also read afresh each time).
    temperature: float = 0.0
    max_answer_tokens: int = 400
    context_tokens: int = 4096
    # llama.cpp: threads for reading the prompt and writing the answer (None:
    # every core), and prompt tokens read per batch.
    threads: int | None = None
    batch_tokens: int = 512
    # llama-cpp: a stream that has not asked for its next piece for this long
    # (its reader went away without closing it) gives the model to the next answer.
    idle_stream_seconds: float = 10.0
    # Where the packaged GGUF is assembled: as EmbeddingSettings.cache_dir.
    cache_dir: Path | None = None


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
    # times the embedder's cosine; sentences below min_relative of the best are
    # left out. Measured on the first 200 dev questions against 0.0 / 0.0
    # (docs/answers.md): strict accuracy 0.665 vs 0.647, unsupported citations
    # 7.3% vs 8.4%, 624 vs 649 prompt tokens.
    sentence_dense_weight: float = 1.0
    sentence_min_relative: float = 0.5
    # Refuse, without a model call, questions about names no indexed passage mentions.
    check_names: bool = True
    # Ask the model first, in a short call, whether the sources answer the question.
    check_evidence: bool = False
    min_relevance: float = 0.0
    # A yes/no answer starts "No" when log P(Yes) - log P(No) of the reply's
    # first token is below this (rag.answer.verdict). None: the value measured
    # for the chat model (the packaged Qwen GGUF only), else the model's own
    # first word. Needs the in-process llama.cpp backend.
    yes_no_threshold: float | None = None
    rewrite_followups: bool = True
    # Follow-up rewriting: how much of the conversation the model is shown,
    # and how long the standalone question may be.
    rewrite_history_turns: int = 6
    rewrite_turn_chars: int = 600
    rewrite_max_tokens: int = 96


class UISettings(BaseModel):
    """The Streamlit app."""

    max_question_chars: int = 4000
    # Operator controls (chat backend and server URL, GGUF file, session API
    # key, rebuilds, embedder switch, uploads). None: on only when the server
    # listens on a loopback address and the page was opened as localhost
    # from this machine, with no proxy between (rag.ui.access.ui_admin); env RAG_UI__ADMIN.
    admin: bool | None = None
    # Where the operator's uploads are saved (and indexed from). None: the
    # user's data folder, $XDG_DATA_HOME/article-rag/uploads (by default
    # ~/.local/share/article-rag/uploads), never the checkout; env RAG_UI__UPLOADS_DIR.
    uploads_dir: Path | None = None
    # Uploaded bytes Streamlit may hold for one operator session at once (visitors: none).
    max_session_upload_mb: int = Field(100, ge=1)
    # Load the chat model in the background when the page first runs, so the
    # first question does not wait for it (rag.ui.preload); env RAG_UI__PRELOAD.
    preload: bool = True


class ServeSettings(BaseModel):
    """`rag serve` and `rag mcp` (docs/api.md)."""

    # The *names* of the variables that hold the keys (comma-separated), never the keys.
    # Without keys the servers listen on loopback only; admin keys may also rebuild.
    api_keys_env: str | None = None
    admin_keys_env: str | None = None
    # Answers waiting for the model beyond those running; more get 503 with Retry-After.
    max_queue: int = Field(32, ge=0)
    # Answers at once with a backend that serves in parallel (openai, extractive);
    # the in-process llama.cpp model always answers one at a time.
    max_concurrency: int = Field(4, ge=1)
    max_question_chars: int = Field(4000, ge=1)


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
    store: StoreSettings = Field(default_factory=StoreSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    ui: UISettings = Field(default_factory=UISettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    # Where derived models are cached (the assembled GGUF, exported ONNX
    # models): one folder per user, shared by every virtual environment and
    # project folder; env RAG_CACHE_DIR. The embedding and llm sections get it
    # too (their own cache_dir, unless set), so the models read these settings,
    # not a fresh rag.toml of their own.
    cache_dir: Path = Path.home() / ".cache" / "article-rag"

    @model_validator(mode="after")
    def _sections_share_the_cache(self) -> "Settings":
        for name in ("embedding", "llm"):
            section = getattr(self, name)
            if section.cache_dir != self.cache_dir:  # a copy: another Settings may hold this one
                setattr(self, name, section.model_copy(update={"cache_dir": self.cache_dir}))
        return self

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


def cache_dir(section: EmbeddingSettings | LLMSettings | None = None) -> Path:
    """The cache folder of ``section`` (the caller's settings); for a section made on its
    own (no ``cache_dir``), the configured one (rag.toml or ``RAG_CACHE_DIR``)."""
    folder = section.cache_dir if section is not None and section.cache_dir is not None else None
    return Path(folder or Settings().cache_dir).expanduser()


Section = TypeVar("Section", bound=BaseModel)


def updated(section: Section, **changes: Any) -> Section:
    """``section`` with some fields replaced (``None`` counts as a value).

    A key belongs to the server it was named for: when ``changes`` move an
    embedding or LLM section to another ``base_url`` without naming
    ``api_key_env`` or ``api_key`` too, both are dropped, so a URL given on
    the command line or typed in the UI never inherits the configured key.
    """
    fields = type(section).model_fields
    if "base_url" in changes and changes["base_url"] != getattr(section, "base_url", None):
        for name in ("api_key_env", "api_key"):
            if name in fields:
                changes.setdefault(name, None)
    data = {**section.model_dump(), **changes}
    if "api_key" in fields and "api_key" not in changes:
        data["api_key"] = getattr(section, "api_key")  # excluded from dumps
    return type(section).model_validate(data)


def load_settings(**overrides: Any) -> Settings:
    """Settings from rag.toml and the environment, with ``overrides`` on top.

    Nested overrides are dicts, e.g. ``load_settings(llm={"backend": "openai"})``;
    they are merged into the lower layers rather than replacing whole sections
    (with :func:`updated`'s key rule), and ``None`` values are ignored.
    """
    base = Settings()
    if not overrides:
        return base
    values = {name: getattr(base, name) for name in Settings.model_fields}
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), BaseModel):
            value = updated(values[key], **{k: v for k, v in value.items() if v is not None})
        if value is not None:
            values[key] = value
    return Settings.model_validate(values)
