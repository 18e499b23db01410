"""Key checks: ``balance.php`` validates a key, and refused keys pause the checks.

SMS Center blocks an IP for 30 minutes after 5 authorization errors in 30 minutes (smsc-api.md,
IP blocking). Key checks stop after ``KEY_CHECK_FAILURES_MAX`` refused keys in that window,
leaving room for a key of a stored account that was revoked meanwhile. A key check is free of
the history budget.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Final

from bot.fetch.limits import SlidingLog
from bot.fetch.models import KeyChecksPaused
from bot.smsc import SmscBadCredentials, SmscClient

logger = logging.getLogger(__name__)

__all__ = ["AUTH_FAILURE_WINDOW", "KEY_CHECK_FAILURES_MAX", "KeyChecks"]

AUTH_FAILURE_WINDOW: Final = 30 * 60.0
KEY_CHECK_FAILURES_MAX: Final = 3


class KeyChecks:
    """Validates keys with ``balance.php``, pausing after too many refusals."""

    def __init__(self, client: SmscClient, *, clock: Callable[[], float]) -> None:
        self._client = client
        self._clock = clock
        self._failures = SlidingLog(AUTH_FAILURE_WINDOW)  # refused key checks

    async def check(self, apikey: str) -> Decimal:
        """The balance of the key's account; ``KeyChecksPaused`` while paused, SMS Center's
        error when the key is refused (counted)."""
        now = self._clock()
        resume_at = self._failures.next_at(KEY_CHECK_FAILURES_MAX, now)
        if resume_at > now:
            raise KeyChecksPaused(resume_at)
        try:
            return await self._client.balance(apikey)
        except SmscBadCredentials:
            self._failures.append(self._clock())
            logger.warning("a key check was refused (%d in 30 min)", len(self._failures))
            raise
