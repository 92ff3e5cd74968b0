"""Tuning harness (dev questions only): build indexes with several chunkings
and score retrieval settings. Not part of the product; used to write
docs/retrieval.md."""
import json
import sys
import time
from pathlib import Path

from rag.config import EmbeddingSettings, RetrievalSettings
from rag.embed.registry import make_embedder
from rag.eval.retrieval import evaluate_retriever, load_queries
from rag.index.embedded.store import IndexStore
from rag.index.sync import sync
from rag.ingest.articles import article_id_for
from rag.ingest.chunking import Chunker
from rag.search.retrieval import Retriever
from rag.types import Article

corpus = json.loads(Path("../shared/eval/multihop-rag/corpus.json").read_text())
arts = [Article(id=article_id_for(a["url"]), title=a["title"], body=a["body"], source=a["source"],
                published_at=a["published_at"], url=a["url"], author=a["author"]) for a in corpus]
queries = load_queries("../shared/eval/multihop-rag/queries-dev.json")
LEXONLY = "--lexonly" in sys.argv
emb = make_embedder(EmbeddingSettings())
if LEXONLY:  # MiniLM tokenizer for chunk sizes, hashing vectors: BM25-only studies
    from rag.embed.hashing import HashingEmbedder
    _h = HashingEmbedder(EmbeddingSettings(dim=64))
    emb.embed = _h.embed; emb.dim = 64; emb.model_id = "lexonly"
qvecs = emb.embed([q["query"] for q in queries])

def build(max_tokens, overlap):
    folder = Path(f"/tmp/tune/{emb.model_id.replace('/', '_')}-{max_tokens}-{overlap}")
    store = IndexStore(folder)
    if not store.exists():
        t = time.time()
        r = sync(store, arts, emb, Chunker(emb, max_tokens, overlap))
        print(f"built {folder} {r.passages} passages in {time.time()-t:.0f}s", flush=True)
    return store.open()

def evaluate(snap, **kw):
    return evaluate_retriever(Retriever(snap, emb, RetrievalSettings(**kw)), queries, qvecs)["overall"]

if __name__ == "__main__":
    for spec in [a for a in sys.argv[1:] if not a.startswith("--")]:
        mt, ov = map(int, spec.split(":"))
        snap = build(mt, ov)
        if LEXONLY:
            for kw in [dict(dense_weight=0, source_boost=0, date_boost=0, max_per_article=99, duplicate_threshold=2),
                       dict(dense_weight=0), dict(dense_weight=0, max_per_article=99, duplicate_threshold=2)]:
                print(spec, kw, {k: round(v, 3) for k, v in evaluate(snap, **kw).items()}, flush=True)
            continue
        for kw in [dict(dense_weight=0, source_boost=0, date_boost=0, max_per_article=99, duplicate_threshold=2),
                   dict(lexical_weight=0, source_boost=0, date_boost=0, max_per_article=99, duplicate_threshold=2),
                   dict(dense_weight=1, source_boost=0, date_boost=0, max_per_article=99, duplicate_threshold=2),
                   dict()]:
            m = evaluate(snap, **kw)
            print(spec, kw, {k: round(v, 3) for k, v in m.items()}, flush=True)
