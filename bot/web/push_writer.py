"""Verified status pushes on their way to SQLite: written in batches, never dropped.

A mass mailing brings thousands of pushes a minute; one transaction each would make the
database the bottleneck. ``add`` only files a status in memory (the newest per message: a
repeat or an older status of the same message costs nothing), and a loop writes what is
pending every ``interval`` seconds in one transaction (``PushStore.save_statuses``). When the
write fails (a full disk, a lock held too long), the statuses stay pending and the next round
tries again: a verified push is never dropped while the process lives. ``close`` writes what
is left (at shutdown, after the server stopped taking requests).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.store import PushedStatus, PushStore, StorageError

logger = logging.getLogger(__name__)

#: Seconds between two writes of pending statuses.
WRITE_INTERVAL = 1.0

_Key = tuple[int, str, int]


class PushWriter:
    """Pending pushed statuses and the loop that writes them (see the module docstring)."""

    def __init__(
        self,
        store: PushStore,
        *,
        interval: float = WRITE_INTERVAL,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._interval = interval
        self._sleep = sleep
        self._pending: dict[_Key, PushedStatus] = {}
        self._loop: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.written = 0  # statuses written so far (for tests and the log)

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, status: PushedStatus) -> None:
        """File ``status`` to be written (the newest per message wins); starts the loop."""
        key = (status.account_id, status.phone, status.message_id)
        held = self._pending.get(key)
        if held is None or status.status_at >= held.status_at:
            self._pending[key] = status
        if self._loop is None or self._loop.done():
            self._loop = asyncio.create_task(self._run())

    async def flush(self) -> int:
        """Write everything pending now, in one transaction; how many were handed to the
        database (those of an account deleted meanwhile are dropped there; 0 when the write
        failed: they stay pending)."""
        async with self._lock:
            if not self._pending:
                return 0
            batch = self._pending
            self._pending = {}
            try:
                await self._store.save_statuses(list(batch.values()))
            except StorageError as exc:
                self._restore(batch)
                logger.warning(
                    "could not write %d pushed status(es), will retry: %s", len(batch), exc
                )
                return 0
            except BaseException:
                self._restore(batch)  # cancelled mid-write (shutdown): rolled back, kept
                raise
            self.written += len(batch)
            return len(batch)

    def _restore(self, batch: dict[_Key, PushedStatus]) -> None:
        """Put back a batch that was not written, unless a newer status of the same message
        came meanwhile."""
        for key, status in batch.items():
            newer = self._pending.get(key)
            if newer is None or newer.status_at < status.status_at:
                self._pending[key] = status

    async def _run(self) -> None:
        while self._pending:
            await self._sleep(self._interval)
            await self.flush()

    async def close(self) -> None:
        """Stop the loop and write what is left (one try)."""
        if self._loop is not None:
            async with self._lock:  # never cancelled in the middle of a write
                self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
            self._loop = None
        await self.flush()
        if self._pending:
            logger.error("%d pushed status(es) could not be written at shutdown", len(self))
