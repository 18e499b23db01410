"""What the fetch layer answers and raises, and what it needs of the layers it is handed.

Every lookup answers a ``Lookup``: the value and its provenance (``Origin``, when the data was
fetched, and for held data why a fresh request was not made, ``HeldBack``). A lookup that has
nothing to answer raises ``UserRateLimited``, ``QuotaExhausted`` or ``KeyChecksPaused``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from bot.smsc import HistoryEntry

T = TypeVar("T")
U = TypeVar("U")


class Origin(StrEnum):
    """Where a ``Lookup``'s data came from."""

    FRESH = "fresh"  # fetched from SMS Center for this question
    CACHE = "cache"  # an answer younger than CACHE_TTL, or a fresh account-wide window
    STALE = "stale"  # older data, because a fresh request was held back or failed


class HeldBack(StrEnum):
    """Why a fresh request was not made (or did not succeed) for a stale answer."""

    BUDGET = "budget"  # the account's hourly budget is spent (or kept in reserve)
    BACKOFF = "backoff"  # SMS Center refused recently; waiting before asking again
    UPSTREAM = "upstream"  # SMS Center failed to answer (timeout, 5xx, bad body)
    SHARE = "share"  # the asking user has used their share of the account's hour
    ASKING = "asking"  # a request for it is on its way: the answer will follow shortly


class UserRateLimited(Exception):
    """The per-user guard refused a lookup; try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"user rate limit: retry in {retry_after:.0f} s")
        self.retry_after = retry_after


class KeyChecksPaused(Exception):
    """Too many refused keys lately: checking another could get the bot's IP blocked."""

    def __init__(self, resume_at: float) -> None:
        super().__init__(f"key checks paused until {resume_at:.0f}")
        self.resume_at = resume_at


class QuotaExhausted(Exception):
    """No data is held and the account may not ask SMS Center before ``fresh_possible_at``."""

    def __init__(self, fresh_possible_at: float, reason: HeldBack) -> None:
        super().__init__(f"account quota held back ({reason}) until {fresh_possible_at:.0f}")
        self.fresh_possible_at = fresh_possible_at
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Lookup(Generic[T]):
    """An answer and its provenance: every result says how fresh it is."""

    value: T
    origin: Origin
    fetched_at: float
    held_back: HeldBack | None = None
    fresh_possible_at: float | None = None
    # When the status shown was last seen, if later than ``fetched_at`` (a status.php refresh
    # or a push): "newest known as of 14:02 · status as of 14:05".
    status_at: float | None = None

    def map(self, fn: Callable[[T], U]) -> Lookup[U]:
        """The same provenance around ``fn(value)``."""
        return Lookup(
            fn(self.value),
            self.origin,
            self.fetched_at,
            self.held_back,
            self.fresh_possible_at,
            self.status_at,
        )


@dataclass(frozen=True, slots=True)
class Window:
    """Account-wide messages sent since ``since`` (newest first) for ``/failed`` and ``/recent``.

    ``complete`` is False when SMS Center's 1000-message page ended before ``since``: the
    oldest messages of the period are then missing, and ``covered_since`` says from when on
    the list is whole.
    """

    entries: tuple[HistoryEntry, ...]
    since: float
    covered_since: float
    complete: bool


class Account(Protocol):
    """What the fetch layer needs of an account: an identity for budgets and the key."""

    @property
    def key_id(self) -> str: ...

    @property
    def apikey(self) -> str: ...


class QuotaLedger(Protocol):
    """Persistent record of history requests per account (``bot.store.Storage`` is one)."""

    async def record_upstream(self, key_id: str, at: float) -> None: ...

    async def upstream_since(self, key_id: str, since: float) -> list[float]: ...


@dataclass(frozen=True, slots=True)
class Answer(Generic[T]):
    """A lookup's answer now and, when more is coming, the final one to await.

    ``now`` is what to show at once: the answer itself when ``final`` is None; otherwise held
    data marked with its age and why (or None: nothing is held, "asking SMS Center"). ``final``
    resolves when a request answers the question (a ``Lookup``, or the error to explain), no
    later than ``due`` unless SMS Center is slow or refuses; ``prompt`` says it goes out at
    once, so a caller may simply wait for it and show one answer.
    """

    now: Lookup[T] | None
    final: asyncio.Future[Lookup[T]] | None = None
    due: float | None = None
    prompt: bool = False  # the request goes out now (after the gathering moment): await it


async def landed_within(future: asyncio.Future[None], seconds: float) -> bool:
    """Whether ``future`` is done within ``seconds`` of real time (it goes on either way)."""
    done, _ = await asyncio.wait({future}, timeout=seconds)
    return bool(done)


async def settled_within(final: asyncio.Future[Lookup[T]], seconds: float) -> Lookup[T] | None:
    """``final``'s answer if it lands within ``seconds`` of real time (a person waiting for a
    reply), else None; it goes on either way. Its error is raised."""
    done, _ = await asyncio.wait({final}, timeout=seconds)
    return final.result() if done else None


def retrieved(future: asyncio.Future[Any]) -> None:
    """Nobody awaits this answer any more: mark its error retrieved."""
    if not future.cancelled():
        future.exception()
