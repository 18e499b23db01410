"""What the bot showed for each ``/last``: the one adapter between its fetch layer and the judge.

The bot client of ``bench.clients`` feeds questions as Telegram updates through the real
Dispatcher; this adapter wraps the fetch layer's ``Fetcher.last`` on the way and turns each
result into the ``Shown`` states the judge reads. Nothing else in ``bench/`` looks inside the
fetch layer's answers, so a change to their shape is a change here only.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from bench.judge import Answer, FailedShown, Shown
from bot.fetch import Answer as FetchAnswer
from bot.fetch import Fetcher, Lookup, Origin, Window
from bot.smsc import HistoryEntry
from bot.text.codes import FAILURE_STATUSES

# The question whose answer an ``ask_last`` in this context belongs to.
_ANSWERING: ContextVar[Answer | None] = ContextVar("answering", default=None)


class LastObserver:
    """Records, per ``/last`` question, every state of the answer the person was shown.

    The bot's handlers ask ``Fetcher.ask_last``: an ``Answer`` with what is shown now (the
    final answer itself, held data marked with its age, or nothing yet: "asking SMS Center")
    and, when more is coming, a final ``Lookup`` to await. The now-state is recorded at once;
    the final one when it lands, at the clock's time then (a task of ``_pending``, which
    ``drain`` lets land each time the replay moves the clock).
    """

    def __init__(self, fetcher: Fetcher, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._batches = fetcher.batches
        self._pending: dict[asyncio.Task[None], float] = {}  # each final's due time
        self.failed: list[FailedShown] = []  # every /failed answer, as shown
        setattr(fetcher, "ask_last", self._wrap(fetcher.ask_last))  # noqa: B010 (a method)
        setattr(fetcher, "failed", self._wrap_failed(fetcher.failed))  # noqa: B010 (a method)

    @contextmanager
    def answering(self, answer: Answer) -> Iterator[None]:
        """Attribute what ``Fetcher.ask_last`` shows meanwhile (and later) to ``answer`` — in
        this context and in the tasks created in it."""
        token = _ANSWERING.set(answer)
        try:
            yield
        finally:
            _ANSWERING.reset(token)

    @property
    def pending(self) -> int:
        """Answers whose final state has not landed yet."""
        return len(self._pending)

    async def drain(self, within: float = 10.0) -> None:
        """Let the answers due by now land: the batch loops woken by the clock run, and a
        request on its way (real I/O to the simulator) is waited for, up to ``within`` s."""
        deadline = time.monotonic() + within
        for _ in range(20):
            await asyncio.sleep(0)
        while self._batches.asking and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.002)  # a flag of the fetch layer's, polled: bench code only
        for _ in range(20):
            await asyncio.sleep(0)

    def _wrap(
        self, ask_last: Callable[..., Awaitable[FetchAnswer[HistoryEntry | None]]]
    ) -> Callable[..., Awaitable[FetchAnswer[HistoryEntry | None]]]:
        @functools.wraps(ask_last)
        async def observed(*args: Any, **kwargs: Any) -> FetchAnswer[HistoryEntry | None]:
            answer = _ANSWERING.get()
            try:
                result = await ask_last(*args, **kwargs)
            except Exception:
                if answer is not None:
                    answer.shown.append(Shown(self._clock(), False))
                raise
            if answer is not None:
                now = self._clock()
                if result.now is not None:
                    answer.shown.append(shown(result.now, now))
                else:
                    # "Asking SMS Center" (a prompt final may replace it within 2 s: the final
                    # answer decides either way).
                    answer.shown.append(Shown(now, False))
                if result.final is not None:
                    task = asyncio.create_task(self._land(answer, result.final))
                    self._pending[task] = result.due if result.due is not None else now
                    task.add_done_callback(self._forget)
            return result

        return observed

    def _wrap_failed(
        self, failed: Callable[..., Awaitable[Lookup[Window]]]
    ) -> Callable[..., Awaitable[Lookup[Window]]]:
        @functools.wraps(failed)
        async def observed(user_id: int, account: Any, hours: float) -> Lookup[Window]:
            lookup = await failed(user_id, account, hours)
            window = lookup.value
            reported = frozenset(
                e.int_id
                for e in window.entries
                if e.int_id is not None and e.status in FAILURE_STATUSES
            )
            self.failed.append(
                FailedShown(self._clock(), hours, window.covered_since, lookup.fetched_at, reported)
            )
            return lookup

        return observed

    async def _land(self, answer: Answer, final: Awaitable[Lookup[HistoryEntry | None]]) -> None:
        try:
            lookup = await final
        except Exception:
            answer.shown.append(Shown(self._clock(), False))
            return
        answer.shown.append(shown(lookup, self._clock()))

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._pending.pop(task, None)


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
