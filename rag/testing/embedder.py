"""The contract every embedder keeps (:mod:`rag.embed.base`), as pytest checks.

Subclass :class:`EmbedderContract` and give the ``embedder`` fixture::

    class TestMyEmbedder(EmbedderContract):
        @pytest.fixture(scope="class")
        @classmethod
        def embedder(cls):
            return MyEmbedder(EmbeddingSettings(backend="my-embedder"))
"""

from __future__ import annotations

import numpy as np
import pytest

from rag.embed.base import Embedder
from rag.ingest.chunking import Chunker
from rag.ingest.sentences import sentence_spans
from rag.types import Article

TEXTS = [
    "The central bank raised interest rates to fight inflation.",
    "Interest rates were raised by the central bank as inflation rose.",
    "The striker scored twice in the cup final.",
]

# Long non-Latin articles: many sentences, then one sentence far longer than any
# window (no sentence end), which the chunker must cut at token boundaries.
NON_LATIN = {
    "russian": " ".join(f"Городской совет обсудил ремонт моста номер {i} в понедельник, сообщили чиновники."
                        for i in range(80))
    + " " + " ".join(f"длинное{i} предложение без точки о бюджете гавани" for i in range(120)) + ".",
    "chinese": "".join(f"市议会周一讨论了第{i}号港口大桥的维修问题，官员表示工程将持续三个月。" for i in range(80))
    + "".join(f"关于港口预算的很长的句子第{i}部分没有句号" for i in range(120)) + "。",
}


class EmbedderContract:
    """The checks every embedder passes."""

    @pytest.fixture
    def embedder(self) -> Embedder:
        raise NotImplementedError("an EmbedderContract subclass gives the embedder fixture")

    def test_shape_dtype_and_unit_length(self, embedder):
        vectors = embedder.embed(TEXTS)
        assert vectors.shape == (3, embedder.dim)
        assert vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        assert embedder.embed([]).shape == (0, embedder.dim)

    def test_deterministic_and_meaningful(self, embedder):
        first, second = embedder.embed(TEXTS), embedder.embed(TEXTS)
        assert np.allclose(first, second, atol=1e-5)
        similar, unrelated = float(first[0] @ first[1]), float(first[0] @ first[2])
        assert similar > unrelated

    def test_batches_give_the_vectors_of_single_texts(self, embedder):
        together = embedder.embed(TEXTS * 3)
        alone = np.vstack([embedder.embed([t]) for t in TEXTS])
        cosines = (together[:3] * alone).sum(axis=1)
        assert cosines.min() > 0.98  # equal up to 8-bit runtimes' quantising activations per batch
        assert np.allclose(together[:3], together[3:6], atol=1e-5)

    def test_identity_and_tokens(self, embedder):
        assert embedder.model_id and isinstance(embedder.model_id, str)
        assert embedder.max_tokens >= 64
        counts = embedder.count_tokens(TEXTS)
        assert len(counts) == 3 and all(c > 5 for c in counts)
        assert len(embedder.token_spans(TEXTS[0])) == counts[0]

    @pytest.mark.parametrize("language", sorted(NON_LATIN))
    def test_non_latin_article_is_cut_within_the_window(self, embedder, language):
        body = NON_LATIN[language]
        spans = embedder.token_spans(body)
        assert len(spans) == embedder.count_tokens([body])[0]  # the chunker relies on both agreeing
        assert all(0 <= start < end <= len(body) for start, end in spans)
        passages = Chunker(embedder, 256, 48).chunk(Article(id="x", title="Новости · 新闻", body=body))
        counts = embedder.count_tokens([p.full_text for p in passages])
        assert max(counts) <= embedder.max_tokens
        for passage in passages:
            assert body[passage.start:passage.end] == passage.text  # verbatim
        covered = [(p.start, p.end) for p in passages]
        for start, end in sentence_spans(body):  # nothing left out, the over-long sentence included
            assert any(s <= start < e for s, e in covered) and any(s < end <= e for s, e in covered)
        vectors = embedder.embed([p.full_text for p in passages[:3]])
        assert vectors.shape == (min(3, len(passages)), embedder.dim) and np.isfinite(vectors).all()
