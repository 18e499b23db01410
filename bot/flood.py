"""Telegram flood control: wait out a 429 (``retry_after``) and send again.

aiogram has no built-in retry; this session request middleware retries a method that Telegram
refused with "Too Many Requests", after the wait Telegram asked for, so the answer still arrives.
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
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot

logger = logging.getLogger(__name__)


class RetryAfterMiddleware(BaseRequestMiddleware):
    """Retry a Bot API call refused with 429, up to ``attempts`` times.

    A wait longer than ``max_wait`` seconds is not waited out (the update would be answered
    too late to help anyone); the error then propagates and is logged.
    """

    def __init__(
        self,
        *,
        attempts: int = 3,
        max_wait: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._attempts = attempts
        self._max_wait = max_wait
        self._sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Send ``method``; on 429 wait ``retry_after`` seconds and send it again."""
        for attempt in range(1, self._attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt == self._attempts or exc.retry_after > self._max_wait:
                    raise
                logger.warning(
                    "Telegram flood control on %s: waiting %s s (attempt %d of %d)",
                    method.__api_method__, exc.retry_after, attempt, self._attempts,
                )  # fmt: skip
                await self._sleep(float(exc.retry_after))
        raise AssertionError("unreachable")
