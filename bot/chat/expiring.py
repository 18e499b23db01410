"""Messages the bot deletes after a while: the one ``/push`` reply that shows a push secret.

``delete_after`` deletes a sent message once ``seconds`` have passed on the injected clock's
``sleep``. At shutdown ``close`` deletes every one still waiting at once, so a secret never
outlives the process that was meant to delete it. A message someone deleted already is fine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message

logger = logging.getLogger(__name__)


class ExpiringMessages:
    """Sent messages waiting to be deleted (handed to handlers as ``expiring``)."""

    def __init__(self, *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._sleep = sleep
        self._waiting: dict[asyncio.Task[None], Message] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def delete_after(self, message: Message, seconds: float) -> None:
        """Delete ``message`` once ``seconds`` have passed."""
        task = asyncio.create_task(self._expire(message, seconds))
        self._waiting[task] = message
        task.add_done_callback(lambda done: self._waiting.pop(done, None))

    async def _expire(self, message: Message, seconds: float) -> None:
        await self._sleep(seconds)
        await _delete(message)

    async def close(self) -> None:
        """Delete every waiting message now (shutdown)."""
        waiting = dict(self._waiting)
        self._waiting.clear()
        for task, message in waiting.items():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await _delete(message)


async def _delete(message: Message) -> None:
    try:
        await message.delete()
    except TelegramAPIError as exc:
        logger.warning("could not delete a message that shows a secret: %s", exc.message)
