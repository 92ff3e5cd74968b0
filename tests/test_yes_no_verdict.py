"""The calibrated yes/no verdict (rag.answer.verdict) on the real SmolLM2-135M GGUF."""

from __future__ import annotations

import pytest

from rag.answer.verdict import YES_NO_THRESHOLD, yes_no_threshold
from rag.config import LLMSettings
from rag.llm.packaged_gguf import DEFAULT_GGUF_NAME

YES_NO = [{"role": "user", "content": "Is Paris the capital of France? Answer Yes or No first."}]
OPEN = [{"role": "user", "content": "Name the capital of France in one word."}]


def test_the_threshold_is_known_for_the_packaged_model_only():
    assert yes_no_threshold(None, f"/cache/{DEFAULT_GGUF_NAME}") == YES_NO_THRESHOLD[DEFAULT_GGUF_NAME]
    assert yes_no_threshold(None, "/models/other.gguf") is None  # not measured: the model's own word
    assert yes_no_threshold(0.2, "/models/other.gguf") == 0.2  # configured wins


@pytest.fixture(scope="module")
def smollm2(smollm2_gguf):
    from rag.llm.llama_cpp import LlamaCppChatModel

    return LlamaCppChatModel(LLMSettings(backend="llama-cpp", model=str(smollm2_gguf), context_tokens=1024, threads=2,
                                         temperature=0.0, max_answer_tokens=12))


@pytest.mark.slow
def test_the_first_token_odds_decide_the_verdict(smollm2):
    smollm2.complete(YES_NO, yes_no_threshold=0.0)
    margin = smollm2.last_yes_no_margin
    assert margin is not None
    # Above the model's log-odds the verdict is No, below them Yes, and the reply goes on from it.
    assert smollm2.complete(YES_NO, yes_no_threshold=margin + 1.0).startswith("No")
    assert smollm2.complete(YES_NO, yes_no_threshold=margin - 1.0).startswith("Yes")
    assert smollm2.last_yes_no_margin == pytest.approx(margin, abs=0.05)  # same prompt, about the same odds


@pytest.mark.slow
def test_a_reply_that_does_not_open_with_yes_or_no_is_left_alone(smollm2):
    plain = smollm2.complete(OPEN)
    assert smollm2.complete(OPEN, yes_no_threshold=100.0) == plain
    assert smollm2.last_yes_no_margin is not None  # measured all the same


@pytest.mark.slow
def test_the_same_prompt_gets_the_same_odds_and_reply_whatever_came_before(smollm2):
    first = smollm2.complete(YES_NO, yes_no_threshold=0.0), smollm2.last_yes_no_margin
    smollm2.complete(OPEN)
    longer = [{"role": "user", "content": YES_NO[0]["content"] + " Then say why, in a few words."}]
    smollm2.complete(longer, yes_no_threshold=0.0)  # shares a long prefix with YES_NO
    again = smollm2.complete(YES_NO, yes_no_threshold=0.0), smollm2.last_yes_no_margin
    twice = smollm2.complete(YES_NO, yes_no_threshold=0.0), smollm2.last_yes_no_margin
    assert first == again == twice  # exactly: each prompt is read from an empty cache


@pytest.mark.slow
def test_the_prompt_opening_is_read_once_and_kept(smollm2):
    import llama_cpp

    llm = smollm2._load()
    system = {"role": "system", "content": "You answer questions about news articles using only the sources."}
    asked = [[system, {"role": "user", "content": f"Sources: the {thing} was sold. What was sold?"}]
             for thing in ("bridge", "harbour ferry company")]

    def prompt_tokens_read(messages) -> int:
        before = llama_cpp.llama_perf_context(llm._ctx.ctx).n_p_eval
        smollm2.complete(messages, max_tokens=1)
        return llama_cpp.llama_perf_context(llm._ctx.ctx).n_p_eval - before

    smollm2.complete([{"role": "user", "content": "Something else entirely."}], max_tokens=1)
    whole = prompt_tokens_read(asked[1])  # another opening was in the cache: all of it
    opening = len(smollm2._opening or [])
    assert opening > 10 and whole > opening
    prompt_tokens_read(asked[0])
    assert prompt_tokens_read(asked[1]) == whole - opening  # the same opening: only the rest
