"""Sending to Telegram through its bad moments: flood control (429) and transient failures.

aiogram has no built-in retry. This session request middleware sends a Bot API call again:

- after a 429 "Too Many Requests", waiting the ``retry_after`` Telegram asked for;
- after a transient failure — a 5xx (Telegram's "Bad Gateway" while it restarts), a proxy's HTML
  error page instead of JSON, or a network error — after a short pause (1 s, then 2 s).

The choice for network errors: the call may have reached Telegram before the connection broke,
so a retried ``sendMessage`` can, rarely, show an answer twice. An on-call engineer at night is
better served by a duplicate than by a question that silently got no answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot

logger = logging.getLogger(__name__)

# What a retry may help with, besides 429 (which says itself how long to wait).
TRANSIENT = (TelegramServerError, TelegramNetworkError, ClientDecodeError)


class RetryMiddleware(BaseRequestMiddleware):
    """Send a Bot API call up to ``attempts`` times through 429s and transient failures.

    A 429 asking for more than ``max_wait`` seconds is not waited out (the answer would come too
    late to help anyone); that error, or the last transient one, propagates and is logged by
    the error handler.
    """

    def __init__(
        self,
        *,
        attempts: int = 3,
        max_wait: float = 60.0,
        pause: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._attempts = attempts
        self._max_wait = max_wait
        self._pause = pause
        self._sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Send ``method``; wait and send it again while Telegram refuses or fails transiently."""
        name = method.__api_method__
        for attempt in range(1, self._attempts + 1):
            last = attempt == self._attempts
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if last or exc.retry_after > self._max_wait:
                    raise
                wait = float(exc.retry_after)
                logger.warning(
                    "Telegram flood control on %s: waiting %s s (attempt %d of %d)",
                    name, exc.retry_after, attempt, self._attempts,
                )  # fmt: skip
            except TRANSIENT as exc:
                if last:
                    raise
                wait = self._pause * attempt
                logger.warning(
                    "Telegram failed on %s (%s); sending again in %g s (attempt %d of %d)",
                    name, _reason(exc), wait, attempt, self._attempts,
                )  # fmt: skip
            await self._sleep(wait)
        raise AssertionError("unreachable")


def _reason(exc: Exception) -> str:
    """A short cause for the log: never the request (it may carry a user's text)."""
    if isinstance(exc, ClientDecodeError):
        return "the answer was not JSON"
    message = getattr(exc, "message", "")
    return f"{type(exc).__name__}: {message}"[:200]
