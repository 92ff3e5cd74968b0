"""One answer (or any blocking iterator) run in a worker thread, read from the event loop.

:func:`run_in_thread` starts ``make_items()`` in a thread that holds a :class:`Gate` slot
until the iterator has really finished, so the slot (and the model behind it) is handed to
the next request only when the worker is done. Leaving the async iterator early (a client
that disconnects, an error) sets the request's ``cancel`` event, which the worker sees
between two items and between two model tokens (:mod:`rag.serve.cancel`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import closing
from typing import Any

from rag.serve.limits import Gate

_END = object()


def _post(loop: asyncio.AbstractEventLoop, fn: Callable, *args: Any) -> None:
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:  # the loop is closed: nobody is listening any more
        pass


def run_in_thread(make_items: Callable[[], Iterator[Any]], gate: Gate, cancel: threading.Event,
                  on_end: Callable[[], None] | None = None) -> AsyncIterator[Any]:
    """The items of ``make_items()``, computed in a worker thread, started now, that holds
    one of ``gate``'s slots (already acquired by the caller) and gives it back when it ends,
    whether or not anyone reads the items.

    ``on_end`` runs in the worker after the iterator is closed.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    started = time.perf_counter()

    def release() -> None:
        gate.observe(time.perf_counter() - started)
        gate.release()

    def work() -> None:
        try:
            with closing(make_items()) as items:
                for item in items:
                    if cancel.is_set():
                        break
                    _post(loop, queue.put_nowait, item)
        except BaseException as exc:  # noqa: BLE001 - handed to the reader
            _post(loop, queue.put_nowait, exc)
        finally:
            if on_end:
                on_end()
            _post(loop, release)
            _post(loop, queue.put_nowait, _END)

    worker = threading.Thread(target=work, name="rag-answer", daemon=True)
    try:
        worker.start()
    except BaseException:
        gate.release()
        raise
    return _read(queue, cancel)


async def _read(queue: asyncio.Queue, cancel: threading.Event) -> AsyncIterator[Any]:
    try:
        while True:
            item = await queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        cancel.set()
