"""What llama.cpp's abort callback (installed by a stream given ``should_stop``, as the
servers do) costs: tokens/s of two copies of one GGUF, one with the callback and one
without, answering the same prompt in alternation in this process.

    nice -n 5 python benchmarks/llama_abort_overhead.py [--model FILE.gguf] [--rounds 3]

Default model: the SmolLM2 test GGUF.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.config import LLMSettings  # noqa: E402
from rag.llm.llama_cpp import LlamaCppChatModel  # noqa: E402
from tests.conftest import smollm2_path  # noqa: E402

PROMPT = [{"role": "system", "content": "You answer from the sources."},
          {"role": "user", "content": "Sources:\n" + "The harbour bridge reopened on Monday after repairs. " * 40
           + "\nQuestion: When did the bridge reopen, and why was it closed?"}]


def rate(model: LlamaCppChatModel, tokens: int, **options) -> tuple[float, float]:
    """(seconds to the first piece, pieces/s after it)."""
    started = time.perf_counter()
    first = None
    n = 0
    for _ in model.stream(PROMPT, max_tokens=tokens, **options):
        n += 1
        if first is None:
            first = time.perf_counter()
    end = time.perf_counter()
    return first - started, (n - 1) / max(end - first, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(smollm2_path()))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=64)
    args = parser.parse_args()
    settings = LLMSettings(model=args.model, context_tokens=1024, threads=2, temperature=0.0)
    plain, watched = LlamaCppChatModel(settings), LlamaCppChatModel(settings)
    rate(plain, 4)
    rate(watched, 4, should_stop=lambda: False)  # installs the callback
    rows = {"without": [], "with": []}
    for _ in range(args.rounds):
        rows["without"].append(rate(plain, args.tokens))
        rows["with"].append(rate(watched, args.tokens, should_stop=lambda: False))
    print(f"{Path(args.model).name}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'callback':>8} {'prompt s (median)':>18} {'tokens/s (median)':>18}")
    med = {k: (statistics.median(p for p, _ in v), statistics.median(r for _, r in v)) for k, v in rows.items()}
    for name, (prompt_s, tps) in med.items():
        print(f"{name:>8} {prompt_s:>18.2f} {tps:>18.1f}")
    print(f"ratio with/without: prompt time {med['with'][0] / med['without'][0]:.2f}x, "
          f"tokens/s {med['with'][1] / med['without'][1]:.2f}x")


if __name__ == "__main__":
    main()
