"""Uploaded article files: checked, given a safe name, and saved.

No Streamlit here. :func:`save_uploads` takes (name, bytes) pairs from the
sidebar's uploader and saves the good ones into the uploads folder
(:func:`uploads_folder`: the user's data, never the checkout), giving
the reason for every rejected file; the loader of :mod:`rag.ingest.articles` decides
what counts as an article, so the page rejects exactly what a build would skip.
"""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rag.config import Settings
from rag.ingest.articles import SUPPORTED_SUFFIXES, load_path

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # per file; the per-session total is ui.max_session_upload_mb
UPLOAD_SUFFIXES = tuple(sorted(SUPPORTED_SUFFIXES))

_UNSAFE = re.compile(r"[^\w. -]+")


def uploads_folder(settings: Settings) -> Path:
    """Where the UI saves uploads: ``ui.uploads_dir``, else the user's data folder
    (``$XDG_DATA_HOME/article-rag/uploads``, ``~/.local/share/article-rag/uploads``)."""
    if settings.ui.uploads_dir is not None:
        return Path(settings.ui.uploads_dir).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data).expanduser() / "article-rag" / "uploads"


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
    """What :func:`save_uploads` did: the names saved, and each rejection's reason."""

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
