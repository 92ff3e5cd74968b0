"""Concurrent vs sequential embedding against a loopback server with a fixed delay.

    python benchmarks/embedding_concurrency.py [--delay 0.1] [--batches 48] [--levels 1 2 4 8]

The loopback OpenAI-protocol server (tests/openai_server.py) answers every
embeddings request after ``--delay`` seconds, serving requests in parallel,
like a pool of embedding servers behind a load balancer whose time is spent
computing. The same texts are embedded at each ``embedding.concurrency`` and
the speed-up against concurrency 1 is printed (ideal: the concurrency, up to
what the server and this machine's cores can serve), with the most requests
the server held at once.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package (loopback server)

from rag.config import EmbeddingSettings  # noqa: E402
from rag.embed.openai_compatible import OpenAIEmbedder  # noqa: E402
from tests.openai_server import FakeOpenAIServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.1, help="seconds per embeddings request")
    parser.add_argument("--batches", type=int, default=48, help="batch requests per run")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 2, 4, 8])
    args = parser.parse_args()
    texts = [f"passage {i}: the council approved the harbour budget after a long debate about ferries"
             for i in range(args.batches * args.batch_size)]
    with FakeOpenAIServer(dim=args.dim, embed_delay=args.delay) as server:
        print(f"{len(texts)} texts in {args.batches} requests of {args.batch_size}, "
              f"{args.delay * 1000:.0f} ms server delay per request, dim {args.dim}")
        baseline = None
        for level in args.levels:
            embedder = OpenAIEmbedder(EmbeddingSettings(
                backend="openai", model="fake-embed", base_url=server.base_url, dim=args.dim,
                batch_size=args.batch_size, concurrency=level, max_retries=0))
            server.clear()
            started = time.perf_counter()
            embedder.embed(texts)
            seconds = time.perf_counter() - started
            baseline = baseline or seconds
            floor = args.batches / level * args.delay
            print(f"concurrency {level:2}: {seconds:6.2f} s  speed-up {baseline / seconds:5.2f}x "
                  f"(ideal {level}x; the delay alone is {floor:.2f} s)  "
                  f"peak in flight {server.embed_peak_in_flight}")


if __name__ == "__main__":
    main()
