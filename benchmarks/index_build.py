"""Index build throughput against a plain SentenceTransformer.encode, in one process.

    python benchmarks/index_build.py [--corpus ../shared/eval/multihop-rag/corpus.json]

Prints:
  * the full build's passages/second against encoding the very same passage
    texts with ``SentenceTransformer.encode`` (ratio; the target is >= 0.9,
    i.e. loading, chunking, BM25 and publishing cost under 10%), and
  * the share of the full build's wall time spent inside the model (the same
    question measured within the build, so load from other processes cancels), and
  * an incremental build after one article changed against the full build
    (ratio of wall times; the target is <= 0.03).
The model is loaded once before any timing.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

from rag.config import Settings
from rag.embed.registry import make_embedder
from rag.index.embedded.store import IndexStore
from rag.index.sync import sync
from rag.ingest.articles import load_paths
from rag.ingest.chunking import Chunker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="../shared/eval/multihop-rag/corpus.json")
    args = parser.parse_args()
    settings = Settings()
    embedder = make_embedder(settings.embedding)
    chunker = Chunker(embedder, settings.chunking.max_tokens, settings.chunking.overlap_tokens)
    embedder.embed(["warm up"])
    # Time spent inside the model during the build, measured in the same
    # seconds as the build itself (robust to load from other processes).
    model_seconds = [0.0]
    plain_embed = embedder.embed

    def timed_embed(texts):
        started = time.perf_counter()
        try:
            return plain_embed(texts)
        finally:
            model_seconds[0] += time.perf_counter() - started

    embedder.embed = timed_embed

    with tempfile.TemporaryDirectory() as tmp:
        store = IndexStore(Path(tmp) / "index")
        started = time.perf_counter()
        articles = load_paths([args.corpus]).articles  # loading is part of a build
        report = sync(store, articles, embedder, chunker)
        full_seconds = time.perf_counter() - started
        full_model_seconds = model_seconds[0]

        texts = [p.full_text for a in articles for p in chunker.chunk(a)]
        assert len(texts) == report.passages
        started = time.perf_counter()
        if settings.embedding.runtime == "torch":
            embedder.model.encode(texts, batch_size=settings.embedding.batch_size, normalize_embeddings=True)
        else:  # the ONNX runtimes: the embedder's own batched call is the plain model
            plain_embed(texts)
        encode_seconds = time.perf_counter() - started

        started = time.perf_counter()
        changed = load_paths([args.corpus]).articles  # loading is part of a build
        middle = len(changed) // 2
        changed[middle] = dataclasses.replace(changed[middle], body=changed[middle].body + "\n\nA late correction.")
        incremental = sync(store, changed, embedder, chunker)
        incremental_seconds = time.perf_counter() - started

    build_rate, encode_rate = report.passages / full_seconds, len(texts) / encode_seconds
    print(f"articles {report.articles}, passages {report.passages}")
    print(f"full build          {full_seconds:8.1f} s  {build_rate:7.1f} passages/s")
    print(f"plain encode        {encode_seconds:8.1f} s  {encode_rate:7.1f} passages/s")
    print(f"build/encode throughput ratio: {build_rate / encode_rate:.3f} (target >= 0.9)")
    print(f"share of the full build spent in the model: {full_model_seconds / full_seconds:.3f} "
          f"(everything else: {1 - full_model_seconds / full_seconds:.3f})")
    print(f"incremental build   {incremental_seconds:8.2f} s  (updated {incremental.updated}, "
          f"embedded {incremental.embedded_passages} passages)")
    print(f"incremental/full time ratio:   {incremental_seconds / full_seconds:.4f} (target <= 0.03)")


if __name__ == "__main__":
    main()
