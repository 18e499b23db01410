"""Answers still coming: an answer sent now is edited in place when its data lands.

A lookup whose data SMS Center has not given yet is answered at once (held data with its age, or
"asking SMS Center, this message will be updated by 14:07"); its final text follows here. Edits
are paced per chat (Telegram allows about one message a second in a chat) and a final answer
that took over a minute comes as a short reply instead, because an edit does not notify. An
edit Telegram refuses is logged, not retried (the retry middleware has already retried what can
succeed). On shutdown the fetch layer fails every waiting question (``BotStopping``), each
follow-up edits its message to say so, and ``drain`` waits for those edits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup, Message, ReplyParameters

logger = logging.getLogger(__name__)

__all__ = ["EDIT_INTERVAL", "NOTIFY_AFTER", "FinalText", "FollowUps", "edit_in_place"]

# Seconds between two messages the bot sends into one chat: Telegram's per-chat pace.
EDIT_INTERVAL = 1.0
# A final answer that took longer than this comes as a reply (which notifies), not an edit.
NOTIFY_AFTER = 60.0
# What Telegram answers to an edit that changes nothing.
NOT_MODIFIED = "message is not modified"


async def edit_in_place(
    message: Message, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit an answer in place; the same answer again is no change, not an error."""
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if NOT_MODIFIED not in exc.message:
            raise


@dataclass(frozen=True, slots=True)
class FinalText:
    """The final answer of a lookup that was answered early."""

    text: str
    markup: InlineKeyboardMarkup | None = None


class FollowUps:
    """Every answer still coming in this process (handed to handlers as ``followups``)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        notify_after: float = NOTIFY_AFTER,
        interval: float = EDIT_INTERVAL,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._notify_after = notify_after
        self._interval = interval
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_sent: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, sent: Message, final: Awaitable[FinalText]) -> None:
        """Replace ``sent`` with ``final`` when it resolves (or reply, after a long wait)."""
        task = asyncio.create_task(self._follow(sent, final, self._clock()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait(self, within: float) -> int:
        """Wait up to ``within`` seconds (real time) for the follow-ups; how many are left."""
        pending = set(self._tasks)
        if pending:
            await asyncio.wait(pending, timeout=within)
        return len(self._tasks)

    async def drain(self, within: float) -> int:
        """Wait up to ``within`` seconds (real time) for the follow-ups, then cancel the rest;
        returns how many were cancelled."""
        pending = set(self._tasks)
        if not pending:
            return 0
        _, late = await asyncio.wait(pending, timeout=within)
        for task in late:
            task.cancel()
        return len(late)

    async def _follow(self, sent: Message, final: Awaitable[FinalText], asked_at: float) -> None:
        try:
            answer = await final
        except Exception:
            logger.exception("a follow-up answer in chat %s failed", sent.chat.id)
            return
        chat_id = sent.chat.id
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            wait = self._last_sent.get(chat_id, -self._interval) + self._interval - self._clock()
            if wait > 0:
                await self._sleep(wait)
            try:
                if self._clock() - asked_at > self._notify_after:
                    await sent.answer(
                        answer.text,
                        reply_markup=answer.markup,
                        reply_parameters=ReplyParameters(
                            message_id=sent.message_id, allow_sending_without_reply=True
                        ),
                    )
                else:
                    await edit_in_place(sent, answer.text, answer.markup)
            except TelegramAPIError as exc:
                logger.warning("could not update an answer in chat %s: %s", chat_id, exc)
            finally:
                self._last_sent[chat_id] = self._clock()
