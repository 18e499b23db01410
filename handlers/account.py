"""Anyone's commands: /start, /help, /whoami, /login, /logout."""

from __future__ import annotations

import contextlib
import html
import logging
from collections.abc import Callable

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from bot.chat.caller import Caller, PrivateChatOnly, Role
from bot.fetch import Fetcher
from bot.settings import Settings
from bot.smsc import SmscBadCredentials, SmscError
from bot.store import Storage
from bot.text import Lang
from bot.text import catalogue as texts
from handlers.errors import describe_error

logger = logging.getLogger(__name__)

_ROLE_NAMES = {
    Role.ADMIN: texts.ROLE_ADMIN,
    Role.MEMBER: texts.ROLE_MEMBER,
    Role.GUEST: texts.ROLE_GUEST,
}
MAX_KEY_LENGTH = 256


def make_router() -> Router:
    """A fresh router with the commands anyone may use."""
    router = Router(name="account")

    @router.message(CommandStart())
    @router.message(Command("help"))
    async def start(message: Message, caller: Caller, settings: Settings) -> None:
        lang = caller.lang
        parts = [texts.START(lang), texts.HELP_LOOKUPS(lang), texts.HELP_ACCOUNT(lang)]
        if settings.allow_self_login:
            parts[-1] += "\n" + texts.HELP_LOGIN(lang)
        if caller.is_admin:
            parts.append(texts.HELP_ADMIN(lang))
        if caller.member is None:
            parts.append(texts.NOT_MEMBER(lang).format(user_id=caller.user_id))
        await message.answer("\n\n".join(parts))

    @router.message(Command("whoami"))
    async def whoami(
        message: Message, caller: Caller, fetcher: Fetcher, settings: Settings
    ) -> None:
        lang = caller.lang
        lines = [
            texts.WHOAMI(lang).format(user_id=caller.user_id, role=_ROLE_NAMES[caller.role](lang))
        ]
        account = caller.account
        if account is not None:
            left = await fetcher.quota_left(account)
            lines.append(
                texts.WHOAMI_ACCOUNT(lang).format(
                    name=html.escape(account.name),
                    fingerprint=account.fingerprint,
                    left=left,
                    limit=settings.smsc_hourly_budget,
                )
            )
        await message.answer("\n".join(lines))

    @router.message(Command("login"))
    async def login(
        message: Message,
        command: CommandObject,
        caller: Caller,
        settings: Settings,
        store: Storage,
        fetcher: Fetcher,
        clock: Callable[[], float],
    ) -> None:
        lang = caller.lang
        apikey = (command.args or "").strip()
        if apikey and not await key_message_is_private(message, lang):
            return
        # Whatever happens next, a message that carries a key does not stay in the chat.
        deleted = await delete_quietly(message) if apikey else False
        if not settings.allow_self_login:
            await message.answer(texts.LOGIN_DISABLED(lang))
            return
        if message.chat.type != ChatType.PRIVATE:
            raise PrivateChatOnly
        if not looks_like_key(apikey):
            await message.answer(texts.USAGE_LOGIN(lang))
            return
        balance = await check_key(message, fetcher, apikey, lang, settings)
        if balance is None:
            return
        member = await store.login(caller.user_id, apikey, now=clock())
        reply = texts.LOGIN_OK(lang).format(
            name=html.escape(member.account.name),
            fingerprint=member.account.fingerprint,
            balance=balance,
        )
        if not deleted:
            reply += "\n" + texts.KEY_NOT_DELETED(lang)
        await message.answer(reply)

    @router.message(Command("logout"))
    async def logout(message: Message, caller: Caller, store: Storage) -> None:
        removed = await store.revoke(caller.user_id)
        await message.answer((texts.LOGOUT_OK if removed else texts.LOGOUT_NONE)(caller.lang))

    return router


def looks_like_key(apikey: str) -> bool:
    """A plausible SMS Center API key: one word of printable characters, not too long."""
    return 0 < len(apikey) <= MAX_KEY_LENGTH and not any(ch.isspace() for ch in apikey)


async def delete_quietly(message: Message) -> bool:
    """Delete a message; False when Telegram refuses (too old, no rights in a group)."""
    try:
        return await message.delete()
    except TelegramAPIError as exc:
        logger.warning("could not delete a message in chat %s: %s", message.chat.id, exc.message)
        return False


async def key_message_is_private(message: Message, lang: Lang) -> bool:
    """For a message carrying a key: True in a private chat. In a group the key is burnt:
    the message is deleted where the bot can, and the sender is told to revoke the key."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    deleted = await delete_quietly(message)
    name = html.escape(message.from_user.full_name) if message.from_user else ""
    warning = texts.KEY_IN_GROUP(lang).format(name=name)
    if not deleted:  # the bot has no right to delete messages in this group
        warning += "\n" + texts.KEY_NOT_DELETED(lang)
    with contextlib.suppress(TelegramAPIError):
        await message.answer(warning)
    return False


async def check_key(
    message: Message, fetcher: Fetcher, apikey: str, lang: Lang, settings: Settings
) -> str | None:
    """Validate ``apikey`` with balance.php: the balance as text, or None after saying why not."""
    try:
        balance = await fetcher.check_key(message.from_user.id if message.from_user else 0, apikey)
    except SmscBadCredentials:
        await message.answer(texts.KEY_REFUSED(lang))
        return None
    except SmscError as exc:
        reason = describe_error(exc, lang, settings)
        await message.answer(texts.KEY_UNCHECKED(lang).format(reason=reason))
        return None
    return f"{balance:.2f}"
