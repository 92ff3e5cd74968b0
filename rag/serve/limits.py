"""A bounded queue in front of the chat model: ``slots`` answers run at once, at most
``queue`` more wait, and the next one is told to come back later (:class:`Busy`).

Used from one event loop only (the server's), so plain counters are safe; a worker thread
hands its slot back with ``loop.call_soon_threadsafe(gate.release)``.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque


class Busy(Exception):
    """Every slot is taken and the queue is full."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"The server is busy: every answer slot is taken and {retry_after} s is a fair "
                         f"guess at when one frees; try again then.")


class Gate:
    """``slots`` holders at a time and a waiting line of at most ``queue``."""

    def __init__(self, slots: int, queue: int):
        self.slots = max(1, slots)
        self.queue = max(0, queue)
        self.running = 0
        self._waiting: deque[asyncio.Future] = deque()
        self._mean_seconds = 2.0  # until a run is observed

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def retry_after(self) -> int:
        """Seconds until a place in the line is likely to free: the mean run time times the
        runs ahead of a newcomer, per slot (at least 1)."""
        ahead = self.waiting + 1
        return max(1, math.ceil(self._mean_seconds * ahead / self.slots))

    def observe(self, seconds: float) -> None:
        """Record one run's duration (an exponential mean, for :meth:`retry_after`)."""
        self._mean_seconds = 0.8 * self._mean_seconds + 0.2 * max(seconds, 0.0)

    async def acquire(self) -> None:
        """Take a slot, waiting in line when all are taken; raise :class:`Busy` when the line is full."""
        if self.running < self.slots and not self._waiting:
            self.running += 1
            return
        if len(self._waiting) >= self.queue:
            raise Busy(self.retry_after())
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
            elif waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over as this waiter gave up: pass it on
            raise

    def release(self) -> None:
        """Give a slot back: to the first in line, or free."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes on; ``running`` stays
                return
        self.running = max(0, self.running - 1)
