"""The per-user limits of the fetch layer, and the sliding log every "N per window" rule uses.

- ``UserGuard``: a token bucket per Telegram user (``USER_RATE_LIMIT``) in front of every
  lookup, answered before anything else is decided.
- ``UserShare``: the history requests one user caused per account in the sliding hour, capped
  at ``user_share(budget)`` so that one person cannot spend the whole team's hour.
- ``SlidingLog``: the times of events in a sliding window; the account budget, each user's
  share and the refused key checks all count with it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable

from cachetools import TTLCache

from bot.fetch.models import UserRateLimited

HOUR = 3600.0


def user_share(hourly_budget: int) -> int:
    """History requests one user may cause per account in the sliding hour: a third of the
    budget, so that one person looking up new numbers cannot spend the whole team's hour."""
    return max(1, hourly_budget // 3)


class SlidingLog(deque[float]):
    """Times of events, oldest first; those within the last ``window`` seconds count.

    One mechanism for every "at most N in a sliding window" rule of the fetch layer: the account
    budget, each user's share of it, and refused key checks.
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

    def left(self, key_id: str, user_id: int) -> int:
        """Requests the user may still cause in the sliding hour."""
        sent = self._sent.get((key_id, user_id))
        if sent is None:
            return self.limit
        sent.prune(self._clock())
        return max(0, self.limit - len(sent))

    def spend(self, key_id: str, user_id: int) -> None:
        """Count a request the user caused now."""
        self._sent.setdefault((key_id, user_id), SlidingLog(HOUR)).append(self._clock())

    def give_back(self, key_id: str, user_id: int) -> None:
        """Uncount the user's newest request (it never reached SMS Center)."""
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
