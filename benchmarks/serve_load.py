"""`rag serve` under load, against the same answers computed in-process.

    nice -n 5 python benchmarks/serve_load.py [--index DIR] [--requests 200] [--model]

1. The extractive backend: ``--requests`` dev questions answered in-process one after the
   other (the baseline), then the same questions sent to a real ``rag serve`` subprocess
   (uvicorn on a loopback port) by 1, 8 and 32 concurrent clients (the `httpx` client,
   non-streamed). Each row: errors, answers identical to the in-process ones, p50/p95
   latency, requests/s and its ratio to the in-process requests/s.
2. ``--model``: the packaged llama.cpp model served in this process (uvicorn in a thread),
   ``--model-requests`` questions from ``--model-concurrency`` clients with
   ``serve.max_queue`` = ``--model-queue``; every fourth client request streams and hangs
   up after the first event and one second. Each request must end answered, told 503 with
   Retry-After (the client then waits that long before its next question), or hung up by us
   (none lost); for each hang-up, the seconds until its answer's worker ended (the model
   freed) are printed.

The index: ``--index``, else the MultiHop-RAG eval index when /work/eval-index/READY
exists, else a temporary index of data/articles.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rag.config import load_settings  # noqa: E402
from rag.eval.retrieval import load_queries  # noqa: E402
from rag.serve.service import Service  # noqa: E402
from tests.serve_helpers import free_port, running  # noqa: E402

EVAL_INDEX = Path("/work/eval-index/corpus")
QUERIES = next((p for p in (REPO.parent / "shared", REPO.parents[1] / "shared")
                if (p / "eval" / "multihop-rag" / "queries-dev.json").exists()),
               REPO.parent / "shared") / "eval" / "multihop-rag" / "queries-dev.json"


def pick_index(given: str | None) -> Path:
    if given:
        return Path(given)
    if (EVAL_INDEX.parent / "READY").exists():
        return EVAL_INDEX
    from rag.index.building import build_index

    folder = Path(tempfile.mkdtemp()) / "index"
    build_index(load_settings(index_dir=folder), [REPO / "data" / "articles"])
    return folder


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def answer_in_process(index: Path, questions: list[str]) -> tuple[dict[str, str], float, list[float]]:
    """The answers, answers/s and per-answer milliseconds of the questions answered one after
    the other in this process, after a warm-up pass over the first ten."""
    settings = load_settings(index_dir=index, llm={"backend": "extractive"})
    service = Service(settings)
    for q in questions[:10]:  # warm: opening, the embedder's and BM25's first calls
        list(service.answer_items(q, [], None, threading.Event()))
    answers, latencies = {}, []
    started = time.perf_counter()
    for q in questions:
        t0 = time.perf_counter()
        final = list(service.answer_items(q, [], None, threading.Event()))[-1]
        latencies.append((time.perf_counter() - t0) * 1000)
        answers[q] = final.text
    seconds = time.perf_counter() - started
    service.close()
    return answers, len(questions) / seconds, latencies


def start_server(index: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAG_LLM__BACKEND": "extractive", "RAG_INDEX_DIR": str(index)}
    proc = subprocess.Popen([sys.executable, "-c", "from rag.cli import app; app()", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("rag serve did not start")


def load_rows(base: str, questions: list[str], expected: dict[str, str], rps_in_process: float) -> list[dict]:
    rows = []
    for concurrency in (1, 8, 32):
        results: list[tuple[int, float, bool]] = []

        def one(q: str, client: httpx.Client) -> tuple[int, float, bool]:
            t0 = time.perf_counter()
            r = client.post(f"{base}/v1/chat/completions", timeout=300, json={
                "model": "article-rag", "messages": [{"role": "user", "content": q}]})
            ms = (time.perf_counter() - t0) * 1000
            same = r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == expected[q]
            return r.status_code, ms, same

        with httpx.Client(limits=httpx.Limits(max_connections=64)) as client:
            started = time.perf_counter()
            with ThreadPoolExecutor(concurrency) as pool:
                results = list(pool.map(lambda q: one(q, client), questions))
            seconds = time.perf_counter() - started
        latencies = [ms for _, ms, _ in results]
        rps = len(questions) / seconds
        rows.append({"concurrency": concurrency, "requests": len(results),
                     "answered": sum(s == 200 for s, _, _ in results),
                     "errors": sum(s != 200 for s, _, _ in results), "same": sum(x for _, _, x in results),
                     "p50_ms": percentile(latencies, 0.5), "p95_ms": percentile(latencies, 0.95),
                     "rps": rps, "ratio": rps / rps_in_process})
    return rows


def print_load(rows: list[dict], before: tuple[float, list[float]], after: tuple[float, list[float]]) -> None:
    for name, (rps, ms) in (("before", before), ("after", after)):
        print(f"in-process baseline {name} the HTTP runs: {rps:.1f} answers/s one after the other, "
              f"p50 {percentile(ms, 0.5):.0f} ms, p95 {percentile(ms, 0.95):.0f} ms")
    print(f"{'clients':>7} {'requests':>8} {'answered':>8} {'errors':>6} {'same':>5} {'p50 ms':>7} "
          f"{'p95 ms':>7} {'req/s':>6} {'vs in-process':>13}")
    for r in rows:
        print(f"{r['concurrency']:>7} {r['requests']:>8} {r['answered']:>8} {r['errors']:>6} {r['same']:>5} "
              f"{r['p50_ms']:>7.0f} {r['p95_ms']:>7.0f} {r['rps']:>6.1f} {r['ratio']:>12.2f}x")
    print("(vs in-process: req/s over the mean of the two baselines' answers/s; same: answer text identical "
          "to the in-process one)")


def model_run(index: Path, questions: list[str], concurrency: int, queue: int) -> None:
    """The packaged model behind the API: answered / 503 / hung up, and how long the model
    stayed busy after each hang-up."""
    from rag.serve.app import create_app

    ended: dict[str, float] = {}

    class TimedService(Service):
        def answer_items(self, question, history, filters, cancel):
            try:
                yield from super().answer_items(question, history, filters, cancel)
            finally:
                ended[question] = time.monotonic()

    from rag.llm.llama_cpp import LlamaCppChatModel

    turns: list[list[float]] = []  # [taken, given up] of every turn on the model

    class TimedLlama(LlamaCppChatModel):
        def _take_turn(self, ticket):
            super()._take_turn(ticket)
            turns.append([time.monotonic(), float("inf")])

        def _end_turn(self, ticket):
            held = self._owner is ticket
            super()._end_turn(ticket)
            if held:
                turns[-1][1] = time.monotonic()

    settings = load_settings(index_dir=index, serve={"max_queue": queue})
    service = TimedService(settings, chat_model=TimedLlama(settings.llm))
    service.opened()
    service.chat_model.count_tokens("warm up")
    outcomes: list[tuple[str, str, float]] = []
    hung_up: dict[str, float] = {}

    def one(i: int, q: str, base: str) -> tuple[str, str, float]:
        t0 = time.perf_counter()
        body = {"model": "article-rag", "messages": [{"role": "user", "content": q}]}
        try:
            if i % 4 == 3:
                with httpx.stream("POST", f"{base}/v1/chat/completions", json={**body, "stream": True},
                                  timeout=3600) as r:
                    if r.status_code != 200:
                        ok = r.status_code == 503 and r.headers.get("retry-after", "").isdigit()
                        return q, "503 + Retry-After" if ok else f"HTTP {r.status_code}", time.perf_counter() - t0
                    lines = r.iter_lines()
                    next(lines)
                    time.sleep(1.0)  # retrieval done, the model is reading the prompt or writing
                    hung_up[q] = time.monotonic()
                return q, "hung up by the client", time.perf_counter() - t0
            r = httpx.post(f"{base}/v1/chat/completions", json=body, timeout=3600)
            if r.status_code == 200:
                ok = isinstance(r.json()["choices"][0]["message"].get("citations"), list)
                return q, "answered" if ok else "200 without citations", time.perf_counter() - t0
            ok = r.status_code == 503 and r.headers.get("retry-after", "").isdigit()
            if ok:  # a polite client waits as told before its next question
                time.sleep(min(int(r.headers["retry-after"]), 60))
            return q, "503 + Retry-After" if ok else f"HTTP {r.status_code}", time.perf_counter() - t0
        except httpx.HTTPError as exc:
            return q, f"lost ({type(exc).__name__})", time.perf_counter() - t0

    with running(create_app(settings, service)) as base:
        with ThreadPoolExecutor(concurrency) as pool:
            outcomes = list(pool.map(lambda iq: one(iq[0], iq[1], base), enumerate(questions)))
        deadline = time.monotonic() + 60
        while service.answer_gate.running and time.monotonic() < deadline:
            time.sleep(0.1)
    counts: dict[str, int] = {}
    for _, outcome, _ in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    print(f"\npackaged model ({service.chat_model.model}); {len(questions)} requests from {concurrency} clients, "
          f"serve.max_queue={queue}")
    for outcome, n in sorted(counts.items()):
        print(f"  {outcome:<24} {n}")
    answered = [s for _, o, s in outcomes if o == "answered"]
    if answered:
        print(f"  answered in p50 {statistics.median(answered):.1f} s, max {max(answered):.1f} s")
    for q, at in hung_up.items():
        freed = ended.get(q)
        if freed is None:
            print("  hang-up: its answer never ended")
            continue
        # The request held the only slot from its first event to `freed`: any model turn in
        # that span was its own.
        own = [end for start, end in turns if start <= freed and end >= at]
        model = (f"the model given up {max(own) - at:+.2f} s after" if own
                 else "the model not taken after it")
        print(f"  hang-up: slot freed {freed - at:+.2f} s after (retrieval is not interrupted), {model}")
    print(f"  slots still held at the end: {service.answer_gate.running}")
    service.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--model", action="store_true", help="Also the packaged llama.cpp model run.")
    parser.add_argument("--model-only", action="store_true")
    parser.add_argument("--model-requests", type=int, default=20)
    parser.add_argument("--model-concurrency", type=int, default=4)
    parser.add_argument("--model-queue", type=int, default=2)
    args = parser.parse_args()
    index = pick_index(args.index)
    questions = [q["query"] for q in load_queries(QUERIES, include_null=True)]
    print(f"index {index}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if not args.model_only:
        chosen = questions[: args.requests]
        expected, rps_before, ms_before = answer_in_process(index, chosen)
        proc, base = start_server(index)
        try:
            rows = load_rows(base, chosen, expected, rps_before)
        finally:
            proc.terminate()
            proc.wait(10)
        again, rps_after, ms_after = answer_in_process(index, chosen)
        baseline = (rps_before + rps_after) / 2
        for row in rows:
            row["ratio"] = row["rps"] / baseline
        print(f"\nextractive backend, {len(chosen)} questions; in-process answers identical both times: "
              f"{again == expected}")
        print_load(rows, (rps_before, ms_before), (rps_after, ms_after))
        print(json.dumps(rows))
    if args.model or args.model_only:
        start = args.requests if not args.model_only else 0
        model_run(index, questions[start: start + args.model_requests], args.model_concurrency, args.model_queue)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
