"""OpenAI's chat-completions protocol over the answer pipeline.

The request's messages are the conversation: the last one is the question, the earlier
user/assistant pairs are the history the pipeline rewrites follow-ups with (as in the chat
UI). The reply's ``message`` carries ``content`` (the checked answer text, ``[n]`` markers
numbered as its ``citations``) and every field of ``rag ask --json``
(:meth:`rag.answer.pipeline.Answer.to_dict`).

Streaming sends the checked text too: the pipeline renumbers and repairs markers only once
the model has finished, so the model's raw tokens (whose markers may point nowhere) are
never sent. The first chunk (the role) goes out as soon as the answer starts; the text,
then a last chunk with ``finish_reason`` and the answer's other fields, when it is done.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from rag.llm.base import estimate_tokens
from rag.serve.errors import ApiError
from rag.serve.schemas import MODEL_ID, ChatRequest

_PIECES = re.compile(r"\S+\s*|\s+")


def question_and_history(request: ChatRequest, max_chars: int) -> tuple[str, list[dict]]:
    """The question (the last message, a user's) and the completed user/assistant pairs
    before it, as :class:`rag.answer.pipeline.Answerer` takes them. System, developer and
    tool messages are left out: the pipeline has its own prompt."""
    if request.model != MODEL_ID:
        raise ApiError(404, f"The model {request.model!r} does not exist: this server answers as "
                            f"{MODEL_ID!r} (GET /v1/models).", "model_not_found", "model")
    last = len(request.messages) - 1
    final = request.messages[last]
    if final.role != "user":
        raise ApiError(400, f"messages.{last}: the last message must be the user's question, not "
                            f"{final.role!r}.", "invalid_value", f"messages.{last}.role")
    question = final.text().strip()
    if not question:
        raise ApiError(400, f"messages.{last}.content: the question is empty.", "invalid_value",
                       f"messages.{last}.content")
    if len(question) > max_chars:
        raise ApiError(413, f"messages.{last}.content: the question has {len(question):,} characters; "
                            f"at most {max_chars:,} are answered (serve.max_question_chars).",
                       "question_too_long", f"messages.{last}.content")
    history: list[dict] = []
    turns = [m for m in request.messages[:last] if m.role in ("user", "assistant")]
    for user, reply in zip(turns, turns[1:]):
        if user.role == "user" and reply.role == "assistant" and user.text().strip():
            turn = {"role": "user", "content": user.text()}
            if reply.standalone_question:
                turn["standalone"] = reply.standalone_question
            history += [turn, {"role": "assistant", "content": reply.text()}]
    return question, history


def new_id() -> tuple[str, int]:
    return f"chatcmpl-{uuid.uuid4().hex}", int(time.time())


def answer_message(answer: Any) -> dict:
    """The assistant message: ``content`` and everything else of ``rag ask --json``."""
    data = answer.to_dict()
    return {"role": "assistant", "content": data.pop("answer"), "refusal": None, **data}


def usage(answer: Any) -> dict:
    prompt = int(answer.prompt_tokens or 0)
    completion = estimate_tokens(answer.text) if answer.text else 0
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion(answer: Any, cid: str, created: int) -> dict:
    """A ``chat.completion`` object."""
    return {"id": cid, "object": "chat.completion", "created": created, "model": MODEL_ID,
            "choices": [{"index": 0, "message": answer_message(answer), "finish_reason": "stop",
                         "logprobs": None}],
            "usage": usage(answer)}


def chunk(cid: str, created: int, delta: dict, finish_reason: str | None = None) -> dict:
    """One ``chat.completion.chunk``."""
    return {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]}


def final_chunks(answer: Any, cid: str, created: int, include_usage: bool) -> list[dict]:
    """The chunks of a finished answer: its text in word-sized pieces, then the last chunk
    with the other fields of the message (citations, refused...), then usage if asked."""
    message = answer_message(answer)
    text = message.pop("content")
    message.pop("role")
    out = [chunk(cid, created, {"content": piece}) for piece in _PIECES.findall(text)]
    out.append(chunk(cid, created, message, "stop"))
    if include_usage:
        out.append({**chunk(cid, created, {}), "choices": [], "usage": usage(answer)})
    return out
