"""A build: make a passage store hold exactly a list of articles, through the
:class:`rag.index.passage_store.PassageStore` interface only.

The steps, each a function here: :func:`diff_articles` compares the articles
with what the published version stores; :func:`plan_reuse` finds, among the
stored passages of the articles to re-chunk, vectors that identical text can
reuse; :func:`chunk_articles` cuts the new and changed articles into passages;
:func:`embed_in_length_order` embeds what has no vector yet; :func:`sync`
writes all of it into a draft and publishes it. A passage whose text is
unchanged keeps its vector, and an unchanged article is not touched at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from rag.embed.base import Embedder
from rag.errors import ArticleError, IndexMismatchError
from rag.index.passage_store import PassageDraft, PassageSnapshot, PassageStore, extra_json
from rag.index.revisions import build_time, keep_revisions
from rag.index.scope import PathScope, indexed_roots
from rag.ingest.chunking import Chunker
from rag.types import Article, Passage

Progress = Callable[[str, int, int], None]
_COPY_BLOCK = 16_384  # reused vectors are copied this many at a time


@dataclass
class SyncReport:
    """What a build did; the ``--json`` output of ``rag index build``."""

    articles: int = 0
    passages: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded_passages: int = 0
    skipped: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    # Articles indexed from paths the build was not given, left as they were.
    kept: int = 0
    # The paths the index holds articles from after the build (absolute).
    roots: list[str] = field(default_factory=list)
    # Earlier versions kept (rag.index.revisions): updated articles whose title or body changed.
    revisions: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ArticleDiff:
    """How the articles differ from the stored ones."""

    to_chunk: list[Article]  # new and changed articles (every article when the chunking changed)
    removed: list[str]  # stored article ids under the build's paths no longer among the articles
    kept_paths: list[str | None] = field(default_factory=list)  # stored articles outside the paths
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    fields_changed: bool = False  # an unchanged article's path or extra fields differ
    rechunk_all: bool = False

    @property
    def changes_nothing(self) -> bool:
        return not (self.rechunk_all or self.added or self.updated or self.removed or self.fields_changed)


@dataclass
class ReusePlan:
    """Stored passages of the articles to re-chunk: their ids, and one per distinct text."""

    stale: list[str]  # every stored passage of an article that is re-chunked
    by_text: dict[str, str]  # text hash -> id of the first stored passage with that text


def manifest_for(embedder: Embedder, chunker: Chunker) -> dict:
    """What a store records about how its passages were made."""
    return {
        "embedder": {"id": embedder.model_id, "dim": embedder.dim, "max_tokens": embedder.max_tokens},
        "chunking": {"max_tokens": chunker.max_tokens, "overlap_tokens": chunker.overlap_tokens},
    }


def diff_articles(previous: PassageSnapshot | None, articles: Sequence[Article], chunking: dict,
                  scope: PathScope | None = None) -> ArticleDiff:
    """Compare ``articles`` with the articles ``previous`` stores (all new when None).

    A stored article that is not among ``articles`` is removed when ``scope``
    covers its path (always, without a scope) and kept otherwise.
    """
    stored = {} if previous is None else previous.stored_articles()
    rechunk_all = previous is not None and previous.manifest.get("chunking") != chunking
    new_ids = {a.id for a in articles}
    diff = ArticleDiff(to_chunk=[], removed=[], rechunk_all=rechunk_all)
    for article_id, before in stored.items():
        if article_id in new_ids:
            continue
        if scope is None or scope.covers(before.path):
            diff.removed.append(article_id)
        else:
            diff.kept_paths.append(before.path)
    for article in articles:
        before = stored.get(article.id)
        if before is None:
            diff.added += 1
        elif before.content_hash != article.content_hash:
            diff.updated += 1
        else:
            diff.unchanged += 1
            if (before.path, before.extra) != (article.path, extra_json(article)):
                diff.fields_changed = True
            if not rechunk_all:
                continue
        diff.to_chunk.append(article)
    return diff


def plan_reuse(previous: PassageSnapshot | None, diff: ArticleDiff) -> ReusePlan:
    """The stored passages that re-chunking replaces, and which of their vectors text can reuse."""
    plan = ReusePlan(stale=[], by_text={})
    if previous is None:
        return plan
    rechunked = {a.id for a in diff.to_chunk}
    for passage_id, article_id, text_hash in previous.passage_hashes():
        if article_id in rechunked:
            plan.stale.append(passage_id)
            plan.by_text.setdefault(text_hash, passage_id)
    return plan


def chunk_articles(chunker: Chunker, articles: Sequence[Article],
                   progress: Progress) -> tuple[list[Passage], list[tuple[Article, ArticleError]]]:
    """Every passage of ``articles`` in article order, and the articles that could not be cut.

    One article's chunking failure (an ``ArticleError`` from the chunker) leaves
    that article out; the build goes on with the others.
    """
    passages: list[Passage] = []
    failed: list[tuple[Article, ArticleError]] = []
    progress("chunking", 0, len(articles))
    for i, article in enumerate(articles):
        try:
            passages.extend(chunker.chunk(article))
        except ArticleError as exc:
            failed.append((article, exc))
        if i % 50 == 0:
            progress("chunking", i, len(articles))
    progress("chunking", len(articles), len(articles))
    return passages, failed


def leave_out(failed: Sequence[tuple[Article, ArticleError]], stored: dict, report: SyncReport) -> list[str]:
    """Count the articles that could not be chunked as not indexed; the stored ones among them."""
    dropped: list[str] = []
    for article, error in failed:
        report.skipped.append({"path": str(error.path), "error": error.reason})
        report.articles -= 1
        before = stored.get(article.id)
        if before is None:
            report.added -= 1
            continue
        if before.content_hash != article.content_hash:
            report.updated -= 1
        else:
            report.unchanged -= 1
        report.removed += 1
        dropped.append(article.id)
    return dropped


def embed_in_length_order(embedder: Embedder, passages: Sequence[Passage], batch_size: int,
                          progress: Progress) -> Iterator[tuple[list[Passage], np.ndarray]]:
    """``(passages, vectors)`` in batches of ``batch_size``; similar lengths share a
    batch, which wastes less padding."""
    progress("embedding", 0, len(passages))
    batch_size = max(batch_size, embedder.call_size)  # enough for all of a concurrent embedder's requests
    order = np.argsort([len(p.header) + len(p.text) for p in passages], kind="stable")
    for start in range(0, len(order), batch_size):
        batch = [passages[i] for i in order[start:start + batch_size]]
        yield batch, embedder.embed([p.full_text for p in batch])
        progress("embedding", start + len(batch), len(passages))


def sync(store: PassageStore, articles: Sequence[Article], embedder: Embedder, chunker: Chunker,
         full: bool = False, progress: Progress | None = None, batch_size: int = 256,
         scope: PathScope | None = None, record: dict | None = None,
         history: PassageSnapshot | None = None) -> SyncReport:
    """Make ``store`` hold ``articles`` and publish it atomically.

    Without ``scope`` the store holds exactly ``articles``; with one, stored
    articles whose paths the scope does not cover stay as they are
    (``report.kept``), and the manifest records the roots the store then holds
    articles from. ``full`` starts from an empty version (nothing reused, so
    nothing kept either: :func:`rag.index.building.build_index` passes the kept
    articles in). With nothing changed, nothing is published. Raises
    IndexLockedError when another build runs and IndexMismatchError when
    another embedder built the store. ``record``: more keys for the manifest
    (the build's ``embedding`` settings). An article whose title or body changed
    keeps its stored version as a revision (rag.index.revisions), compared with
    the draft's previous version or, for a ``full`` build, with ``history`` (the
    published version it replaces, whose revisions it carries over).
    """
    started = time.perf_counter()
    seen_at = build_time()
    progress = progress or (lambda stage, done, total: None)
    manifest = {**(record or {}), **manifest_for(embedder, chunker)}
    dates = [a.published_at[:10] for a in articles if a.published_at]
    # Read by questions about "the latest" or "last week" (rag.answer.dates).
    manifest["newest_published_at"] = max(dates) if dates else None
    with store.begin(manifest, fresh=full) as draft:
        previous = draft.previous
        if previous is not None and previous.embedder_id != embedder.model_id:
            raise IndexMismatchError(
                f"the index in {store.location} was built with embedder {previous.embedder_id}, not "
                f"{embedder.model_id}; rebuild it with `rag index build --full`"
            )
        diff = diff_articles(previous, articles, manifest["chunking"], scope)
        report = SyncReport(articles=len(articles) + len(diff.kept_paths), added=diff.added,
                            updated=diff.updated, removed=len(diff.removed), unchanged=diff.unchanged,
                            kept=len(diff.kept_paths))
        if scope is not None:
            before = list((previous.manifest.get("roots") or []) if previous is not None else [])
            candidates = [*scope.roots, *(r for r in before if r not in scope.roots and not scope.exact)]
            report.roots = indexed_roots(candidates, [*(a.path for a in articles), *diff.kept_paths])
            if previous is not None and previous.manifest.get("roots") != report.roots:
                diff.fields_changed = True  # publish the new roots
        else:
            report.roots = indexed_roots([], (a.path for a in articles))
        draft.manifest["roots"] = report.roots
        if diff.kept_paths and previous is not None:  # the kept articles' newest date is not read
            newest = [d for d in (manifest["newest_published_at"], previous.manifest.get("newest_published_at")) if d]
            draft.manifest["newest_published_at"] = max(newest) if newest else None
        if previous is not None and diff.changes_nothing:
            report.passages = previous.count()
        else:
            _write(draft, articles, diff, plan_reuse(previous, diff), embedder, chunker, progress, batch_size,
                   report, previous or history, seen_at)
            progress("publishing", 0, 1)
            draft.publish()
            progress("publishing", 1, 1)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _write(draft: PassageDraft, articles: Sequence[Article], diff: ArticleDiff, reuse: ReusePlan, embedder: Embedder,
           chunker: Chunker, progress: Progress, batch_size: int, report: SyncReport, history: PassageSnapshot | None,
           seen_at: str) -> None:
    """Write the changes into ``draft``: articles and their revisions, then passages with reused or new vectors."""
    passages, failed = chunk_articles(chunker, diff.to_chunk, progress)
    removed = list(diff.removed)
    if failed:
        stored = {} if draft.previous is None else draft.previous.stored_articles()
        removed += leave_out(failed, stored, report)
        failed_ids = {article.id for article, _ in failed}
        articles = [a for a in articles if a.id not in failed_ids]
    draft.delete_articles(removed)
    draft.write_articles(articles)
    chunked = {a.id for a in diff.to_chunk}
    report.revisions = keep_revisions(draft, history, articles, [a for a in articles if a.id in chunked], seen_at)
    draft.delete(reuse.stale)
    reused = [p for p in passages if p.text_hash in reuse.by_text]
    to_embed = [p for p in passages if p.text_hash not in reuse.by_text]
    del passages
    for start in range(0, len(reused), _COPY_BLOCK):
        block = reused[start:start + _COPY_BLOCK]
        draft.write(block, draft.previous.embeddings([reuse.by_text[p.text_hash] for p in block]))
    for batch, vectors in embed_in_length_order(embedder, to_embed, batch_size, progress):
        draft.write(batch, vectors)
    report.embedded_passages = len(to_embed)
    report.passages = draft.count()
