"""Numbers waiting for the next history request of one account.

Numbers whose newest message the account picture cannot vouch for wait here; the next request
the budget allows takes up to ``limit`` of them in one comma-separated ``phone`` list. When more
wait than fit, they are taken round-robin by asker (each asker's oldest first), so one person
pasting twenty numbers does not push a colleague's one number to the next request. Everyone
waiting for a number shares one future, resolved when a request answers it.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field

__all__ = ["BATCH_LIMIT", "WaitingNumbers"]

# Numbers in one comma-list request. SMS Center publishes no cap; a thousand-row answer shared by
# 50 numbers still holds their newest messages unless they are very busy ones.
BATCH_LIMIT = 50


@dataclass
class _Waiting:
    future: asyncio.Future[None]
    askers: list[int] = field(default_factory=list)
    tries: int = 0  # requests that answered the batch without vouching for this number
    since: float = 0.0  # when the number was first asked (the clock of ``add``)
    promised: float = float("inf")  # the earliest answer time told to anyone waiting for it


class WaitingNumbers:
    """The queue of one account's waiting numbers (digits only), in order of asking."""

    def __init__(self) -> None:
        self._waiting: OrderedDict[str, _Waiting] = OrderedDict()
        self._turn: list[int] = []  # askers, in the order their turn comes

    def __len__(self) -> int:
        return len(self._waiting)

    def __contains__(self, phone: object) -> bool:
        return phone in self._waiting

    def add(self, phone: str, asker: int, at: float = 0.0) -> asyncio.Future[None]:
        """Wait for ``phone`` (asked at ``at``); the future resolves (or fails) when a request
        answers it."""
        waiting = self._waiting.get(phone)
        if waiting is None:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            waiting = self._waiting[phone] = _Waiting(future, since=at)
        if asker not in waiting.askers:
            waiting.askers.append(asker)
        if asker not in self._turn:
            self._turn.append(asker)
        return waiting.future

    def promise(self, phone: str, at: float) -> None:
        """Someone waiting for ``phone`` was told its answer comes by ``at``."""
        waiting = self._waiting.get(phone)
        if waiting is not None:
            waiting.promised = min(waiting.promised, at)

    def promised(self) -> float:
        """The earliest answer time told to anyone waiting (inf: none was told)."""
        return min((waiting.promised for waiting in self._waiting.values()), default=float("inf"))

    def take(self, limit: int = BATCH_LIMIT) -> list[str]:
        """Up to ``limit`` numbers for the next request, round-robin by asker; they stay
        waiting until ``answered`` or ``failed`` says what became of them."""
        by_asker: dict[int, list[str]] = {}
        for phone, waiting in self._waiting.items():
            by_asker.setdefault(waiting.askers[0], []).append(phone)
        order = [asker for asker in self._turn if asker in by_asker]
        taken: list[str] = []
        while len(taken) < limit and any(by_asker.get(asker) for asker in order):
            for asker in order:
                mine = by_asker.get(asker)
                if mine and len(taken) < limit:
                    taken.append(mine.pop(0))
        # The askers served go to the back of the turn.
        served = {self._waiting[phone].askers[0] for phone in taken}
        self._turn = [a for a in self._turn if a not in served] + [
            a for a in self._turn if a in served
        ]
        return taken

    def asked(self) -> list[tuple[str, float]]:
        """Every waiting number with when it was first asked."""
        return [(phone, waiting.since) for phone, waiting in self._waiting.items()]

    def answered(self, phone: str) -> None:
        """A request answered ``phone``: everyone waiting for it gets the picture's answer."""
        waiting = self._waiting.pop(phone, None)
        if waiting is not None and not waiting.future.done():
            waiting.future.set_result(None)
        self._forget_idle_askers()

    def unanswered(self, phone: str) -> int:
        """A request named ``phone`` but could not vouch for it: it waits for the next one
        (at the front of its asker's turn); returns how many requests tried it so far."""
        waiting = self._waiting.get(phone)
        if waiting is None:
            return 0
        waiting.tries += 1
        waiting.promised = float("inf")  # its time came; the next request is judged afresh
        self._waiting.move_to_end(phone, last=False)
        return waiting.tries

    def failed(self, phone: str, error: BaseException) -> None:
        """No request will answer ``phone`` now: its waiters get ``error``."""
        waiting = self._waiting.pop(phone, None)
        if waiting is not None and not waiting.future.done():
            waiting.future.set_exception(error)
            waiting.future.exception()  # a waiter may have gone: mark it retrieved
        self._forget_idle_askers()

    def fail_all(self, error: BaseException) -> None:
        """Every waiting number fails with ``error`` (SMS Center refused, the bot stops)."""
        for phone in list(self._waiting):
            self.failed(phone, error)

    def _forget_idle_askers(self) -> None:
        active = {asker for waiting in self._waiting.values() for asker in waiting.askers}
        self._turn = [asker for asker in self._turn if asker in active]
