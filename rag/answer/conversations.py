"""Chat history stored per conversation: one JSON file per conversation id.

The UI keeps the id in the page URL (``?c=<id>``) so that a reload finds the
conversation again; the library itself stays stateless per request: chat history is stored per
conversation, never in module globals (docs/architecture.md).

Ids are 32 lower-case hex characters (``new_id``); anything else is refused
before it touches the file system, so an id from a URL can never name a file
outside the folder. Writes go to a temporary file that is then renamed over
the old one, so a reader sees the previous or the new conversation, never half
of one. Nothing secret is ever stored: the caller saves messages only.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

from rag.errors import RagError

_ID = re.compile(r"[0-9a-f]{32}")  # used with fullmatch: "$" would accept a final newline
FORMAT_VERSION = 1


class ConversationError(RagError):
    """A conversation id is invalid or its file cannot be read or written."""


class ConversationStore:
    """Conversations as ``<folder>/<id>.json``."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)

    @staticmethod
    def new_id() -> str:
        """A fresh random id (128 bits, hex)."""
        return secrets.token_hex(16)

    @staticmethod
    def is_valid_id(conversation_id: Any) -> bool:
        return isinstance(conversation_id, str) and _ID.fullmatch(conversation_id) is not None

    def path(self, conversation_id: str) -> Path:
        """The file of ``conversation_id``; refuses ids that are not ours."""
        if not self.is_valid_id(conversation_id):
            raise ConversationError(
                f"{conversation_id!r} is not a conversation id (32 hex characters); "
                "start a new chat"
            )
        return self.folder / f"{conversation_id}.json"

    def exists(self, conversation_id: str) -> bool:
        return self.is_valid_id(conversation_id) and self.path(conversation_id).is_file()

    def load(self, conversation_id: str) -> list[dict]:
        """The messages of a conversation; ``[]`` when it has none yet."""
        path = self.path(conversation_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise ConversationError(
                f"the saved conversation {path} could not be read ({exc}); start a new chat"
            ) from None
        messages = data.get("messages") if isinstance(data, dict) else None
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise ConversationError(
                f"the saved conversation {path} is not in the expected format; start a new chat"
            )
        return messages

    def save(self, conversation_id: str, messages: list[dict]) -> Path:
        """Replace the stored messages of a conversation atomically."""
        path = self.path(conversation_id)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            payload = json.dumps({"format": FORMAT_VERSION, "messages": messages},
                                 ensure_ascii=False, indent=1, default=str)
            fd, tmp = tempfile.mkstemp(prefix=f".{conversation_id}.", suffix=".tmp", dir=self.folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(payload)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise ConversationError(f"the conversation could not be saved to {path} ({exc})") from None
        return path
