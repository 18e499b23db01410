"""The shared fetch layer: the rules of SMS Center's limits (PRODUCT.md §7), in one place.

SMS Center answers at most 3 identical history requests a minute and 30 history requests an
hour per account; the bot is the one client that a whole team shares, so it must never be the
cause of a refusal. Every lookup goes through ``Fetcher``, which decides, in this order:

1. **Per-user guard** — a token bucket per Telegram user (``USER_RATE_LIMIT``); an empty bucket
   answers "try again in N s" (``UserRateLimited``) without touching SMS Center.
2. **Cache** — the newest answer per account and query. Younger than ``CACHE_TTL`` (≥ 20 s, so
   never more than 3 identical requests a minute) it is served as is.
3. **Reuse** — an account-wide fetch (the *window*: the last ≥ 2 days, up to 1000 messages, as
   ``/recent`` and ``/failed`` read it) answers ``/last <phone>`` for any number whose message
   lies inside it. A cold ``/last`` fetches the window first, because one window answers the
   next questions about other numbers too.
4. **Single-flight** — concurrent identical lookups share one upstream request.
5. **Account budget** — ``AccountBudget`` counts history requests per account in a sliding hour
   (``SMSC_HOURLY_BUDGET``, default 30, kept in the database so a restart does not reset it).
   A sixth of the hour is kept for *cold* questions (the bot holds no data for them); *warm*
   refreshes of data it holds are paced over the rest by a token bucket: up to ``WARM_BURST``
   saved, one more every 240 s (at the default budget), so a wave of questions after a quiet
   spell is answered fresh while a flood still gets one refresh per 240 s. A question held back
   gets the newest data held, marked stale with its age, and the time when a fresh request will
   be possible.
6. **Back-off** — if SMS Center still answers "too many requests" (error 9), "IP blocked" (4)
   or "wrong key" (2, which turns into 4 when repeated), the account waits before the next
   request and the cause is logged. Transport failures (timeouts, HTTP 5xx, bad bodies) serve
   the newest data held, marked stale, when there is any.
7. **Concurrency** — at most ``max_in_flight`` requests per account at once (SMS Center refuses
   five simultaneous status requests under one login); the rest queue.

Each answer is a ``Lookup``: the value, where it came from (fresh / cache / stale), when its
data was fetched from SMS Center, and, when held back, why and when a fresh one is possible.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from cachetools import TTLCache

from bot.smsc import (
    HistoryEntry,
    MessageStatus,
    SmscApiError,
    SmscBadCredentials,
    SmscClient,
    SmscConnectError,
    SmscIPBlocked,
    SmscRateLimited,
    SmscTransportError,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")
U = TypeVar("U")

HOUR = 3600.0
# How many messages one number's history fetch asks for: enough for /last and /history (≤ 20),
# so both are answered by one cached request.
PHONE_HISTORY_COUNT = 20
# The account-wide window: the newest messages of the last days, at most SMS Center's maximum.
WINDOW_COUNT = 1000
WINDOW_DAYS = 2
# Per-number history is asked from this many days back: SMS Center gives at most six months.
PHONE_HISTORY_DAYS = 180
# Held data older than this is dropped rather than shown as "stale".
STALE_HORIZON = 24 * HOUR
# Back-off after SMS Center refuses: error 9 doubles from a minute up to an hour; error 4 (IP
# blocked for 30 min) and error 2 (a wrong key retried becomes error 4) wait fixed times.
BACKOFF_FIRST = 60.0
BACKOFF_MAX = HOUR
BACKOFF_IP_BLOCKED = 30 * 60.0
BACKOFF_BAD_KEY = 5 * 60.0
# SMS Center blocks an IP for 30 minutes after 5 authorization errors in 30 minutes (smsc-api.md,
# IP blocking). Key checks stop after 3 refused keys in that window, leaving room for a key of a
# stored account that was revoked meanwhile.
AUTH_FAILURE_WINDOW = 30 * 60.0
KEY_CHECK_FAILURES_MAX = 3
# The asking user: set by each public lookup, read where the budget is spent (``_decide``).
_ASKING: ContextVar[int | None] = ContextVar("asking_user", default=None)


def user_share(hourly_budget: int) -> int:
    """History requests one user may cause per account in the sliding hour: a third of the
    budget, so that one person looking up new numbers cannot spend the whole team's hour."""
    return max(1, hourly_budget // 3)


# Share of the hourly budget kept for cold questions (the rest refreshes data already held).
RESERVE_SHARE = 6
# Refreshes of held data a quiet account may spend in a row (a cache TTL apart) when a wave of
# questions comes. With one (refreshes always 180 s apart), the second minute of a wave and any
# wave soon after another got stale answers; five still left one benchmark hour in twenty at
# 85 % fresh answers, ten none (BENCHMARKS.md, quota economy).
WARM_BURST = 10


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

    def map(self, fn: Callable[[T], U]) -> Lookup[U]:
        """The same provenance around ``fn(value)``."""
        return Lookup(
            fn(self.value), self.origin, self.fetched_at, self.held_back, self.fresh_possible_at
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
    """Persistent record of history requests per account (``storage.Storage`` is one)."""

    async def record_upstream(self, key_id: str, at: float) -> None: ...

    async def upstream_since(self, key_id: str, since: float) -> list[float]: ...


class SlidingLog(deque[float]):
    """Times of events, oldest first; those within the last ``window`` seconds count.

    One mechanism for every "at most N in a sliding window" rule here: the account budget, each
    user's share of it, and refused key checks.
    """

    def __init__(self, window: float, times: Iterable[float] = ()) -> None:
        super().__init__(times)
        self.window = window

    def prune(self, now: float) -> None:
        """Forget the events that have left the window."""
        while self and self[0] <= now - self.window:
            self.popleft()

    def next_at(self, limit: int, now: float) -> float:
        """When one more event fits under ``limit`` in the window (``now`` if it fits now)."""
        self.prune(now)
        excess = len(self) - limit
        return now if excess < 0 else self[excess] + self.window


class UserShare:
    """Per (account, user): the history requests the user caused in the sliding hour."""

    def __init__(self, limit: int, *, clock: Callable[[], float]) -> None:
        self.limit = limit
        self._clock = clock
        self._sent: dict[tuple[str, int], SlidingLog] = {}

    def next_at(self, key_id: str, user_id: int) -> float:
        """When the user may cause another request (now, if they may now)."""
        sent = self._sent.get((key_id, user_id))
        now = self._clock()
        return now if sent is None else sent.next_at(self.limit, now)

    def spend(self, key_id: str, user_id: int) -> None:
        self._sent.setdefault((key_id, user_id), SlidingLog(HOUR)).append(self._clock())

    def give_back(self, key_id: str, user_id: int) -> None:
        sent = self._sent.get((key_id, user_id))
        if sent:
            sent.pop()
        if not sent:
            self._sent.pop((key_id, user_id), None)


class UserGuard:
    """Per-user token bucket: ``count`` lookups per ``window`` seconds, refilled evenly."""

    def __init__(
        self,
        count: int,
        window: float,
        *,
        clock: Callable[[], float] = time.time,
        max_users: int = 100_000,
    ) -> None:
        self._capacity = float(count)
        self._rate = count / window
        self._clock = clock
        # A bucket idle for a whole window is full again, so forgetting it loses nothing.
        self._buckets: TTLCache[int, tuple[float, float]] = TTLCache(
            maxsize=max_users, ttl=window, timer=clock
        )

    def take(self, user_id: int) -> None:
        """Spend one token, or raise ``UserRateLimited`` with the wait for the next one."""
        now = self._clock()
        tokens, last = self._buckets.get(user_id, (self._capacity, now))
        tokens = min(self._capacity, tokens + (now - last) * self._rate)
        if tokens < 1.0:
            raise UserRateLimited(retry_after=(1.0 - tokens) / self._rate)
        self._buckets[user_id] = (tokens - 1.0, now)


@dataclass
class _AccountState:
    sent: SlidingLog = field(default_factory=lambda: SlidingLog(HOUR))  # history requests
    warm_tokens: float | None = None  # refreshes of held data saved up (None: a full bucket)
    warm_at: float = 0.0  # when warm_tokens was last counted
    loaded: bool = False
    backoff_until: float = 0.0
    backoff_step: float = 0.0
    backoff_error: SmscApiError | None = None
    in_flight: asyncio.Semaphore | None = None


class AccountBudget:
    """SMS Center's per-account history limit, mirrored: ``limit`` requests per sliding hour.

    The count is kept in ``ledger`` so it survives a restart. ``reserve`` requests of each hour
    (a sixth) are kept for questions the bot holds no data for (``cold``). Refreshes of data it
    holds (warm) take a token from a bucket that holds at most ``warm_burst`` and gains one every
    ``warm_interval``: a wave of questions may spend what a quiet spell saved, and a steady flood
    gets one refresh per ``warm_interval`` all hour long instead of spending the hour in its
    first minutes. The bucket admits at most ``warm_burst + HOUR / warm_interval`` warm requests
    in any hour, which is ``limit - reserve`` (at 30: 10 + 15 = 25, one per 240 s, reserve 5).
    """

    def __init__(
        self,
        ledger: QuotaLedger,
        limit: int,
        *,
        clock: Callable[[], float] = time.time,
        reserve: int | None = None,
        max_in_flight: int = 2,
    ) -> None:
        self._ledger = ledger
        self.limit = limit
        self.reserve = reserve if reserve is not None else max(1, limit // RESERVE_SHARE)
        warm = limit - self.reserve
        self.warm_burst = max(1, min(WARM_BURST, warm * 2 // 5))  # at most two fifths of warm
        refills = warm - self.warm_burst if warm > self.warm_burst else warm
        self.warm_interval = HOUR / refills if refills > 0 else float("inf")
        self._clock = clock
        self._max_in_flight = max_in_flight
        self._accounts: dict[str, _AccountState] = {}
        self._lock = asyncio.Lock()

    async def _state(self, key_id: str) -> _AccountState:
        state = self._accounts.get(key_id)
        if state is None:
            state = self._accounts[key_id] = _AccountState()
        if not state.loaded:
            now = self._clock()
            state.sent = SlidingLog(HOUR, await self._ledger.upstream_since(key_id, now - HOUR))
            state.loaded = True
        state.sent.prune(self._clock())
        return state

    async def remaining(self, key_id: str) -> int:
        """History requests left in the sliding hour."""
        return max(0, self.limit - len((await self._state(key_id)).sent))

    async def next_request_at(self, key_id: str, *, cold: bool = True) -> float:
        """When a request of this kind will be allowed (now, if it is allowed now)."""
        state = await self._state(key_id)
        now = self._clock()
        allowed = self.limit if cold else self.limit - self.reserve
        at = state.sent.next_at(allowed, now) if allowed > 0 else float("inf")
        if not cold:
            tokens = self._warm_tokens(state, now)
            if tokens < 1.0:
                at = max(at, now + (1.0 - tokens) * self.warm_interval)
        return max(at, state.backoff_until)

    async def try_spend(self, key_id: str, *, cold: bool) -> bool:
        """Reserve one request if the budget (and any back-off) allows it now."""
        async with self._lock:
            if await self.next_request_at(key_id, cold=cold) > self._clock():
                return False
            state = await self._state(key_id)
            now = self._clock()
            state.sent.append(now)
            if not cold:
                state.warm_tokens = self._warm_tokens(state, now) - 1.0
                state.warm_at = now
            return True

    def _warm_tokens(self, state: _AccountState, now: float) -> float:
        """Warm refreshes saved up at ``now``: the bucket refills one per ``warm_interval``."""
        if state.warm_tokens is None:
            return float(self.warm_burst)
        refill = (now - state.warm_at) / self.warm_interval
        return min(float(self.warm_burst), state.warm_tokens + refill)

    async def settle(self, key_id: str, *, reached_upstream: bool) -> None:
        """Persist a reserved request, or give it back when it never reached SMS Center."""
        state = await self._state(key_id)
        if reached_upstream:
            if state.sent:
                try:
                    await self._ledger.record_upstream(key_id, state.sent[-1])
                except Exception as exc:
                    # A full disk or a locked database must not lose an answer already paid
                    # for: the request stays counted in memory; only a restart would forget it.
                    logger.warning(
                        "could not record a request of account %s in the quota ledger: %s",
                        key_id[:8],
                        exc,
                    )
        elif state.sent:
            state.sent.pop()

    async def backoff(self, key_id: str, error: SmscApiError) -> float:
        """Wait before the next request after SMS Center refused; returns the seconds."""
        state = await self._state(key_id)
        if isinstance(error, SmscRateLimited):
            state.backoff_step = min(BACKOFF_MAX, max(BACKOFF_FIRST, state.backoff_step * 2))
            seconds = state.backoff_step
        elif isinstance(error, SmscIPBlocked):
            seconds = BACKOFF_IP_BLOCKED
        else:
            seconds = BACKOFF_BAD_KEY
        state.backoff_until = self._clock() + seconds
        state.backoff_error = error
        return seconds

    async def clear_backoff(self, key_id: str) -> None:
        """A request succeeded: forget the back-off steps."""
        state = await self._state(key_id)
        state.backoff_step = 0.0
        state.backoff_error = None

    async def backoff_error(self, key_id: str) -> SmscApiError | None:
        """The refusal that started a back-off still running, if any."""
        state = await self._state(key_id)
        return state.backoff_error if state.backoff_until > self._clock() else None

    def gate(self, key_id: str) -> asyncio.Semaphore:
        """The per-account limit on requests in flight."""
        state = self._accounts.setdefault(key_id, _AccountState())
        if state.in_flight is None:
            state.in_flight = asyncio.Semaphore(self._max_in_flight)
        return state.in_flight


@dataclass(frozen=True, slots=True)
class _Snapshot(Generic[T]):
    value: T
    fetched_at: float


# Query keys: what was asked of SMS Center. Identical keys are identical upstream requests.
_WINDOW = ("window",)


def _phone_key(phone: str) -> tuple[str, str]:
    return ("phone", phone)


class Fetcher:
    """Every lookup of the bot, deciding between cache, reuse, budget and SMS Center."""

    def __init__(
        self,
        client: SmscClient,
        ledger: QuotaLedger,
        *,
        cache_ttl: float,
        user_limit: tuple[int, float],
        hourly_budget: int,
        tz: tzinfo,
        clock: Callable[[], float] = time.time,
        cache_size: int = 4096,
        max_in_flight: int = 2,
    ) -> None:
        self._client = client
        self._ttl = cache_ttl
        self._tz = tz
        self._clock = clock
        self.guard = UserGuard(*user_limit, clock=clock)
        self.shares = UserShare(user_share(hourly_budget), clock=clock)
        self._auth_failures = SlidingLog(AUTH_FAILURE_WINDOW)  # refused key checks
        self.budget = AccountBudget(ledger, hourly_budget, clock=clock, max_in_flight=max_in_flight)
        # The newest answer per (account, query), held for STALE_HORIZON so that it can still be
        # served, with its age, when a fresh request is held back; "fresh" is age < CACHE_TTL.
        self._held: TTLCache[Hashable, _Snapshot[Any]] = TTLCache(
            maxsize=cache_size, ttl=STALE_HORIZON, timer=clock
        )
        self._in_flight: dict[Hashable, asyncio.Future[Lookup[Any]]] = {}

    def __repr__(self) -> str:
        return f"Fetcher(cache_ttl={self._ttl}, held={len(self._held)})"

    # --- public lookups -------------------------------------------------------------------

    async def last(self, user_id: int, account: Account, phone: str) -> Lookup[HistoryEntry | None]:
        """The newest message to ``phone`` (``None`` when there is none)."""
        self._admit(user_id)
        lookup = await self._phone_history(account, phone, need=1)
        return lookup.map(lambda entries: entries[0] if entries else None)

    async def history(
        self, user_id: int, account: Account, phone: str, count: int, before: int | None = None
    ) -> Lookup[list[HistoryEntry]]:
        """Up to ``count`` (≤ 20) messages to ``phone``, newest first; ``before`` pages back."""
        self._admit(user_id)
        count = max(1, min(count, PHONE_HISTORY_COUNT))
        if before is None:
            lookup = await self._phone_history(account, phone, need=count)
            return lookup.map(lambda entries: entries[:count])
        query = ("older", phone, before, count)
        start = self._days_back(PHONE_HISTORY_DAYS)
        return await self._cached(
            account,
            query,
            cold=True,
            fetch=lambda: self._client.get_messages(
                account.apikey, phone=phone, cnt=count, prev_id=before, start=start
            ),
        )

    async def recent(
        self, user_id: int, account: Account, count: int
    ) -> Lookup[list[HistoryEntry]]:
        """The account's newest ``count`` messages to any number (from the window)."""
        self._admit(user_id)
        lookup = await self._window(account)
        return lookup.map(lambda entries: entries[:count])

    async def failed(self, user_id: int, account: Account, hours: float) -> Lookup[Window]:
        """Every message the account sent in the last ``hours`` (the caller picks failures)."""
        self._admit(user_id)
        lookup = await self._window(account)
        since = lookup.fetched_at - hours * HOUR

        def cut(entries: list[HistoryEntry]) -> Window:
            inside = tuple(e for e in entries if (e.sent_at or 0.0) >= since)
            full = len(entries) < WINDOW_COUNT or len(inside) < len(entries)
            covered = since if full else min((e.sent_at or since) for e in inside)
            return Window(entries=inside, since=since, covered_since=covered, complete=full)

        return lookup.map(cut)

    async def status(
        self, user_id: int, account: Account, phone: str, message_id: int
    ) -> Lookup[MessageStatus]:
        """One message's status from ``status.php`` (not counted in the history budget)."""
        self._admit(user_id)
        return await self._cached(
            account,
            ("status", phone, message_id),
            cold=True,
            budgeted=False,
            fetch=lambda: self._client.status(account.apikey, phone=phone, message_id=message_id),
        )

    async def check_key(self, user_id: int, apikey: str) -> Decimal:
        """Validate a key with ``balance.php`` (free of the history budget); returns the balance.

        Refused keys are counted: after ``KEY_CHECK_FAILURES_MAX`` in ``AUTH_FAILURE_WINDOW``,
        checks pause (``KeyChecksPaused``) before SMS Center would block the bot's IP.
        """
        self.guard.take(user_id)
        now = self._clock()
        resume_at = self._auth_failures.next_at(KEY_CHECK_FAILURES_MAX, now)
        if resume_at > now:
            raise KeyChecksPaused(resume_at)
        try:
            return await self._client.balance(apikey)
        except SmscBadCredentials:
            self._auth_failures.append(self._clock())
            logger.warning("a key check was refused (%d in 30 min)", len(self._auth_failures))
            raise

    async def quota_left(self, account: Account) -> int:
        """History requests the account may still make in the sliding hour."""
        return await self.budget.remaining(account.key_id)

    # --- decisions ------------------------------------------------------------------------

    def _admit(self, user_id: int) -> None:
        """The per-user guard first (UserRateLimited); then ``user_id`` is the one asking, whose
        share of the account's hour a request made for this lookup is counted against."""
        self.guard.take(user_id)
        _ASKING.set(user_id)

    async def _phone_history(
        self, account: Account, phone: str, *, need: int
    ) -> Lookup[list[HistoryEntry]]:
        key_id = account.key_id
        own: _Snapshot[list[HistoryEntry]] | None = self._held.get((key_id, _phone_key(phone)))
        if own is not None and self._is_fresh(own):
            return Lookup(own.value, Origin.CACHE, own.fetched_at)
        # Reuse an account-wide window that holds enough of this number's messages.
        window: _Snapshot[list[HistoryEntry]] | None = self._held.get((key_id, _WINDOW))
        from_window = _pick(window.value if window else None, phone, need)
        if window is not None and from_window is not None and self._is_fresh(window):
            return Lookup(from_window, Origin.CACHE, window.fetched_at)
        # Held data for a stale answer: the number's own history, or what the window has of it
        # (maybe fewer than ``need``: better than nothing when the budget is spent).
        held = own
        partial = _pick(window.value if window else None, phone, 1)
        newer = window is not None and (own is None or window.fetched_at > own.fetched_at)
        if window is not None and partial is not None and newer:
            held = _Snapshot(partial, window.fetched_at)
        if need == 1 and not self._is_in_flight(account, _phone_key(phone)):
            # A /last asks for the whole window first: it answers this number when its last
            # message is recent, and the next questions about other numbers as well.
            try:
                lookup = await self._window(account, cold=held is None)
            except QuotaExhausted:
                pass  # the number's own request below decides, with the same budget
            except (SmscTransportError, SmscRateLimited, SmscIPBlocked):
                if held is None:
                    raise
                return Lookup(held.value, Origin.STALE, held.fetched_at, HeldBack.UPSTREAM)
            else:
                picked = _pick(lookup.value, phone, need)
                if picked is not None:
                    return lookup.map(lambda _: picked)
                if lookup.origin is Origin.STALE and held is not None:
                    return Lookup(held.value, Origin.STALE, held.fetched_at, lookup.held_back,
                                  lookup.fresh_possible_at)  # fmt: skip
        start = self._days_back(PHONE_HISTORY_DAYS)
        return await self._cached(
            account,
            _phone_key(phone),
            cold=held is None,
            held=held,
            fetch=lambda: self._client.get_messages(
                account.apikey, phone=phone, cnt=PHONE_HISTORY_COUNT, start=start
            ),
        )

    async def _window(
        self, account: Account, *, cold: bool | None = None
    ) -> Lookup[list[HistoryEntry]]:
        start = self._days_back(WINDOW_DAYS)
        if cold is None:
            cold = (account.key_id, _WINDOW) not in self._held
        return await self._cached(
            account,
            _WINDOW,
            cold=cold,
            fetch=lambda: self._client.get_messages(account.apikey, cnt=WINDOW_COUNT, start=start),
        )

    async def _cached(
        self,
        account: Account,
        query: Hashable,
        *,
        fetch: Callable[[], Awaitable[T]],
        cold: bool,
        held: _Snapshot[T] | None = None,
        budgeted: bool = True,
    ) -> Lookup[T]:
        key = (account.key_id, query)
        cached: _Snapshot[T] | None = self._held.get(key)
        if cached is not None and self._is_fresh(cached):
            return Lookup(cached.value, Origin.CACHE, cached.fetched_at)
        flight: asyncio.Future[Lookup[T]] | None = self._in_flight.get(key)
        if flight is not None:
            # Single-flight: join the lookup already under way, whatever it decides.
            return await asyncio.shield(flight)
        # Registered before the first await, so that a concurrent identical lookup joins it.
        flight = asyncio.get_running_loop().create_future()
        self._in_flight[key] = flight
        try:
            lookup = await self._decide(
                account, key, fetch, cold=cold, held=held or cached, budgeted=budgeted
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
        held: _Snapshot[T] | None,
        budgeted: bool,
    ) -> Lookup[T]:
        """Budget and back-off first, then SMS Center; held data when either says no."""
        refusal = await self.budget.backoff_error(account.key_id)
        if isinstance(refusal, SmscBadCredentials):
            raise refusal  # the key was refused: asking again would get the IP blocked
        user = _ASKING.get() if budgeted else None
        if user is not None:
            share_at = self.shares.next_at(account.key_id, user)
            if share_at > self._clock():
                if held is None:
                    raise QuotaExhausted(share_at, HeldBack.SHARE)
                return Lookup(held.value, Origin.STALE, held.fetched_at, HeldBack.SHARE, share_at)
        allowed = (
            await self.budget.try_spend(account.key_id, cold=cold) if budgeted else refusal is None
        )
        if not allowed:
            return await self._held_back(account, held, cold=cold)
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
    ) -> _Snapshot[T]:
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
        return _Snapshot(value, self._clock())

    async def _held_back(
        self, account: Account, held: _Snapshot[T] | None, *, cold: bool
    ) -> Lookup[T]:
        at = await self.budget.next_request_at(account.key_id, cold=cold)
        reason = (
            HeldBack.BACKOFF if await self.budget.backoff_error(account.key_id) else HeldBack.BUDGET
        )
        if held is None:
            raise QuotaExhausted(at, reason)
        return Lookup(held.value, Origin.STALE, held.fetched_at, reason, at)

    # --- small parts ----------------------------------------------------------------------

    def _is_fresh(self, snapshot: _Snapshot[Any]) -> bool:
        return self._clock() - snapshot.fetched_at < self._ttl

    def _is_in_flight(self, account: Account, query: Hashable) -> bool:
        return (account.key_id, query) in self._in_flight

    def _days_back(self, days: int) -> date:
        today = datetime.fromtimestamp(self._clock(), self._tz).date()
        return today - timedelta(days=days)


def _pick(entries: list[HistoryEntry] | None, phone: str, need: int) -> list[HistoryEntry] | None:
    """The number's messages from an account-wide window, if it holds at least ``need``."""
    if entries is None:
        return None
    found = [entry for entry in entries if _digits(entry.phone) == phone]
    return found if len(found) >= need else None


def _digits(phone: str) -> str:
    """SMS Center may write a number with "+" or spaces; compare digits only."""
    return "".join(ch for ch in phone if ch.isascii() and ch.isdigit())


def _never_sent(exc: SmscTransportError) -> bool:
    """A failed connection never reached SMS Center, so it spent nothing of the budget."""
    return isinstance(exc, SmscConnectError)
