"""Build a large generated corpus and report time, memory, size and search latency.

    python benchmarks/scale.py [--articles 20000] [--embedder hashing|hashing-384|sentence-transformers]
                               [--seed 0] [--queries 200] [--workdir DIR] [--keep]

Articles are made by recombining paragraphs of the MultiHop-RAG corpus
(``../shared/eval/multihop-rag/corpus.json``), seeded: each generated article
takes the metadata of one real article (source, date), a title and as many
paragraphs as a randomly chosen real article has, drawn from the whole corpus,
so lengths follow the real distribution. They are written as JSONL files
(1,000 per file) and built with ``rag.index.building.build_index`` in this process,
so loading, chunking, embedding and publishing are all measured.

Every step runs in a fresh process, so that each peak memory is its own:

* ``full``: the first build: wall time per stage and in total, peak memory
  (``ru_maxrss`` and ``VmHWM`` of the process, the highest ``VmRSS`` sampled
  every 0.1 s in each stage, and the resident size before the build, with the
  embedder loaded), passages;
* ``serve``: open the index (every file's sha256 checked) and run
  ``--queries`` questions of the dev set: open time, median and p95 search
  latency, peak memory;
* ``unchanged``: a second build with nothing changed;
* ``edited``: a third build after 1% of the articles were edited.

Prints one JSON object with these and the index size on disk.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SHARED = REPO.parent / "shared" / "eval" / "multihop-rag"


def status_kb(field: str) -> int:
    """A memory line of /proc/self/status, in kB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class MemorySampler:
    """Highest VmRSS per build stage, sampled every 0.1 s on a thread."""

    def __init__(self) -> None:
        self.stage = "start"
        self.peaks: dict[str, int] = {}
        self.stage_started: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def progress(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.stage = stage
            self.stage_started.setdefault(stage, time.perf_counter())
        self._sample()

    def _sample(self) -> None:
        rss = status_kb("VmRSS")
        self.peaks[self.stage] = max(self.peaks.get(self.stage, 0), rss)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self._sample()

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def generate(corpus: Path, n: int, seed: int, folder: Path, per_file: int = 1000) -> int:
    """Write ``n`` recombined articles as JSONL files; returns the bytes of body text."""
    real = json.loads(corpus.read_text())
    paragraphs = [p for a in real for p in a["body"].split("\n") if len(p.strip()) > 40]
    lengths = [max(1, sum(1 for p in a["body"].split("\n") if len(p.strip()) > 40)) for a in real]
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    total = 0
    for start in range(0, n, per_file):
        lines = []
        for i in range(start, min(n, start + per_file)):
            meta = rng.choice(real)
            body = "\n\n".join(rng.choice(paragraphs) for _ in range(rng.choice(lengths)))
            total += len(body)
            lines.append(json.dumps({
                "title": f"{rng.choice(real)['title']} ({i})", "body": body, "source": meta["source"],
                "published_at": meta["published_at"], "author": meta.get("author"),
                "url": f"https://scale.example/{seed}/{i}",
            }))
        (folder / f"part{start // per_file:03d}.jsonl").write_text("\n".join(lines) + "\n")
    return total


def edit_share(folder: Path, share: float) -> int:
    """Append a sentence to every 1/share-th article; returns how many were edited."""
    step, edited = max(1, round(1 / share)), 0
    for part in sorted(folder.glob("*.jsonl")):
        lines = part.read_text().splitlines()
        for i in range(0, len(lines), step):
            item = json.loads(lines[i])
            item["body"] += "\n\nCorrection: an earlier version of this article misstated a date."
            lines[i] = json.dumps(item)
            edited += 1
        part.write_text("\n".join(lines) + "\n")
    return edited


def embedding(name: str) -> dict:
    """Embedding settings for ``--embedder``: ``hashing-384`` is the hashing
    embedder with 384-dimensional vectors, MiniLM's width, so that search
    costs what it would with MiniLM vectors without hours of embedding."""
    backend, _, dim = name.partition("-")
    return {"backend": name} if backend != "hashing" else {"backend": "hashing", "dim": int(dim or 256)}


def build_step(index: Path, articles: Path, embedder_name: str) -> None:
    """One build in this (fresh) process; print its time and memory as JSON."""
    from rag.config import load_settings
    from rag.embed.registry import make_embedder
    from rag.index.building import build_index

    settings = load_settings(index_dir=index, embedding=embedding(embedder_name))
    embedder = make_embedder(settings.embedding)
    embedder.embed(["warm up"])
    gc.collect()
    rss_before = status_kb("VmRSS")
    with MemorySampler() as sampler:
        started = time.perf_counter()
        sampler.progress("loading", 0, 1)
        report = build_index(settings, [articles], embedder=embedder, progress=sampler.progress)
        build_s = time.perf_counter() - started
    order = sorted(sampler.stage_started.items(), key=lambda kv: kv[1])
    stage_s = {stage: round((order[i + 1][1] if i + 1 < len(order) else started + build_s) - t, 1)
               for i, (stage, t) in enumerate(order)}
    print(json.dumps({
        "articles": report.articles, "passages": report.passages, "added": report.added,
        "updated": report.updated, "unchanged": report.unchanged, "embedded_passages": report.embedded_passages,
        "skipped": len(report.skipped), "embedder": embedder.model_id, "seconds": round(build_s, 1),
        "stage_s": stage_s, "passages_per_s": round(report.passages / build_s, 1),
        "rss_before_build_mb": round(rss_before / 1024),
        "peak_rss_by_stage_mb": {k: round(v / 1024) for k, v in sampler.peaks.items()},
        "ru_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "vmhwm_mb": round(status_kb("VmHWM") / 1024),
    }))


def serve_step(index: Path, embedder_name: str, n_queries: int) -> None:
    """Open the index and search in this (fresh) process; print latency and memory."""
    from rag.config import load_settings
    from rag.search.open_index import open_index

    settings = load_settings(index_dir=index, embedding=embedding(embedder_name))
    rss_before = status_kb("VmRSS")
    t0 = time.perf_counter()
    opened = open_index(settings)
    open_s = time.perf_counter() - t0
    rss_open = status_kb("VmRSS")
    queries = [q["query"] for q in json.loads((SHARED / "queries-dev.json").read_text())][:n_queries]
    opened.retriever.search(queries[0], 10)
    latencies = []
    for q in queries:
        t0 = time.perf_counter()
        opened.retriever.search(q, 10)
        latencies.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({"open_s": round(open_s, 2), "search_ms_median": round(statistics.median(latencies), 1),
                      "search_ms_p95": round(sorted(latencies)[int(0.95 * len(latencies)) - 1], 1),
                      "queries": len(latencies), "rss_before_open_mb": round(rss_before / 1024),
                      "rss_after_open_mb": round(rss_open / 1024), "vmhwm_mb": round(status_kb("VmHWM") / 1024)}))


def step(*argv: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"step {argv[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--build-step":
        return build_step(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
    if len(sys.argv) > 1 and sys.argv[1] in ("--serve-step", "--serve"):
        return serve_step(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--embedder", default="hashing", choices=["hashing", "hashing-384", "sentence-transformers"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus.json")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="Where to write articles and index (default: a temp folder).")
    parser.add_argument("--keep", action="store_true", help="Keep the generated articles and index.")
    parser.add_argument("--no-rebuild", action="store_true", help="Skip the builds with nothing / 1%% changed.")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="rag-scale-", dir=args.workdir))
    articles, index = work / "articles", work / "index"
    try:
        started = time.perf_counter()
        body_bytes = generate(args.corpus, args.articles, args.seed, articles)
        result = {"articles": args.articles, "body_mb": round(body_bytes / 1e6, 1),
                  "generate_s": round(time.perf_counter() - started, 1)}
        result["full"] = step("--build-step", str(index), str(articles), args.embedder)
        result["index_mb"] = round(sum(p.stat().st_size for p in index.rglob("*") if p.is_file()) / 1e6, 1)
        result["serve"] = step("--serve-step", str(index), args.embedder, str(args.queries))
        if not args.no_rebuild:
            result["unchanged"] = step("--build-step", str(index), str(articles), args.embedder)
            result["edited_articles"] = edit_share(articles, 0.01)
            result["edited"] = step("--build-step", str(index), str(articles), args.embedder)
        print(json.dumps(result, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}", file=sys.stderr)


if __name__ == "__main__":
    main()
