"""What the chat page needs besides drawing: no Streamlit imports here.

Settings per session, background index jobs shared by every session, uploads,
escaping and formatting of text for Markdown, example questions and the
Markdown export of a conversation. Everything that touches articles, the index
or models is a call into the ``rag`` library.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rag.articles import SUPPORTED_SUFFIXES, load_path
from rag.config import Settings
from rag.errors import RagError

log = logging.getLogger("article_rag.ui")

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOAD_SUFFIXES = tuple(sorted(SUPPORTED_SUFFIXES))

# -- chat backends the sidebar offers -------------------------------------------------

BACKENDS = {
    "llama-cpp": "Offline (llama.cpp, local GGUF)",
    "openai-compatible": "OpenAI-compatible server",
    "openai": "OpenAI",
    "extractive": "No language model (quotes)",
}


def backend_choice(settings: Settings) -> str:
    """The sidebar option that ``settings.llm`` corresponds to."""
    backend = (settings.llm.backend or "").lower().replace("_", "-")
    if backend == "openai":
        return "openai-compatible" if settings.llm.base_url else "openai"
    return backend if backend in BACKENDS else "llama-cpp"


def llm_overrides(choice: str, base_url: str | None, model: str | None) -> dict:
    """``load_settings(llm=...)`` overrides for a sidebar choice."""
    base_url = (base_url or "").strip() or None
    model = (model or "").strip() or None
    if choice == "openai-compatible":
        return {"backend": "openai", "base_url": base_url, "model": model}
    if choice == "openai":
        return {"backend": "openai", "base_url": None, "model": model}
    return {"backend": choice, "base_url": None, "model": model}


def settings_with(base: Settings, **sections: dict) -> Settings:
    """``base`` with some fields of its sections replaced (``None`` values count)."""
    data = base.model_dump()
    for name, values in sections.items():
        data[name] = {**data[name], **values}
    return Settings.model_validate(data)


@contextmanager
def session_key_env(api_key: str | None):
    """A fresh, unguessable environment variable name holding ``api_key`` for
    as long as the block runs (None when there is no key).

    The library's OpenAI backend reads its key from the variable named by
    ``LLMSettings.api_key_env`` once, when the model is created; the variable
    is removed again right after, so the key lives only in that session's
    model object and is never written anywhere.
    """
    if not api_key:
        yield None
        return
    name = f"RAG_UI_SESSION_KEY_{secrets.token_hex(8).upper()}"
    os.environ[name] = api_key
    try:
        yield name
    finally:
        os.environ.pop(name, None)


# -- background index jobs (shared by every session of one server) --------------------

_STAGE_SPAN = {"loading": (0.0, 0.05), "chunking": (0.05, 0.2), "embedding": (0.2, 0.9),
               "publishing": (0.9, 1.0)}
_STAGE_LABEL = {"loading": "Reading articles", "chunking": "Splitting into passages",
                "embedding": "Embedding passages", "publishing": "Publishing the new index"}


@dataclass
class IndexJob:
    """One build running (or finished) in a background thread."""

    id: int
    kind: str  # "rebuild" | "upload"
    stage: str = "starting"
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.time)
    finished: float | None = None
    report: dict | None = None
    error: str | None = None
    uploaded: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.finished is None

    @property
    def fraction(self) -> float:
        lo, hi = _STAGE_SPAN.get(self.stage, (0.0, 0.0))
        part = self.done / self.total if self.total else 0.0
        return 1.0 if not self.running and not self.error else min(1.0, lo + (hi - lo) * part)

    @property
    def label(self) -> str:
        text = _STAGE_LABEL.get(self.stage, "Starting")
        if self.stage in ("chunking", "embedding") and self.total:
            text += f" ({self.done}/{self.total})"
        return text

    def progress(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, done, total


class IndexJobs:
    """At most one build at a time per index folder; any session can watch it.

    Builds run in a daemon thread through :func:`rag.indexing.build_index`,
    which publishes the new version atomically, so every session keeps
    answering from the old snapshot until the new one is published; the page
    then reopens the index because the published version name changed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = 0
        self.current: IndexJob | None = None
        # Embedding settings of the last successful build from this server,
        # when they differ from the configured ones (an embedder switch).
        self.embedding: dict | None = None

    def start(self, settings: Settings, kind: str, full: bool = False,
              uploaded: Sequence[str] = ()) -> IndexJob:
        with self._lock:
            if self.current is not None and self.current.running:
                raise RagError("An index build is already running; wait for it to finish.")
            self._counter += 1
            job = IndexJob(id=self._counter, kind=kind, uploaded=list(uploaded))
            self.current = job
        thread = threading.Thread(target=self._run, args=(job, settings, full), daemon=True,
                                  name=f"rag-ui-build-{job.id}")
        thread.start()
        return job

    def wait(self, timeout: float = 60.0) -> IndexJob | None:
        """Block until the current job ends (tests and scripts)."""
        deadline = time.time() + timeout
        while self.current is not None and self.current.running and time.time() < deadline:
            time.sleep(0.05)
        return self.current

    def _run(self, job: IndexJob, settings: Settings, full: bool) -> None:
        from rag.indexing import build_index

        try:
            report = build_index(settings, full=full, progress=job.progress)
            job.report = report.to_dict()
            self.embedding = settings.embedding.model_dump()
        except RagError as exc:
            job.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - shown as a message, logged for the operator
            log.exception("index build failed")
            job.error = f"The index build failed unexpectedly ({type(exc).__name__}: {exc})."
        finally:
            job.finished = time.time()


# -- uploads -------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^\w. -]+")


def _last_component(name: str) -> str:
    return re.split(r"[\\/]", unicodedata.normalize("NFKC", name or ""))[-1].replace("\x00", "")


def _suffix(name: str) -> str:
    base = _last_component(name)
    return base[base.rfind("."):].lower() if "." in base else ""


def safe_filename(name: str) -> str | None:
    """A plain file name made from an uploaded name, or None if nothing is left.

    Only the last path component is kept (``/`` and ``\\`` both count), the
    name is normalised (NFKC), characters other than letters, digits, ``.``,
    ``_``, ``-`` and space become ``_``, and leading dots and spaces are
    dropped: the result can never name a parent folder or a hidden file.
    """
    base = _last_component(name)
    dot = base.rfind(".")
    stem, suffix = (base[:dot], base[dot:]) if dot >= 0 else (base, "")
    suffix = re.sub(r"[^A-Za-z0-9.]", "", suffix)
    stem = _UNSAFE.sub("_", stem).strip().lstrip(". ")[:100].strip()
    if not re.search(r"[^\W_]", stem):
        return None
    return stem + suffix


@dataclass
class UploadResult:
    saved: list[str] = field(default_factory=list)  # file names in the articles folder
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (name as uploaded, reason)


def save_uploads(files: Iterable[tuple[str, bytes]], articles_dir: Path,
                 max_bytes: int = MAX_UPLOAD_BYTES) -> UploadResult:
    """Check each uploaded (name, content) and save the good ones into ``articles_dir``.

    A file is rejected, with the reason, when its type is not one the loader
    reads, it is empty or over ``max_bytes``, or the loader finds no article
    in it (the loader's own message). An existing file with other content is
    never overwritten: the new one gets a numbered name.
    """
    result = UploadResult()
    folder = Path(articles_dir)
    for original, data in files:
        shown = (original or "").strip() or "(unnamed file)"
        name = safe_filename(original)
        suffix = _suffix(original)
        if suffix not in SUPPORTED_SUFFIXES:
            result.rejected.append((shown, f"unsupported file type {suffix or '(none)'}; "
                                           "use .txt, .md, .html, .json or .jsonl"))
            continue
        if name is None:
            result.rejected.append((shown, "the file name has no usable characters; rename it"))
            continue
        if len(data) == 0:
            result.rejected.append((shown, "the file is empty"))
            continue
        if len(data) > max_bytes:
            result.rejected.append((shown, f"the file is {len(data) / 1e6:.1f} MB, over the "
                                           f"{max_bytes / 1e6:.0f} MB limit"))
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target = _free_path(folder, name, data)
            if target is None:  # identical file already there
                result.saved.append(name)
                continue
            reason = _check_article(folder, target.suffix, data)
            if reason:
                result.rejected.append((shown, reason))
                continue
            tmp = folder / f".upload-{secrets.token_hex(6)}{target.suffix}"
            tmp.write_bytes(data)
            os.replace(tmp, target)
        except OSError as exc:
            result.rejected.append((shown, f"it could not be saved ({exc.strerror or exc})"))
            continue
        result.saved.append(target.name)
    return result


def _free_path(folder: Path, name: str, data: bytes) -> Path | None:
    """``folder/name``, or a numbered variant if that exists with other content;
    None when a file with the same name and content is already there."""
    root = folder.resolve()
    stem, suffix = Path(name).stem, Path(name).suffix
    for i in range(1000):
        candidate = folder / (name if i == 0 else f"{stem}-{i}{suffix}")
        if candidate.resolve().parent != root:  # belt and braces: never outside the folder
            raise OSError(0, "the file name points outside the articles folder")
        if not candidate.exists():
            return candidate
        if candidate.is_file() and candidate.read_bytes() == data:
            return None
    raise OSError(0, "too many files with this name")


def _check_article(folder: Path, suffix: str, data: bytes) -> str | None:
    """The loader's reason when ``data`` holds no article, else None."""
    probe = folder / f".probe-{secrets.token_hex(6)}{suffix}"  # hidden: builds skip it
    probe.write_bytes(data)
    try:
        loaded = load_path(probe)
    finally:
        probe.unlink(missing_ok=True)
    if loaded.articles:
        return None
    if loaded.skipped:
        reason = loaded.skipped[0].reason
        return f"no article could be read from it: {reason}"
    return "no article could be read from it"


# -- text for Markdown ---------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>&$:~=\"'^])")
_MARKER = re.compile(r"\[(\d{1,3})\]")


def md_escape(text: str, inline: bool = False) -> str:
    """``text`` shown literally by Streamlit's Markdown: every Markdown, HTML,
    LaTeX (``$``) and directive (``:``) character is backslash-escaped, and
    line breaks are kept (``inline``: whitespace runs become one space, and
    leading and trailing spaces are kept, for pieces of one paragraph)."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    if inline:
        return re.sub(r"\s+", " ", escaped)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", escaped)]
    return "\n\n".join("  \n".join(line.strip() for line in p.split("\n")) for p in paragraphs if p)


def anchor_id(message_id: str, n: int) -> str:
    return f"src-{message_id}-{n}"


def answer_markdown(text: str, message_id: str, n_citations: int) -> str:
    """A model's answer as Markdown: formatting kept, raw HTML and LaTeX shown as
    text, and each valid ``[n]`` a link to its source entry below the answer."""
    safe = str(text)
    safe = re.sub(r"([\\<>&$])", r"\\\1", safe)  # no HTML, entities or LaTeX
    safe = safe.replace("![", "!\\[")  # no images fetched from model output
    safe = re.sub(r":([A-Za-z-]+)\[", r"\\:\1[", safe)  # no Streamlit colour directives

    def link(match: re.Match) -> str:
        n = int(match.group(1))
        if 1 <= n <= n_citations:
            return f"[\\[{n}\\]](#{anchor_id(message_id, n)})"
        return match.group(0)

    return _MARKER.sub(link, safe)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


def highlighted_passage(passage: str, quote: str, context_chars: int = 180) -> tuple[str, bool]:
    """The passage as escaped Markdown with ``quote`` highlighted, cut to the
    quote and up to ``context_chars`` around it. Returns (markdown, found)."""
    text = _norm(passage)
    q = _norm(quote)
    start = text.find(q) if q else -1
    if start < 0 and q:  # the model may have moved punctuation: try without the ends
        core = q.strip(" .!?…\"'“”‘’")
        start = text.find(core) if len(core) > 20 else -1
        q = core if start >= 0 else q
    if start < 0:
        snippet = text if len(text) <= 2 * context_chars else text[: 2 * context_chars].rsplit(" ", 1)[0] + " …"
        return md_escape(snippet), False
    end = start + len(q)
    lo = max(0, start - context_chars)
    hi = min(len(text), end + context_chars)
    if lo > 0:
        lo = text.find(" ", lo) + 1 or lo
    if hi < len(text):
        cut = text.rfind(" ", end, hi)
        hi = cut if cut > end else hi
    before = ("… " if lo > 0 else "") + text[lo:start]
    after = text[end:hi] + (" …" if hi < len(text) else "")
    marked = f":orange-background[{md_escape(text[start:end], inline=True)}]"
    return f"{md_escape(before, inline=True)}{marked}{md_escape(after, inline=True)}", True


def format_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)[:10]
    return moment.strftime("%-d %b %Y")


# -- welcome page and export ---------------------------------------------------------

_TITLE_TAIL = re.compile(r"\s+[|–—-]\s+[^|–—-]{2,40}$")


def example_questions(titles: Sequence[str], n: int = 3) -> list[str]:
    """Questions made from article titles (deterministic for the same titles)."""
    out: list[str] = []
    for title in titles:
        clean = _norm(title)
        clean = _TITLE_TAIL.sub("", clean)  # "Headline – Publisher" -> "Headline"
        clean = clean.rstrip(" .:;!?")
        if len(clean) < 8:
            continue
        if len(clean) > 90:
            clean = clean[:90].rsplit(" ", 1)[0] + "…"
        question = f"What do the articles say about “{clean}”?"
        if question not in out:
            out.append(question)
        if len(out) == n:
            break
    return out


def history_for_answerer(messages: Sequence[dict]) -> list[dict]:
    """The turns the answer pipeline sees: completed question/answer pairs only."""
    out: list[dict] = []
    for i, message in enumerate(messages):
        if message.get("role") == "user":
            reply = messages[i + 1] if i + 1 < len(messages) else None
            if reply and reply.get("role") == "assistant" and not reply.get("error"):
                turn = {"role": "user", "content": message.get("content", "")}
                if message.get("standalone"):
                    turn["standalone"] = message["standalone"]
                out.append(turn)
                out.append({"role": "assistant", "content": reply.get("content", "")})
    return out


def answer_record(answer: Any, message_id: str) -> dict:
    """An assistant message (JSON-ready) from a :class:`rag.answer.Answer`."""
    passages = {p.id: p for p in answer.passages}
    citations = []
    for c in answer.citations:
        passage = passages.get(c.passage_id)
        citations.append({
            "n": c.n, "passage_id": c.passage_id, "article_id": c.article_id, "title": c.title,
            "source": c.source, "published_at": c.published_at, "url": c.url, "quote": c.quote,
            "supported": bool(c.supported), "passage": passage.text if passage else c.quote,
        })
    return {
        "role": "assistant", "id": message_id, "content": answer.text, "citations": citations,
        "refused": bool(answer.refused), "backend": answer.backend, "model": answer.model,
        "timings": dict(answer.timings), "dropped_citations": answer.dropped_citations,
        "unsupported_citations": answer.unsupported_citations,
        "standalone_question": answer.standalone_question,
    }


def conversation_markdown(messages: Sequence[dict], title: str = "Conversation") -> str:
    """The conversation as a Markdown document with each answer's sources."""
    lines = [f"# {title}", ""]
    for message in messages:
        role = message.get("role")
        if role == "user":
            lines += [f"## Q: {message.get('content', '').strip()}", ""]
            continue
        if message.get("error"):
            lines += [f"> Error: {message.get('content', '')}", ""]
            continue
        lines += [str(message.get("content", "")).strip(), ""]
        lines += [f"*Answered by {backend_label(message)}*", ""]
        if message.get("citations"):
            lines += ["**Sources**", ""]
            for c in message["citations"]:
                meta = " · ".join(x for x in (c.get("source"), format_date(c.get("published_at"))) if x)
                head = f"{c['n']}. {c.get('title') or 'Untitled'}"
                if meta:
                    head += f" ({meta})"
                if c.get("url"):
                    head += f" <{c['url']}>"
                lines.append(head)
                if c.get("quote"):
                    lines.append(f"   > {_norm(c['quote'])}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def backend_label(message: dict) -> str:
    """Who answered, e.g. "OpenAI-compatible server 127.0.0.1:8080 · qwen2.5"."""
    backend = message.get("backend") or "?"
    model = message.get("model") or ""
    endpoint = message.get("endpoint") or ""
    if backend == "openai":
        label = "OpenAI" if endpoint in ("", "api.openai.com") else f"OpenAI-compatible server {endpoint}"
    else:
        label = {"llama-cpp": "llama.cpp (offline)", "extractive": "extractive (no LLM)"}.get(backend, backend)
    if model and model != backend:
        label += f" · {Path(model).name if backend == 'llama-cpp' else model}"
    return label


def endpoint_of(base_url: str | None) -> str:
    """host:port of a server URL (never its path, query or credentials)."""
    if not base_url:
        return ""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(base_url)
        host = parts.hostname or ""
        return f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return ""
