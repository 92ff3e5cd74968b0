"""Streamlit's upload endpoint keeps files for operator sessions only, up to a total each.

Streamlit accepts ``PUT /_stcore/upload_file/<session>/<file>`` from any page
of an active session and holds every file in memory until the session ends;
its ``server.maxUploadSize`` bounds one file, not how many. Visitors have no
upload control, so here the server's upload manager refuses (HTTP 403) any
file for a session that is not known as the operator's, and one for an
operator session whose held files would pass ``ui.max_session_upload_mb``
(HTTP 413). Each page run tells :func:`mark_session` what the session is;
a visitor's files, should any have arrived before its first run, are dropped
then. The upload manager's ``add_file`` is the one call every upload goes
through (its route handler calls it), so wrapping it on the instance the
server holds is enough; docs/security.md also names the proxy rule that
blocks the endpoint for a public deployment.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger("article_rag.ui")

_lock = threading.Lock()
_operators: dict[str, int] = {}  # session id -> bytes it may hold


class UploadRefused(PermissionError):
    """An upload the guard did not keep (raised as HTTP 403/413 where Starlette serves)."""


def _refuse(status: int, detail: str) -> Exception:
    try:
        from starlette.exceptions import HTTPException

        return HTTPException(status_code=status, detail=detail)
    except ImportError:  # another web server under Streamlit: still refused, as a 500
        return UploadRefused(detail)


def _held_bytes(manager: Any, session_id: str, except_id: str) -> int:
    files = getattr(manager, "file_storage", {}).get(session_id, {})
    return sum(len(f.data) for file_id, f in files.items() if file_id != except_id)


def guard(manager: Any) -> None:
    """Wrap ``manager.add_file`` (once) so that only operator sessions' files are kept."""
    if manager is None or getattr(manager, "_rag_guarded", False):
        return
    original = manager.add_file

    def add_file(session_id: str, file: Any) -> None:
        with _lock:
            limit = _operators.get(session_id)
            if limit is None:
                log.warning("refused an upload for a session without the operator controls")
                raise _refuse(403, "Uploads are for the operator of this server.")
            if _held_bytes(manager, session_id, file.file_id) + len(file.data) > limit:
                raise _refuse(413, f"This session already holds {limit // (1024 * 1024)} MB of uploads; "
                                   "add those files first.")
            original(session_id=session_id, file=file)

    manager.add_file = add_file
    manager._rag_guarded = True


def _server_manager() -> Any:
    from streamlit import runtime

    return runtime.get_instance().uploaded_file_mgr if runtime.exists() else None


def _session_id() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def mark_session(admin: bool, limit_mb: int) -> None:
    """Record whether this page's session may upload (``admin``), guarding the server's
    upload manager first; a visitor's files are dropped at once."""
    manager = _server_manager()
    guard(manager)
    session_id = _session_id()
    if session_id is None:
        return
    with _lock:
        if admin:
            _operators[session_id] = limit_mb * 1024 * 1024
        else:
            _operators.pop(session_id, None)
    if not admin and manager is not None:
        manager.remove_session_files(session_id)


def forget_session_uploads() -> None:
    """Drop the files Streamlit holds for this session (they were saved or rejected)."""
    manager, session_id = _server_manager(), _session_id()
    if manager is not None and session_id is not None:
        manager.remove_session_files(session_id)
