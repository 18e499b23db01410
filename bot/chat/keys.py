"""SMS Center API keys sent in a chat (``/login KEY``, ``/addkey NAME KEY``): a message that
carries a key does not stay in the chat, and a key is checked with SMS Center before it is saved.

A handler flagged ``CARRIES_KEY`` gets ``KeyMessages`` in front of it, before any role check:
in a group the key is burnt (the message deleted where the bot can, the sender told to revoke
it) and the handler never runs; in a private chat the message is deleted and the handler is
told whether that worked (``key_deleted``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import CommandObject
from aiogram.types import Message, TelegramObject

from bot.chat.caller import Caller
from bot.chat.escaping import fill_html
from bot.fetch import Fetcher
from bot.smsc import SmscBadCredentials, SmscError
from bot.text import Lang
from bot.text import catalogue as texts

logger = logging.getLogger(__name__)

CARRIES_KEY = "carries_key"  # the handler flag: ``flags={CARRIES_KEY: True}``

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class KeyRefused(Exception):
    """SMS Center did not accept the key (error 2); nothing was saved."""


class KeyUnchecked(Exception):
    """The key could not be checked with SMS Center (``reason``); nothing was saved."""

    def __init__(self, reason: SmscError) -> None:
        super().__init__(f"key not checked: {type(reason).__name__}")
        self.reason = reason


async def delete_quietly(message: Message) -> bool:
    """Delete a message; False when Telegram refuses (too old, no rights in a group)."""
    try:
        return await message.delete()
    except TelegramAPIError as exc:
        logger.warning("could not delete a message in chat %s: %s", message.chat.id, exc.message)
        return False


async def burn(message: Message, lang: Lang) -> None:
    """A key sent in a group is seen by everyone: delete the message where the bot can, and
    tell the sender the key was not used and must be revoked."""
    deleted = await delete_quietly(message)
    name = message.from_user.full_name if message.from_user else ""
    warning: str = fill_html(texts.KEY_IN_GROUP(lang), name=name)
    if not deleted:  # the bot has no right to delete messages in this group
        warning += "\n" + texts.KEY_NOT_DELETED(lang)
    with contextlib.suppress(TelegramAPIError):
        await message.answer(warning)


async def check_key(fetcher: Fetcher, user_id: int, apikey: str) -> Decimal:
    """The key's balance to the kopeck (cent), after SMS Center accepted it (shown with
    ``bot.text.money``, in the reader's language).

    Raises ``KeyRefused`` or ``KeyUnchecked``; the fetch layer's own refusals (key checks
    paused) pass through.
    """
    try:
        balance = await fetcher.check_key(user_id, apikey)
    except SmscBadCredentials:
        raise KeyRefused from None
    except SmscError as exc:
        raise KeyUnchecked(exc) from exc
    return balance.quantize(Decimal("0.01"))


class KeyMessages(BaseMiddleware):
    """An inner middleware for handlers flagged ``CARRIES_KEY``: burn a key sent in a group,
    delete one sent in private and hand the handler ``key_deleted``.

    Any argument may be a key, one typed without a name too ("/addkey KEY"), and whoever sent
    it: the check runs before the role gate, so a key from a non-admin is deleted unused too.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Message) or not get_flag(data, CARRIES_KEY):
            return await handler(event, data)
        command: CommandObject | None = data.get("command")
        if command is None or not (command.args or "").strip():
            return await handler(event, data)
        caller: Caller | None = data.get("caller")
        if event.chat.type != ChatType.PRIVATE:
            await burn(event, caller.lang if caller is not None else Lang.EN)
            return None
        data["key_deleted"] = await delete_quietly(event)
        return await handler(event, data)
