"""A per-chat bound on the bot's own messages in groups (PRODUCT.md §7).

Answers the picture gives without a request do not count against the per-user guard, so one
person could otherwise make the bot post a hundred held answers into a group in a minute —
past Telegram's own limit for a bot in a group (about 20 messages a minute), and a flood for
everyone else there. ``ChatBound`` counts the messages the bot *sends* to each group chat (a
token bucket of ``count`` per ``window``, refilled evenly), seen by a request middleware on the
bot's session; an update from a group whose bucket is empty is not handled, and the chat is
told once, in one line, when the bot answers again. Updates that make the bot send nothing
(refused strangers told once a minute, for instance) cost nothing. Private chats are not bounded
here: the per-user guard and Telegram's pace of edits cover them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, TelegramObject, Update
from cachetools import TTLCache

from bot.chat.caller import Caller
from bot.settings import Settings
from bot.text import catalogue as texts
from bot.text import lang_for

if TYPE_CHECKING:
    from aiogram import Bot

logger = logging.getLogger(__name__)

__all__ = ["CHAT_COUNT", "CHAT_WINDOW", "ChatBound"]

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# Telegram lets a bot send about 20 messages a minute to one group.
CHAT_COUNT: Final = 20
CHAT_WINDOW: Final = 60.0
GROUP_TYPES: Final = frozenset({"group", "supergroup"})


class ChatBound(BaseMiddleware):
    """An update outer middleware: an update from a group chat is handled only while the bot
    has sent fewer than ``count`` messages there in the last ``window`` seconds (a bucket)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        count: int = CHAT_COUNT,
        window: float = CHAT_WINDOW,
        max_chats: int = 10_000,
    ) -> None:
        self._capacity = float(count)
        self._rate = count / window
        self._clock = clock
        # chat id → (messages the bot may still send, when counted, whether the chat was told);
        # a chat quiet for a whole window is full again, so forgetting it loses nothing.
        self._chats: TTLCache[int, tuple[float, float, bool]] = TTLCache(
            maxsize=max_chats, ttl=window, timer=clock
        )
        self._counting: set[int] = set()  # ids of the bot sessions whose sends are counted

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        bot: Bot | None = data.get("bot")
        if bot is not None and id(bot.session) not in self._counting:
            bot.session.middleware(_CountSends(self))
            self._counting.add(id(bot.session))
        chat: Chat | None = data.get("event_chat")
        if chat is None or chat.type not in GROUP_TYPES or not isinstance(event, Update):
            return await handler(event, data)
        tokens, told = self._tokens(chat.id)
        if tokens >= 1.0:
            return await handler(event, data)
        logger.info("the bot's messages to chat %s are at their bound: update dropped", chat.id)
        if not told and event.message is not None:
            self._chats[chat.id] = (tokens, self._clock(), True)
            settings: Settings = data["settings"]
            caller: Caller | None = data.get("caller")
            lang = caller.lang if caller is not None else lang_for(None)
            at = math.ceil(self._clock() + (1.0 - tokens) / self._rate)
            time = datetime.fromtimestamp(at, settings.timezone).strftime("%H:%M:%S")
            await event.message.answer(texts.CHAT_BOUND(lang).format(time=time))
        return None

    def sent(self, chat_id: int) -> None:
        """The bot sent a message to ``chat_id`` (a group's id is negative)."""
        tokens, told = self._tokens(chat_id)
        self._chats[chat_id] = (max(tokens - 1.0, -1.0), self._clock(), told and tokens < 1.0)

    def _tokens(self, chat_id: int) -> tuple[float, bool]:
        now = self._clock()
        tokens, last, told = self._chats.get(chat_id, (self._capacity, now, False))
        return min(self._capacity, tokens + (now - last) * self._rate), told


class _CountSends(BaseRequestMiddleware):
    """Tells ``ChatBound`` of every message the bot sends to a group (``send*`` methods)."""

    def __init__(self, bound: ChatBound) -> None:
        self._bound = bound

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id = getattr(method, "chat_id", None)
        if type(method).__name__.startswith("Send") and isinstance(chat_id, int) and chat_id < 0:
            self._bound.sent(chat_id)
        return await make_request(bot, method)
