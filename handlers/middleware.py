"""Update outer middlewares of the dispatcher: edits read as new messages, and the updates in
flight (so that shutdown lets them finish)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

logger = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class EditsAsNew(BaseMiddleware):
    """An edited message is handled like a new one (an update outer middleware).

    Someone who fixes a typo in ``/last 7999…`` by editing it expects the answer to the corrected
    question; an edited ``/login`` with a key gets its message deleted like a new one. The answer
    is a new message, as for any command. Polling must ask Telegram for ``edited_message``
    updates for this to work: see ``bot.app.update_types``.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update) and event.edited_message is not None and event.message is None:
            event = event.model_copy(
                update={"message": event.edited_message, "edited_message": None}
            )
        return await handler(event, data)


class InFlight(BaseMiddleware):
    """Track updates being handled, so that shutdown can let them finish (SIGTERM: in-flight
    answers are still sent before the database closes)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        task = asyncio.current_task()
        if task is None:
            return await handler(event, data)
        self._tasks.add(task)
        try:
            return await handler(event, data)
        finally:
            self._tasks.discard(task)

    async def drain(self, within: float) -> int:
        """Wait up to ``within`` seconds for updates in flight; returns how many were left."""
        pending = {task for task in self._tasks if task is not asyncio.current_task()}
        if not pending:
            return 0
        _, still = await asyncio.wait(pending, timeout=within)
        return len(still)
