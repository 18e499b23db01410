"""The account budget: SMS Center's per-account history limit, mirrored and paced.

``AccountBudget`` counts history requests per account in a sliding hour (kept in a
``QuotaLedger`` so that a restart does not reset it), keeps a reserve for questions the bot holds
no data for, paces refreshes of data it holds, backs off after SMS Center refuses, and caps the
requests in flight per account.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from bot.fetch.limits import HOUR, SlidingLog
from bot.fetch.models import QuotaLedger
from bot.smsc import SmscApiError, SmscIPBlocked, SmscRateLimited

logger = logging.getLogger(__name__)

# Share of the hourly budget that paced requests (batches, refreshes of held data) leave for
# single cold requests (/history of a number nothing is held for, /failed's window when due):
# three requests at SMS Center's 30. It was a sixth (5 of 30); a tenth lets lookups answer more
# questions within a minute (BENCHMARKS.md, "correct answers": 50.7 → 53.3 % at 1× on the busy
# account, seeds 1-4). One of 30 gave 57.5 %, but then the batches' pace took the hour's last
# requests from /failed, whose busy-hour data grew 20 minutes old at 5× load.
RESERVE_SHARE = 10
# Requests (batches and refreshes of held data) a quiet account may save up and spend in a row
# when a wave of questions comes; the rest of the paced part of the hour comes one per interval
# (at 30 an hour: 5 saved, then one every 164 s). A bigger burst makes the interval longer and
# the waits of the next waves too. BENCHMARKS.md ("correct answers") measures the choice.
WARM_BURST = 5
# Back-off after SMS Center refuses: error 9 doubles from a minute up to an hour; error 4 (IP
# blocked for 30 min) and error 2 (a wrong key retried becomes error 4) wait fixed times.
BACKOFF_FIRST = 60.0
BACKOFF_MAX = HOUR
BACKOFF_IP_BLOCKED = 30 * 60.0
BACKOFF_BAD_KEY = 5 * 60.0


class Purpose(StrEnum):
    """What a history request is for: each purpose has a minimum share of the hour."""

    LOOKUP = "lookup"  # /last (batches), /history and its pages: questions about a number
    ACCOUNT = "account"  # /failed and /recent: the account-wide window and its pages
    WATCH = "watch"  # the on-call watch without status pushes (PRODUCT.md §10)


# The minimum share of the hourly budget each purpose keeps while it is in demand (asked for
# in the last hour). What a purpose does not use, the others may: a purpose nobody asked for in
# the hour keeps nothing, so one person alone may use the whole hour. At 30 an hour: lookups
# keep 15, /failed and /recent 6, watches 6 (``WATCH_BUDGET`` when set: ``watch_share``).
MIN_SHARE: dict[Purpose, float] = {
    Purpose.LOOKUP: 1 / 2,
    Purpose.ACCOUNT: 1 / 5,
    Purpose.WATCH: 1 / 5,
}


# /failed's data at most five minutes old, however busy the hour: past its minimum share the
# window is refreshed at most this often (the fetcher), and one request of the hour is kept
# free for it once its newest is this old, so that lookups never take the last one.
ACCOUNT_FRESH = 300.0
FRESH_EVERY: dict[Purpose, float] = {Purpose.ACCOUNT: ACCOUNT_FRESH}


@dataclass
class _AccountState:
    sent: SlidingLog = field(default_factory=lambda: SlidingLog(HOUR))  # history requests
    # The same requests by purpose (in memory: after a restart the ledger's are lookups').
    by_purpose: dict[Purpose, SlidingLog] = field(default_factory=dict)
    spent: list[Purpose] = field(default_factory=list)  # purposes of requests not yet settled
    asked: dict[Purpose, float] = field(default_factory=dict)  # when each was last in demand
    warm_tokens: float | None = None  # refreshes of held data saved up (None: a full bucket)
    warm_at: float = 0.0  # when warm_tokens was last counted
    loaded: bool = False
    backoff_until: float = 0.0
    backoff_step: float = 0.0
    backoff_error: SmscApiError | None = None
    in_flight: asyncio.Semaphore | None = None
    loading: asyncio.Lock = field(default_factory=asyncio.Lock)  # one load from the ledger


class AccountBudget:
    """SMS Center's per-account history limit, mirrored: ``limit`` requests per sliding hour.

    The count is kept in ``ledger`` so it survives a restart. ``reserve`` requests of each hour
    (three of 30) are kept for questions the bot holds no data for (``cold``). Refreshes of data it
    holds (warm) take a token from a bucket that holds at most ``warm_burst`` and gains one every
    ``warm_interval``: a wave of questions may spend what a quiet spell saved, and a steady flood
    gets one refresh per ``warm_interval`` all hour long instead of spending the hour in its
    first minutes. The bucket admits at most ``warm_burst + HOUR / warm_interval`` warm requests
    in any hour, which is ``limit - reserve`` (at 30: 5 + 22 = 27, one per 164 s, reserve 3).
    """

    def __init__(
        self,
        ledger: QuotaLedger,
        limit: int,
        *,
        clock: Callable[[], float] = time.time,
        reserve: int | None = None,
        max_in_flight: int = 2,
        watch_share: int | None = None,
    ) -> None:
        self._ledger = ledger
        self.limit = limit
        self._watch_share = watch_share  # WATCH_BUDGET: the watches' minimum, in requests
        self.reserve = reserve if reserve is not None else max(1, limit // RESERVE_SHARE)
        warm = limit - self.reserve
        self.warm_burst = max(1, min(WARM_BURST, warm * 2 // 5))  # at most two fifths of warm
        refills = warm - self.warm_burst if warm > self.warm_burst else warm
        self.warm_interval = HOUR / refills if refills > 0 else float("inf")
        self._clock = clock
        self._max_in_flight = max_in_flight
        self._accounts: dict[str, _AccountState] = {}
        self._lock = asyncio.Lock()
        # Error 4 blocks this host's IP, whichever account's request caused it: every account
        # waits it out (history and status requests alike).
        self._host_until = 0.0
        self._host_error: SmscApiError | None = None
        self._answers: dict[str, tuple[float, str]] = {}  # key_id → SMS Center's last answer

    async def _state(self, key_id: str) -> _AccountState:
        state = self._accounts.get(key_id)
        if state is None:
            state = self._accounts[key_id] = _AccountState()
        if not state.loaded:
            # Once, and never over requests counted meanwhile: concurrent first lookups wait.
            async with state.loading:
                if not state.loaded:
                    now = self._clock()
                    recorded = await self._ledger.upstream_since(key_id, now - HOUR)
                    state.sent = SlidingLog(HOUR, sorted([*recorded, *state.sent]))
                    state.loaded = True
        state.sent.prune(self._clock())
        return state

    async def remaining(self, key_id: str) -> int:
        """History requests left in the sliding hour."""
        return max(0, self.limit - len((await self._state(key_id)).sent))

    def minimum(self, purpose: Purpose) -> int:
        """Requests of the hour ``purpose`` keeps while it is in demand."""
        if purpose is Purpose.WATCH and self._watch_share is not None:
            return self._watch_share
        return int(self.limit * MIN_SHARE[purpose])

    async def spent(self, key_id: str, purpose: Purpose) -> int:
        """Requests made for ``purpose`` in the sliding hour (since this process started)."""
        state = await self._state(key_id)
        log = state.by_purpose.get(purpose)
        if log is None:
            return 0
        log.prune(self._clock())
        return len(log)

    def _kept_for_others(self, state: _AccountState, purpose: Purpose, now: float) -> int:
        """What the other purposes in demand still keep of their minimum shares."""
        kept = 0
        for other in Purpose:
            if other is purpose or now - state.asked.get(other, -HOUR) >= HOUR:
                continue
            log = state.by_purpose.get(other)
            if log is not None:
                log.prune(now)
            spent = len(log) if log is not None else 0
            # Past its minimum, a purpose in demand still keeps one request free once its
            # last is FRESH_EVERY old, so that its answers never wait on the others for long.
            due = other in FRESH_EVERY and (not log or now - log[-1] >= FRESH_EVERY[other])
            kept += max(self.minimum(other) - spent, 1 if due else 0)
        return kept

    async def next_request_at(
        self, key_id: str, *, cold: bool = True, purpose: Purpose = Purpose.LOOKUP
    ) -> float:
        """When a request of this kind will be allowed (now, if it is allowed now); asking
        puts ``purpose`` in demand for the hour."""
        state = await self._state(key_id)
        now = self._clock()
        state.asked[purpose] = now
        # What other purposes keep of the hour also keeps room for cold questions: the reserve
        # is the least a paced request leaves, not a second reserve beside them.
        kept = self._kept_for_others(state, purpose, now)
        allowed = self.limit - (kept if cold else max(kept, self.reserve))
        at = state.sent.next_at(allowed, now) if allowed > 0 else float("inf")
        if not cold:
            tokens = self._warm_tokens(state, now)
            if tokens < 1.0:
                at = max(at, now + (1.0 - tokens) * self.warm_interval)
        return max(at, state.backoff_until, self._host_until)

    async def saved_at(self, key_id: str, count: float) -> float:
        """When ``count`` paced requests will be saved up if none is spent meanwhile (now, if
        they are; never, past the bucket's size)."""
        state = await self._state(key_id)
        now = self._clock()
        tokens = self._warm_tokens(state, now)
        if tokens >= count:
            return now
        if count > self.warm_burst:
            return float("inf")
        return now + (count - tokens) * self.warm_interval

    async def try_spend(
        self, key_id: str, *, cold: bool, purpose: Purpose = Purpose.LOOKUP
    ) -> bool:
        """Reserve one request if the budget (and any back-off) allows it now."""
        async with self._lock:
            if await self.next_request_at(key_id, cold=cold, purpose=purpose) > self._clock():
                return False
            state = await self._state(key_id)
            now = self._clock()
            state.sent.append(now)
            state.by_purpose.setdefault(purpose, SlidingLog(HOUR)).append(now)
            state.spent.append(purpose)
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
        purpose = state.spent.pop() if state.spent else None
        if not reached_upstream:
            self._answers[key_id] = (self._clock(), "unreachable")
        if not reached_upstream and purpose is not None and state.by_purpose.get(purpose):
            state.by_purpose[purpose].pop()
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
        self._answers[key_id] = (self._clock(), f"error {error.error_code}")
        state = await self._state(key_id)
        if isinstance(error, SmscRateLimited):
            state.backoff_step = min(BACKOFF_MAX, max(BACKOFF_FIRST, state.backoff_step * 2))
            seconds = state.backoff_step
        elif isinstance(error, SmscIPBlocked):
            seconds = BACKOFF_IP_BLOCKED
            self._host_until = self._clock() + seconds
            self._host_error = error
        else:
            seconds = BACKOFF_BAD_KEY
        state.backoff_until = self._clock() + seconds
        state.backoff_error = error
        return seconds

    def last_answer(self, key_id: str) -> tuple[float, str] | None:
        """When SMS Center last answered a history request of the account, and how: ``ok``,
        ``error N`` (a refusal), or ``unreachable`` (no connection was made)."""
        return self._answers.get(key_id)

    async def clear_backoff(self, key_id: str) -> None:
        """A request succeeded: forget the back-off steps."""
        self._answers[key_id] = (self._clock(), "ok")
        state = await self._state(key_id)
        state.backoff_step = 0.0
        state.backoff_error = None

    async def backoff_error(self, key_id: str) -> SmscApiError | None:
        """The refusal that started a back-off still running, if any."""
        state = await self._state(key_id)
        if state.backoff_until > self._clock() and state.backoff_error is not None:
            return state.backoff_error
        return self._host_error if self._host_until > self._clock() else None

    def host_blocked_until(self) -> float:
        """Until when this host's IP is blocked (error 4 on any account; 0: it is not)."""
        return self._host_until

    def gate(self, key_id: str) -> asyncio.Semaphore:
        """The per-account limit on requests in flight."""
        state = self._accounts.setdefault(key_id, _AccountState())
        if state.in_flight is None:
            state.in_flight = asyncio.Semaphore(self._max_in_flight)
        return state.in_flight
