"""Anyone's commands: /start, /help, /whoami, /login, /logout."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from bot.chat import arguments
from bot.chat.access import no_access_line
from bot.chat.caller import Caller, PrivateChatOnly, Role
from bot.chat.escaping import Html, fill_html
from bot.chat.keys import CARRIES_KEY, KeyMessages, check_key
from bot.fetch import Fetcher
from bot.settings import Settings
from bot.store import Storage
from bot.text import catalogue as texts
from bot.text import commands, money

_ROLE_NAMES = {
    Role.ADMIN: texts.ROLE_ADMIN,
    Role.MEMBER: texts.ROLE_MEMBER,
    Role.GUEST: texts.ROLE_GUEST,
}


def make_router() -> Router:
    """A fresh router with the commands anyone may use."""
    router = Router(name="account")
    router.message.middleware(KeyMessages())

    @router.message(CommandStart())
    @router.message(Command("help"))
    async def start(message: Message, caller: Caller, settings: Settings, store: Storage) -> None:
        lang = caller.lang
        self_login = settings.allow_self_login
        member = caller.member is not None
        parts = [texts.START(lang)]
        parts += commands.help_sections(
            lang, admin=caller.is_admin, self_login=self_login, member=member
        )
        if not member:
            accounts = await store.account_names() if caller.is_admin else []
            parts.append(no_access_line(caller, self_login=self_login, accounts=accounts))
        await message.answer("\n\n".join(parts))

    @router.message(Command("whoami"))
    async def whoami(
        message: Message, caller: Caller, fetcher: Fetcher, settings: Settings
    ) -> None:
        lang = caller.lang
        role = Html(_ROLE_NAMES[caller.role](lang))
        lines = [fill_html(texts.WHOAMI(lang), user_id=caller.user_id, role=role)]
        account = caller.account
        if account is not None:
            lines.append(
                fill_html(
                    texts.WHOAMI_ACCOUNT(lang),
                    name=account.name,
                    fingerprint=account.fingerprint,
                    left=await fetcher.quota_left(account),
                    limit=settings.smsc_hourly_budget,
                )
            )
            mine, share = fetcher.share_left(account, caller.user_id)
            lines.append(fill_html(texts.WHOAMI_SHARE(lang), left=mine, share=share))
        await message.answer("\n".join(lines))

    @router.message(Command("login"), flags={CARRIES_KEY: True})
    async def login(
        message: Message,
        command: CommandObject,
        caller: Caller,
        settings: Settings,
        store: Storage,
        fetcher: Fetcher,
        clock: Callable[[], float],
        key_deleted: bool = False,
    ) -> None:
        lang = caller.lang
        if not settings.allow_self_login:
            await message.answer(texts.LOGIN_DISABLED(lang))
            return
        if message.chat.type != ChatType.PRIVATE:
            raise PrivateChatOnly
        apikey = arguments.api_key(
            (command.args or "").strip(), commands.usage("login", lang), lang
        )
        balance = await check_key(fetcher, caller.user_id, apikey)
        member = await store.login(caller.user_id, apikey, now=clock())
        reply: str = fill_html(
            texts.LOGIN_OK(lang),
            name=member.account.name,
            fingerprint=member.account.fingerprint,
            balance=money(balance, lang),
        )
        if not key_deleted:
            reply += "\n" + texts.KEY_NOT_DELETED(lang)
        await message.answer(reply)

    @router.message(Command("logout"))
    async def logout(message: Message, caller: Caller, store: Storage) -> None:
        removed = await store.revoke(caller.user_id)
        await message.answer((texts.LOGOUT_OK if removed else texts.LOGOUT_NONE)(caller.lang))

    return router
