"""Passages: verbatim, sentence-aware, never over the embedder's window."""

from __future__ import annotations

from rag.config import EmbeddingSettings
from rag.embed.hashing import HashingEmbedder
from rag.embed.registry import make_embedder
from rag.ingest.articles import load_paths
from rag.ingest.chunking import Chunker, passage_header
from rag.ingest.sentences import sentence_spans
from rag.types import Article
from tests.conftest import SAMPLE


def test_sample_corpus_passages_fit_the_minilm_window_and_are_verbatim():
    embedder = make_embedder(EmbeddingSettings())
    chunker = Chunker(embedder, 256, 48)
    articles = load_paths([SAMPLE]).articles
    assert len(articles) == 31
    for article in articles:
        passages = chunker.chunk(article)
        assert passages, article.path
        for passage in passages:
            exact = len(embedder.tokenizer(passage.full_text, add_special_tokens=True)["input_ids"])
            assert exact <= 256, (passage.id, exact)  # the model's max_seq_length, specials included
            assert article.body[passage.start:passage.end] == passage.text
        # Every sentence of the body is inside some passage.
        covered = [(p.start, p.end) for p in passages]
        for start, end in sentence_spans(article.body):
            assert any(s <= start and end <= e for s, e in covered), article.body[start:end]


def test_header_names_title_source_and_date():
    article = Article(id="x", title="Title", body="Body.", source="The Verge", published_at="2023-10-05T10:00:00+00:00")
    assert passage_header(article) == "Title\nThe Verge, October 5, 2023"


def test_overlong_sentence_is_cut_not_truncated():
    embedder = HashingEmbedder(EmbeddingSettings(max_tokens=64))
    words = " ".join(f"word{i}" for i in range(500))  # one 500-token "sentence"
    article = Article(id="x", title="Long", body=words + ". Short end.")
    passages = Chunker(embedder, 64, 8).chunk(article)
    assert all(p.token_count <= 64 for p in passages)
    joined = " ".join(p.text for p in passages)
    for i in range(500):
        assert f"word{i}" in joined


def test_overlap_repeats_whole_sentences():
    embedder = HashingEmbedder(EmbeddingSettings(max_tokens=40))
    body = " ".join(f"Sentence number {i} has six words." for i in range(30))
    passages = Chunker(embedder, 40, 12).chunk(Article(id="x", title="T", body=body))
    assert len(passages) > 3
    for before, after in zip(passages, passages[1:]):
        assert after.start < before.end  # overlap
        assert body[after.start:].startswith("Sentence")  # starts on a sentence boundary
