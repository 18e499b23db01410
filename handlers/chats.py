"""The bot's chats as they change: a group upgraded to a supergroup keeps its watches, and a
chat the bot was removed from pauses them (PRODUCT.md §10).

Telegram says so in service updates, not commands: a message with ``migrate_to_chat_id`` in
the old group, and ``my_chat_member`` when the bot's own membership changes. Anyone's update
(no role gate): whoever upgraded the group or removed the bot, the watches follow the chat.
Added back, the bot resumes the chat's paused watches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiogram import Bot, F, Router
from aiogram.enums import ChatMemberStatus
from aiogram.types import ChatMemberUpdated, Message

from bot.chat.alerts import pause_watches
from bot.settings import Settings
from bot.store import Storage, WatchStore

logger = logging.getLogger(__name__)

_GONE = frozenset({ChatMemberStatus.LEFT, ChatMemberStatus.KICKED})


def make_router() -> Router:
    """A fresh router for the chats' service updates."""
    router = Router(name="chats")

    @router.message(F.migrate_to_chat_id)
    async def upgraded(message: Message, store: Storage) -> None:
        new_chat_id = message.migrate_to_chat_id
        assert new_chat_id is not None  # the filter
        moved = await WatchStore(store).move_chat(message.chat.id, new_chat_id)
        if moved:
            logger.info(
                "chat %d became %d: %d watch(es) moved", message.chat.id, new_chat_id, moved
            )

    @router.my_chat_member()
    async def membership(
        update: ChatMemberUpdated,
        store: Storage,
        settings: Settings,
        clock: Callable[[], float],
        bot: Bot,
    ) -> None:
        chat = update.chat
        watches = WatchStore(store)
        if update.new_chat_member.status in _GONE:
            title = chat.title or chat.full_name or ""
            paused = await pause_watches(bot, watches, settings, chat.id, title, now=clock())
            if paused:
                logger.info("removed from chat %d: %d watch(es) paused", chat.id, paused)
        elif update.old_chat_member.status in _GONE:
            resumed = await watches.resume_chat(chat.id)
            if resumed:
                logger.info("back in chat %d: %d watch(es) resumed", chat.id, resumed)

    return router
