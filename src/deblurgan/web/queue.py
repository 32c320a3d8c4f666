"""A bounded queue of blocking jobs for an asyncio server: a burst waits instead of piling up.

At most ``workers`` jobs run at once (in threads, so the event loop keeps answering); at most
``max_waiting`` more wait for their turn. A job that finds the queue full is refused at once
(:class:`QueueFullError`, which the server answers with 503 and ``Retry-After``), and a waiting
job whose client has gone away is dropped before it runs (:class:`ClientGoneError`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["ClientGoneError", "JobQueue", "QueueFullError"]

T = TypeVar("T")


class QueueFullError(RuntimeError):
    """Every worker is busy and every waiting place is taken."""


class ClientGoneError(RuntimeError):
    """The client disconnected while its job was waiting; the job was not run."""


class JobQueue:
    """Run blocking functions in ``workers`` threads, with ``max_waiting`` places in line.

    Args:
        workers: jobs that run at once (1 for one model on one device: jobs would only compete).
        max_waiting: jobs that may wait for a worker; one more is refused.
        poll_seconds: how often a waiting job checks whether its client is still there.

    Example:
        >>> queue = JobQueue(workers=1, max_waiting=2)
        >>> asyncio.run(queue.run(sum, [1, 2, 3]))
        6
        >>> {key: queue.stats()[key] for key in ("running", "waiting", "done", "refused")}
        {'running': 0, 'waiting': 0, 'done': 1, 'refused': 0}
    """

    def __init__(self, *, workers: int = 1, max_waiting: int = 8, poll_seconds: float = 0.2):
        if workers < 1 or max_waiting < 0:
            raise ValueError(
                f"need workers >= 1 and max_waiting >= 0, got {workers}, {max_waiting}"
            )
        self.workers = workers
        self.max_waiting = max_waiting
        self.poll_seconds = poll_seconds
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="deblur-worker")
        self._free = workers
        self._turn: asyncio.Condition | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = 0
        self._waiting = 0
        self._done = 0
        self._dropped = 0
        self._refused = 0

    def stats(self) -> dict[str, int]:
        """Jobs running and waiting now, the limits, and jobs done, dropped and refused so far."""
        return {
            "running": self._running,
            "waiting": self._waiting,
            "workers": self.workers,
            "max_waiting": self.max_waiting,
            "done": self._done,
            "dropped": self._dropped,
            "refused": self._refused,
        }

    def _condition(self) -> asyncio.Condition:
        # One per event loop: a server (or a test client) may run the app in a new loop.
        loop = asyncio.get_running_loop()
        if self._turn is None or self._loop is not loop:
            self._turn, self._loop = asyncio.Condition(), loop
        return self._turn

    async def _wait_for_turn(self, is_gone: Callable[[], Awaitable[bool]] | None) -> None:
        turn = self._condition()
        async with turn:
            while self._free == 0:
                try:
                    await asyncio.wait_for(turn.wait(), self.poll_seconds)
                except asyncio.TimeoutError:
                    pass
                if self._free == 0 and is_gone is not None and await is_gone():
                    raise ClientGoneError("the client disconnected before its turn")
            if is_gone is not None and await is_gone():
                raise ClientGoneError("the client disconnected before its turn")
            self._free -= 1

    async def _release(self) -> None:
        turn = self._condition()
        async with turn:
            self._free += 1
            turn.notify()

    async def run(
        self,
        function: Callable[..., T],
        *args: Any,
        is_gone: Callable[[], Awaitable[bool]] | None = None,
        **kwargs: Any,
    ) -> T:
        """Run ``function(*args, **kwargs)`` in a worker thread when a worker is free.

        Args:
            function: the blocking job.
            is_gone: an async check that the client disconnected (``Request.is_disconnected``);
                asked while the job waits and once more just before it runs.

        Raises:
            QueueFullError: no worker and no waiting place is free.
            ClientGoneError: the client went away before the job ran.
        """
        if self._running + self._waiting >= self.workers + self.max_waiting:
            self._refused += 1
            raise QueueFullError(
                f"{self._running} job(s) running and {self._waiting} waiting; try again shortly"
            )
        self._waiting += 1
        try:
            await self._wait_for_turn(is_gone)
        except ClientGoneError:
            self._dropped += 1
            raise
        finally:
            self._waiting -= 1
        self._running += 1
        try:
            loop = asyncio.get_running_loop()
            call = functools.partial(function, *args, **kwargs)
            return await loop.run_in_executor(self._executor, call)
        finally:
            self._running -= 1
            self._done += 1
            await self._release()

    def close(self) -> None:
        """Stop the worker threads once the running jobs end."""
        self._executor.shutdown(wait=False, cancel_futures=True)
