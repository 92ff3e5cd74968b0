"""In-process llama.cpp chat model for a local GGUF file (the offline default).

With no ``RAG_LLM__MODEL`` it runs the packaged default
(:mod:`rag.llm.packaged_gguf`).

One loaded model writes one answer at a time (it holds one context). A
stream owns the model from its first piece to its end; it gives it up when it
finishes, fails or is closed (``try``/``finally``), and, so that a reader that
went away without closing its stream cannot block everyone else until garbage
collection, also when it has waited unread for ``idle_stream_seconds`` while
another answer is waiting: that stream then ends with a BackendError if it is
ever read again. Pieces are computed one at a time under the owner check, so
two answers never interleave on the model.

A stream given ``should_stop`` (the HTTP and MCP servers pass one: "the client went
away") also stops inside llama.cpp's own computation, prompt reading included, through
llama.cpp's abort callback (:meth:`LlamaCppChatModel._watch_stop`): the stream then ends
early with what it wrote so far.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.config import LLMSettings, cache_dir
from rag.errors import BackendError, ConfigError
from rag.llm.base import ChatModel
from rag.llm.packaged_gguf import (
    DEFAULT_GGUF_SHA256,
    default_model_path,
    default_part_paths,
    ensure_default_model,
    is_verified,
)


class LlamaCppChatModel(ChatModel):
    """A GGUF model run in-process by llama-cpp-python, loaded once, lazily."""

    backend = "llama-cpp"
    calibrates_yes_no = True
    stops_when_asked = True  # stream() takes should_stop (module docstring)

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        self._cache = cache_dir(settings)  # the caller's settings, not a fresh rag.toml
        if settings.model:
            path = Path(settings.model).expanduser()
            if not path.is_file():
                raise ConfigError(
                    f"RAG_LLM__MODEL points at {path}, which is not a file: give the path of a "
                    f"GGUF model, or unset it to use the packaged default."
                )
            self._path: Path | None = path
        else:
            self._path = None
            if not is_verified(default_model_path(self._cache), DEFAULT_GGUF_SHA256):
                default_part_paths()  # fail now, with a clear message, if not installed
        self.model = str(self._path or default_model_path(self._cache))
        self._llm: Any = None
        self._lock = threading.Lock()  # loading
        self._turn = threading.Condition()  # who generates (module docstring)
        self._owner: object | None = None
        self._owner_busy = False  # computing a piece now
        self._owner_seen = 0.0  # time.monotonic() when it last handed out a piece
        self._opening: list[int] | None = None  # the prompt opening kept in the cache
        self._formatter: Any = None  # the GGUF's chat template (_opening_tokens)
        self._should_stop: Any = None  # the owner stream's should_stop, read by llama.cpp's abort callback
        self._abort_callback: Any = None  # kept referenced while llama.cpp holds it

    def _load(self) -> Any:
        with self._lock:
            if self._llm is None:
                try:
                    from llama_cpp import Llama
                except ImportError:
                    raise ConfigError(
                        "The llama-cpp chat backend needs llama-cpp-python: `pip install "
                        "'article-rag[local]'`, or choose another RAG_LLM__BACKEND "
                        "(openai, extractive)."
                    ) from None
                path = self._path or ensure_default_model(cache=self._cache)
                try:
                    threads = self.settings.threads or os.cpu_count() or 1
                    self._llm = Llama(
                        model_path=str(path),
                        n_ctx=self.settings.context_tokens,
                        n_threads=threads,
                        n_threads_batch=threads,  # reading the prompt: the same cores, not every core
                        n_batch=self.settings.batch_tokens,
                        verbose=False,
                    )
                except Exception as exc:  # noqa: BLE001
                    raise BackendError(
                        f"llama.cpp could not load the model {path}: {exc}. Is it a valid GGUF "
                        f"file?"
                    ) from None
            return self._llm

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` by the model's own tokenizer, never while a stream is
        computing a piece (llama.cpp's context is not safe from two threads at once)."""
        llm = self._load()
        with self._turn:
            while self._owner_busy:
                self._turn.wait()
            return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(self, messages: list[dict], *, max_tokens: int | None = None,
               yes_no_threshold: float | None = None, should_stop: Any = None) -> Iterator[str]:
        """Stream the reply; with ``yes_no_threshold``, a reply that opens with Yes or No opens
        with the verdict its first-token odds give at that threshold (rag.answer.verdict). With
        ``should_stop`` (a callable), the reply ends as soon as it returns True, even while the
        model is reading the prompt."""
        llm = self._load()
        if should_stop is not None:
            self._watch_stop(llm)
        ticket = object()
        self._take_turn(ticket)
        self._should_stop = should_stop
        chunks: Any = None
        self.last_yes_no_margin = None
        extra: dict[str, Any] = {}
        if yes_no_threshold is not None:
            extra["logits_processor"] = [self._verdict_processor(llm, yes_no_threshold)]
        try:
            chunks = self._chunks(llm, messages, max_tokens=max_tokens or self.settings.max_answer_tokens,
                                  temperature=self.settings.temperature, **extra)
            while (chunk := self._next_piece(ticket, chunks)) is not None:
                for choice in chunk.get("choices", ()):
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        yield text
        except ValueError as exc:
            if "context window" in str(exc) or "exceed" in str(exc):
                raise BackendError(
                    f"The prompt does not fit the model's context of "
                    f"{self.settings.context_tokens} tokens ({exc}). Raise "
                    f"RAG_LLM__CONTEXT_TOKENS or retrieve fewer passages (RAG_ANSWER__PASSAGES)."
                ) from None
            raise BackendError(f"llama.cpp failed on {self.model}: {exc}") from None
        except RuntimeError as exc:
            if should_stop is not None and should_stop():
                return  # llama.cpp was aborted because the reader asked to stop
            raise BackendError(f"llama.cpp failed on {self.model}: {exc}") from None
        finally:
            if chunks is not None:
                chunks.close()  # runs no llama.cpp code: safe even after a hand-over
            self._end_turn(ticket)

    def _watch_stop(self, llm: Any) -> None:
        """Install, once, llama.cpp's abort callback: it asks the owner stream's
        ``should_stop`` between two steps of every computation. Installed only when a stream
        asks for it, so the CLI and the UI run without the callback."""
        with self._lock:
            if self._abort_callback is not None:
                return
            import llama_cpp

            def abort(_data: Any) -> bool:
                check = self._should_stop
                return bool(check is not None and check())

            self._abort_callback = llama_cpp.ggml_abort_callback(abort)
            llama_cpp.llama_set_abort_callback(llm.ctx, self._abort_callback, None)

    def _chunks(self, llm: Any, messages: list[dict], **options: Any) -> Iterator[dict]:
        """llama.cpp's streamed chunks, the cache first left holding only the prompt's opening
        (all of it computed piece by piece, under the owner check: :meth:`_next_piece`)."""
        self._keep_only_opening(llm, messages)
        yield from llm.create_chat_completion(messages=messages, stream=True, **options)

    def _keep_only_opening(self, llm: Any, messages: list[dict]) -> None:
        """Leave in llama.cpp's cache only the prompt's opening (chat template and system
        message, up to the last message's text), read on its own, so that the rest of the
        prompt is always read from the same point.

        llama.cpp's numbers depend on where a prompt was split between cached and newly read
        tokens: without this, the same question asked three times in a row gave first-token
        log-odds 0.895, 0.995 and 1.009 and three different answers. The opening is what
        consecutive answer prompts share (52 tokens of the packaged model's), so keeping it
        costs nothing; a prompt with another opening, or a model without a chat template in
        its GGUF, is read from an empty cache."""
        opening = self._opening_tokens(llm, messages)
        if (opening and self._opening == opening and llm.n_tokens >= len(opening)
                and list(llm.input_ids[: len(opening)]) == opening):
            llm.n_tokens = len(opening)  # the next prompt is read from here
            return
        llm.reset()
        self._opening = None
        if opening:
            llm.eval(opening)
            self._opening = opening

    def _opening_tokens(self, llm: Any, messages: list[dict]) -> list[int] | None:
        """The tokens ``messages`` open with whatever their last message says, as the model's
        own chat template renders them (None without one, or when the last has no text)."""
        template = (llm.metadata or {}).get("tokenizer.chat_template")
        if not template or llm.chat_handler is not None or llm.chat_format != "chat_template.default":
            return None
        if not messages or not messages[-1].get("content"):
            return None
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        if self._formatter is None:
            special = lambda token: (llm.detokenize([token], special=True).decode("utf-8", "ignore")  # noqa: E731
                                     if token >= 0 else "")
            self._formatter = Jinja2ChatFormatter(template=template, eos_token=special(llm.token_eos()),
                                                  bos_token=special(llm.token_bos()))
        try:
            rendered = [self._formatter(messages=[*messages[:-1], {**messages[-1], "content": text}]).prompt
                        for text in ("\x01", "\x02")]  # two prompts that differ from the last text on
        except Exception:  # noqa: BLE001 - a template that will not render this: read from empty
            return None
        first, second = (llm.tokenize(r.encode("utf-8"), add_bos=False, special=True) for r in rendered)
        shared = next((i for i, (a, b) in enumerate(zip(first, second)) if a != b), 0)
        return first[:shared] or None

    last_yes_no_margin: float | None = None
    """log P(Yes) - log P(No) of the last streamed reply's first token (with a threshold given),
    recorded whether or not the reply opens with Yes or No."""

    def _verdict_processor(self, llm: Any, threshold: float) -> Any:
        """A logits processor that, at the first token only, puts Yes or No on top by the
        threshold when the model's own top token is one of them (a yes/no reply)."""
        import numpy as np

        yes, no = first_token_ids(llm, "Yes"), first_token_ids(llm, "No")
        seen = False

        def processor(_input_ids: Any, scores: Any) -> Any:
            nonlocal seen
            if seen:
                return scores
            seen = True
            logits = np.asarray(scores, dtype=np.float64)
            margin = log_odds(logits, yes, no)
            self.last_yes_no_margin = margin
            top = int(np.argmax(logits))
            if top not in yes and top not in no:
                return scores
            chosen = yes if margin >= threshold else no
            best = chosen[int(np.argmax(logits[chosen]))]
            scores[best] = logits.max() + 10.0  # far above the rest, whatever the temperature
            return scores

        return processor

    # -- one answer at a time (module docstring) -----------------------------------------

    def _owner_left(self) -> bool:
        """The owner waits unread (not computing) for longer than the idle limit."""
        idle = time.monotonic() - self._owner_seen
        return not self._owner_busy and idle >= self.settings.idle_stream_seconds

    def _take_turn(self, ticket: object) -> None:
        with self._turn:
            while self._owner is not None and not self._owner_left():
                left = self.settings.idle_stream_seconds - (time.monotonic() - self._owner_seen)
                self._turn.wait(None if self._owner_busy else max(left, 0.01))
            self._owner, self._owner_busy, self._owner_seen = ticket, False, time.monotonic()

    def _next_piece(self, ticket: object, chunks: Iterator[dict]) -> dict | None:
        with self._turn:
            if self._owner is not ticket:
                raise BackendError(
                    f"This answer was stopped: it was left unread for more than "
                    f"{self.settings.idle_stream_seconds:g} s while another answer waited for the "
                    f"model. Ask again.")
            self._owner_busy = True
        try:
            return next(chunks, None)
        finally:
            with self._turn:
                self._owner_busy, self._owner_seen = False, time.monotonic()
                self._turn.notify_all()

    def _end_turn(self, ticket: object) -> None:
        with self._turn:
            if self._owner is ticket:
                self._owner = None
                self._should_stop = None
                self._turn.notify_all()


def first_token_ids(llm: Any, word: str) -> list[int]:
    """The first token of each spelling of ``word`` a reply may open with ("No", " No", "no", "NO")."""
    spellings = (word, " " + word, word.lower(), " " + word.lower(), word.upper())
    return sorted({llm.tokenize(w.encode("utf-8"), add_bos=False, special=False)[0] for w in spellings})


def log_odds(logits: Any, first: list[int], second: list[int]) -> float:
    """log P(first) - log P(second) at one position, each the summed probability of its tokens."""
    import numpy as np

    peak = logits.max()
    return float(np.log(np.exp(logits[first] - peak).sum()) - np.log(np.exp(logits[second] - peak).sum()))
