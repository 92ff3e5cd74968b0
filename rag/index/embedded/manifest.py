"""The manifest of an index version, and the checks that its files are intact.

``manifest.json`` records, besides the format, embedder, chunking and counts,
the size and the sha256 of every other file of the version, and a
``checksum`` over the manifest itself. Opening a version checks all three, so
a truncated file, a file overwritten in place with the same size, and a
damaged manifest are all reported as :class:`IndexCorruptError` with the way
to recover (rebuild from the articles), before FAISS, SQLite or numpy ever
parse a damaged byte. Versions written before the hashes were added carry only
sizes; they are checked by size alone.

Hashing reads every byte once: 31 ms for the 8,390-passage MultiHop-RAG index
(46 MB) on this machine, about a third of opening it (docs/robustness.md).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from rag.errors import IndexCorruptError, IndexMismatchError

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
REBUILD = "Rebuild the index from the articles with `rag index build --full`"


def corrupt(path: Path, reason: str) -> IndexCorruptError:
    """The error for a damaged index file, saying how to recover."""
    return IndexCorruptError(f"the index file {path} is damaged: {reason}. {REBUILD}")


def write_manifest(folder: Path, manifest: dict) -> None:
    """Record every file of ``folder`` (size and sha256) and write the manifest."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)
    manifest["files"] = {p.relative_to(folder).as_posix(): p.stat().st_size for p in files}
    manifest["sha256"] = {p.relative_to(folder).as_posix(): _sha256(p) for p in files}
    manifest["checksum"] = _checksum(manifest)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))


def read_manifest(folder: Path, verify_content: bool = True) -> dict:
    """The manifest of ``folder``, after checking it and the files it lists.

    Sizes are always checked; with ``verify_content`` the sha256 of every file
    too. Raises IndexCorruptError (damage) or IndexMismatchError (another format).
    """
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
        manifest["embedder"]["id"], manifest["counts"]["passages"]  # noqa: B018 - shape check
    except FileNotFoundError:
        raise corrupt(path, "the file is missing") from None
    except OSError as exc:
        raise corrupt(path, f"it cannot be read ({exc.strerror or exc})") from None
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise corrupt(path, f"it is not a valid manifest ({str(exc)[:200]})") from None
    if "checksum" in manifest and manifest["checksum"] != _checksum(manifest):
        raise corrupt(path, "its checksum does not match its content")
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index in {folder} has format {manifest.get('format')}, this version reads "
            f"{FORMAT_VERSION}; rebuild it with `rag index build --full`"
        )
    files, digests = manifest.get("files"), manifest.get("sha256", {})
    if not isinstance(files, dict) or not isinstance(digests, dict):
        raise corrupt(path, "its list of files is not valid")
    for name, size in files.items():
        part = folder / name
        found = part.stat().st_size if part.is_file() else None
        if found != size:
            raise corrupt(part, f"expected {size} bytes, found {'no file' if found is None else found}")
    if verify_content:
        for name, digest in digests.items():
            if _sha256(folder / name) != digest:
                raise corrupt(folder / name, "its content does not match the sha256 in the manifest")
    return manifest


def _sha256(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise corrupt(path, f"it cannot be read ({exc.strerror or exc})") from None


def _checksum(manifest: dict) -> str:
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


def replace_atomically(path: Path, text: str) -> None:
    """Give ``path`` the content ``text``: readers see the old file or the new one, never a mix."""
    pending = path.with_name(f".{path.name}.tmp")
    with open(pending, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(pending, path)
    fsync_dir(path.parent)


def fsync_tree(folder: Path) -> None:
    """Flush every file and folder under ``folder`` to disk."""
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    for path in [folder, *[p for p in folder.rglob("*") if p.is_dir()]]:
        fsync_dir(path)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (renames, new files) to disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
