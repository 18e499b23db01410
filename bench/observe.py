"""What the bot showed for each ``/last``: the one adapter between its fetch layer and the judge.

The bot client of ``bench.clients`` feeds questions as Telegram updates through the real
Dispatcher; this adapter wraps the fetch layer's ``Fetcher.last`` on the way and turns each
result into the ``Shown`` states the judge reads. Nothing else in ``bench/`` looks inside the
fetch layer's answers, so a change to their shape is a change here only.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.judge import Answer, Shown
from bot.fetch import Fetcher, Lookup, Origin
from bot.smsc import HistoryEntry


class LastObserver:
    """Records, per ``/last`` question, every state of the answer the person was shown.

    Today ``Fetcher.last`` returns a ``Lookup[HistoryEntry | None]``; when the fetch layer
    answers now and later (an initial Lookup plus an awaitable final one), update only this
    adapter: record the initial Lookup as now, then await the final one in a task of
    ``_pending`` and append it with the clock's time when it lands (``drain`` lets such tasks
    run each time the replay moves the clock).

    The final answer of today's bot is its one answer: the Lookup ``Fetcher.last`` returns (or
    "no data" when it raises: quota held back, the user's guard, SMS Center down).
    """

    def __init__(self, fetcher: Fetcher, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._answer: Answer | None = None
        self._pending: set[asyncio.Task[None]] = set()
        setattr(fetcher, "last", self._wrap(fetcher.last))  # noqa: B010 (a method, replaced)

    @contextmanager
    def answering(self, answer: Answer) -> Iterator[None]:
        """Attribute what ``Fetcher.last`` returns meanwhile (and later) to ``answer``."""
        self._answer = answer
        try:
            yield
        finally:
            self._answer = None

    @property
    def pending(self) -> int:
        """Answers whose final state has not landed yet."""
        return len(self._pending)

    async def drain(self) -> None:
        """Let answers still coming land at the clock's current time (today: none are)."""
        await asyncio.sleep(0)

    def _wrap(
        self, last: Callable[..., Awaitable[Lookup[HistoryEntry | None]]]
    ) -> Callable[..., Awaitable[Lookup[HistoryEntry | None]]]:
        @functools.wraps(last)
        async def observed(*args: Any, **kwargs: Any) -> Lookup[HistoryEntry | None]:
            answer = self._answer
            try:
                lookup = await last(*args, **kwargs)
            except Exception:
                if answer is not None:
                    answer.shown.append(Shown(self._clock(), False))
                raise
            if answer is not None:
                answer.shown.append(shown(lookup, self._clock()))
            return lookup

        return observed


def shown(lookup: Lookup[HistoryEntry | None], at: float) -> Shown:
    """A ``Lookup`` of ``/last`` as the judge reads it: the message presented as the newest,
    and whether the answer carries a mark (from cache, or held data with its age)."""
    entry = lookup.value
    marked = lookup.origin is not Origin.FRESH or lookup.held_back is not None
    return Shown(
        at=at,
        data=True,
        int_id=None if entry is None else entry.int_id,
        status=None if entry is None else entry.status,
        marked=marked,
        as_of=lookup.fetched_at,
    )
