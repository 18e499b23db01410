"""The on-call watches' pace: without status pushes, an account's watches fetch its newest
messages at most ``per_hour`` times an hour, all of them together, one every
``HOUR / per_hour`` (PRODUCT.md §10, ``WATCH_BUDGET``).

``WatchPace`` only says when the next fetch is due and notes the ones made; the ``Fetcher``
(``Fetcher.watch``) makes them, as ``Purpose.WATCH`` in the account budget, through the same
account-wide window as ``/failed`` and ``/recent``, so that what a watch fetched answers
lookups too. Kept in memory: after a restart the first look fetches at once (the budget's
ledger still counts the hour).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.fetch.limits import HOUR

__all__ = ["WatchPace"]


class WatchPace:
    """When each account's watches may fetch next: one request every ``HOUR / per_hour``
    (``per_hour`` 0: never — watches then live on status pushes alone)."""

    def __init__(self, per_hour: int, *, clock: Callable[[], float]) -> None:
        self.per_hour = per_hour
        self.interval = HOUR / per_hour if per_hour > 0 else float("inf")
        self._clock = clock
        self._last: dict[str, float] = {}

    def next_at(self, key_id: str) -> float:
        """When the account's watches may fetch next (``inf``: never)."""
        if self.per_hour <= 0:
            return float("inf")
        last = self._last.get(key_id)
        return float("-inf") if last is None else last + self.interval

    def due(self, key_id: str) -> bool:
        """Whether a fetch for the account's watches may go now."""
        return self.next_at(key_id) <= self._clock()

    def took(self, key_id: str) -> None:
        """A fetch for the account's watches reached SMS Center (or tried to) now."""
        self._last[key_id] = self._clock()
