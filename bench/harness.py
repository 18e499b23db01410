"""The bot as ``python -m bot`` builds it, pointed at a simulated SMS Center and a Bot API server.

The same parts as ``tests/harness.py``'s ``running_bot``: ``Services.open`` → ``make_dispatcher``
→ ``make_bot``; updates are fed to the Dispatcher as polling would hand them over.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher

from bot.app import Services, make_dispatcher
from bot.chat.telegram import make_bot
from bot.fetch.batcher import GATHER
from bot.settings import RateLimit, load_settings

ADMIN = 1
# The per-user guard still runs, but lets every update through: the overhead and memory figures
# feed thousands of updates while the clock stands still (or in a few seconds of real time).
WIDE_GUARD = RateLimit(1_000_000_000, 60.0)


@dataclass
class RunningBot:
    """One bot: its services, Dispatcher and ``Bot``."""

    services: Services
    dispatcher: Dispatcher
    bot: Bot

    async def feed(self, update: dict[str, Any]) -> None:
        """Handle one update to the end, as polling would."""
        await self.dispatcher.feed_raw_update(self.bot, update)


@asynccontextmanager
async def running_bot(
    *,
    database: Path,
    smsc_url: str,
    telegram_url: str,
    token: str,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    gather: float = GATHER,
    **overrides: Any,
) -> AsyncIterator[RunningBot]:
    """Open the bot's services on ``database`` and close them afterwards; ``clock`` and
    ``sleep`` are the time the bot lives in (a fake clock's in simulated hours)."""
    values: dict[str, Any] = {
        "bot_token": token,
        "telegram_api_url": telegram_url,
        "smsc_base_url": smsc_url,
        "database_path": database,
        "admin_ids": frozenset({ADMIN}),
    }
    values.update(overrides)
    settings = load_settings(None, **values)
    services = await Services.open(settings, clock=clock, sleep=sleep, gather=gather)
    bot = make_bot(token, telegram_url)
    try:
        yield RunningBot(services, make_dispatcher(services), bot)
    finally:
        await services.fetcher.close()
        await bot.session.close()
        await services.close()
