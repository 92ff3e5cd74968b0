"""Large article files: found before a build (a warning) and counted after it (passages).

A file over :data:`LARGE_FILE_BYTES` (1 MB) is still indexed, but it becomes
about a thousand passages per MB and takes minutes to embed on a small CPU
(a 5 MB text file: 4,684 passages, a 6.7-minute build on 2 busy cores). The
CLI and the UI warn about such files before building and name each one's
passage count after it; files over the hard limit
(:data:`rag.ingest.articles.DEFAULT_MAX_BYTES`, 20 MB) are skipped by the
loader with a message.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from rag.ingest.articles import DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES

LARGE_FILE_BYTES = 1_000_000


def large_files(paths: Iterable[str | os.PathLike], threshold: int = LARGE_FILE_BYTES) -> list[tuple[Path, int]]:
    """(file, size in bytes) of every article file under ``paths`` over ``threshold``
    (files over the hard limit too: the loader skips those, with its own message)."""
    found: list[tuple[Path, int]] = []
    for given in map(Path, paths):
        files = [given] if given.is_file() else sorted(given.rglob("*")) if given.is_dir() else []
        for file in files:
            if (file.suffix.lower() not in SUPPORTED_SUFFIXES
                    or any(part.startswith(".") for part in file.relative_to(given).parts if given != file)):
                continue
            try:
                size = file.stat().st_size
            except OSError:
                continue
            if size > threshold and file.is_file():
                found.append((file, size))
    return found


def warning_text(file: Path, size: int) -> str:
    """What the CLI and the UI say about one large file before a build."""
    if size > DEFAULT_MAX_BYTES:
        return (f"{file.name} is {size / 1e6:.1f} MB, over the {DEFAULT_MAX_BYTES / 1e6:g} MB limit: "
                "it will be skipped; split it into smaller files")
    return (f"{file.name} is {size / 1e6:.1f} MB: expect about {round(size / 1070):,} passages and a "
            f"long build (files over {LARGE_FILE_BYTES / 1e6:g} MB are slow to embed on a small CPU)")


def passages_per_file(snapshot) -> Counter:
    """Passages of the published index per article file (its stored path)."""
    paths = {aid: stored.path for aid, stored in snapshot.stored_articles().items()}
    return Counter(paths.get(aid) for _pid, aid, _hash in snapshot.passage_hashes())


def large_file_report(settings, paths: Sequence[str | os.PathLike] | None = None) -> list[dict]:
    """``[{"path", "bytes", "passages"}]`` for each large file under ``paths`` (default: the
    articles folder) that the published index holds; [] when there is none, or no index."""
    from rag.errors import RagError
    from rag.index.stores import make_store

    found = [(f, size) for f, size in large_files(paths or [settings.articles_dir]) if size <= DEFAULT_MAX_BYTES]
    if not found:
        return []
    try:
        snapshot = make_store(settings).open()
    except RagError:
        return []
    try:
        counts = passages_per_file(snapshot)
    finally:
        snapshot.close()
    by_path = {str(Path(p).resolve()): n for p, n in counts.items() if p}
    return [{"path": str(f), "bytes": size, "passages": by_path.get(str(f.resolve()), 0)} for f, size in found]
