"""Held answers: the newest answer per account and query, single-flight, and the decision
between held data, the budget and SMS Center (rules 5–11 of ``bot.fetch``).

Every lookup that is not ``/last``'s batch goes through ``HeldAnswers.get``: an answer younger
than ``CACHE_TTL`` is served as is (``CACHE``); a lookup identical to one under way joins it;
otherwise the refused-key back-off, the asking user's share, the account budget (by purpose)
and SMS Center decide, in that order, and held data is served with its age when one says no.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cachetools import TTLCache

from bot.fetch.budget import AccountBudget, Purpose
from bot.fetch.limits import HOUR, UserShare
from bot.fetch.models import Account, HeldBack, Lookup, Origin, QuotaExhausted
from bot.smsc import (
    SmscBadCredentials,
    SmscConnectError,
    SmscIPBlocked,
    SmscRateLimited,
    SmscTransportError,
)

logger = logging.getLogger(__name__)

__all__ = ["STALE_HORIZON", "HeldAnswers", "Snapshot"]

T = TypeVar("T")

# Held data older than this is dropped rather than shown as "stale".
STALE_HORIZON = 24 * HOUR


@dataclass(frozen=True, slots=True)
class Snapshot(Generic[T]):
    """A value as SMS Center answered it at ``fetched_at``."""

    value: T
    fetched_at: float


class HeldAnswers:
    """The newest answer per (account, query), held for ``STALE_HORIZON`` so that it can still
    be served, with its age, when a fresh request is held back; "fresh" is age < ``ttl``."""

    def __init__(
        self,
        budget: AccountBudget,
        shares: UserShare,
        *,
        ttl: float,
        clock: Callable[[], float],
        cache_size: int = 4096,
    ) -> None:
        self.budget = budget
        self.shares = shares
        self._ttl = ttl
        self._clock = clock
        self._held: TTLCache[Hashable, Snapshot[Any]] = TTLCache(
            maxsize=cache_size, ttl=STALE_HORIZON, timer=clock
        )
        self._in_flight: dict[Hashable, asyncio.Future[Lookup[Any]]] = {}

    def __len__(self) -> int:
        return len(self._held)

    def forget(self, key_id: str) -> int:
        """Drop every answer held for the key ``key_id``; how many there were."""
        keys = [key for key in list(self._held) if isinstance(key, tuple) and key[0] == key_id]
        for key in keys:
            self._held.pop(key, None)
        return len(keys)

    def holds(self, account: Account, query: Hashable) -> bool:
        """Whether an answer to ``query`` is held (of any age)."""
        return (account.key_id, query) in self._held

    async def get(
        self,
        account: Account,
        query: Hashable,
        *,
        fetch: Callable[[], Awaitable[T]],
        cold: bool,
        user: int | None,
        held: Snapshot[T] | None = None,
        budgeted: bool = True,
        purpose: Purpose = Purpose.LOOKUP,
        before_request: Callable[[bool], Awaitable[None]] | None = None,
        fresh_for: float | None = None,
    ) -> Lookup[T]:
        """The answer to ``query``: held and fresh, joined, or decided (``user``'s share is
        counted for a request made). ``before_request`` runs (and may raise) when a request
        may be made, told whether held data could answer instead. ``fresh_for`` replaces
        ``CACHE_TTL`` as the age up to which a held answer is served as is."""
        key = (account.key_id, query)
        cached: Snapshot[T] | None = self._held.get(key)
        if cached is not None and self._clock() - cached.fetched_at < (fresh_for or self._ttl):
            return Lookup(cached.value, Origin.CACHE, cached.fetched_at)
        flight: asyncio.Future[Lookup[T]] | None = self._in_flight.get(key)
        if flight is None and before_request is not None:
            await before_request(held is not None or cached is not None)
            flight = self._in_flight.get(key)  # one may have started meanwhile
        if flight is not None:
            # Single-flight: join the lookup already under way, whatever it decides.
            return await asyncio.shield(flight)
        # Registered before the first await, so that a concurrent identical lookup joins it.
        flight = asyncio.get_running_loop().create_future()
        self._in_flight[key] = flight
        try:
            lookup = await self._decide(
                account,
                key,
                fetch,
                user=user,
                cold=cold,
                held=held or cached,
                budgeted=budgeted,
                purpose=purpose,
            )
        except asyncio.CancelledError:
            flight.cancel()
            raise
        except BaseException as exc:
            flight.set_exception(exc)
            flight.exception()  # there may be no follower: mark it retrieved
            raise
        else:
            flight.set_result(lookup)
            return lookup
        finally:
            del self._in_flight[key]

    async def _decide(
        self,
        account: Account,
        key: Hashable,
        fetch: Callable[[], Awaitable[T]],
        *,
        cold: bool,
        held: Snapshot[T] | None,
        budgeted: bool,
        purpose: Purpose,
        user: int | None,
    ) -> Lookup[T]:
        """Budget and back-off first, then SMS Center; held data when either says no."""
        refusal = await self.budget.backoff_error(account.key_id)
        if isinstance(refusal, SmscBadCredentials):
            raise refusal  # the key was refused: asking again would get the IP blocked
        if user is not None:
            share_at = self.shares.next_at(account.key_id, user)
            if share_at > self._clock():
                if held is None:
                    raise QuotaExhausted(share_at, HeldBack.SHARE)
                return Lookup(held.value, Origin.STALE, held.fetched_at, HeldBack.SHARE, share_at)
        allowed = (
            await self.budget.try_spend(account.key_id, cold=cold, purpose=purpose)
            if budgeted
            else refusal is None
        )
        if not allowed:
            return await self._held_back(account, held, cold=cold, purpose=purpose)
        if user is not None:
            self.shares.spend(account.key_id, user)
        try:
            snapshot = await self._upstream(account, fetch, budgeted=budgeted)
        except (SmscTransportError, SmscRateLimited, SmscIPBlocked) as exc:
            if user is not None and isinstance(exc, SmscTransportError) and _never_sent(exc):
                self.shares.give_back(account.key_id, user)  # it never reached SMS Center
            if held is None:
                raise
            logger.info("serving held data for account %s: SMS Center failed", account.key_id[:8])
            return Lookup(held.value, Origin.STALE, held.fetched_at, HeldBack.UPSTREAM)
        self._held[key] = snapshot
        return Lookup(snapshot.value, Origin.FRESH, snapshot.fetched_at)

    async def _upstream(
        self, account: Account, fetch: Callable[[], Awaitable[T]], *, budgeted: bool
    ) -> Snapshot[T]:
        key_id = account.key_id
        reached = True
        try:
            async with self.budget.gate(key_id):
                value = await fetch()
        except (SmscRateLimited, SmscIPBlocked, SmscBadCredentials) as exc:
            seconds = await self.budget.backoff(key_id, exc)
            logger.warning(
                "SMS Center refused account %s with error %s (%s); backing off %.0f s",
                key_id[:8],
                exc.error_code,
                exc.description,
                seconds,
            )
            raise
        except SmscTransportError as exc:
            reached = not _never_sent(exc)
            raise
        finally:
            if budgeted:
                await self.budget.settle(key_id, reached_upstream=reached)
        await self.budget.clear_backoff(key_id)
        return Snapshot(value, self._clock())

    async def _held_back(
        self, account: Account, held: Snapshot[T] | None, *, cold: bool, purpose: Purpose
    ) -> Lookup[T]:
        at = await self.budget.next_request_at(account.key_id, cold=cold, purpose=purpose)
        reason = (
            HeldBack.BACKOFF if await self.budget.backoff_error(account.key_id) else HeldBack.BUDGET
        )
        if held is None:
            raise QuotaExhausted(at, reason)
        return Lookup(held.value, Origin.STALE, held.fetched_at, reason, at)


def _never_sent(exc: SmscTransportError) -> bool:
    """A failed connection never reached SMS Center, so it spent nothing of the budget."""
    return isinstance(exc, SmscConnectError)
