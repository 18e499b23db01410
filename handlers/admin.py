"""Admin commands: /addkey, /delkey, /keys, /grant, /revoke, /users, /audit."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.chat.caller import BadArgument, Caller, PrivateChatOnly, require_admin
from bot.fetch import Fetcher
from bot.settings import Settings
from bot.store import AccountExists, NoSuchAccount, Storage
from bot.text import catalogue as texts
from handlers.account import check_key, delete_quietly, key_message_is_private, looks_like_key

ACCOUNT_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
AUDIT_DEFAULT, AUDIT_MAX = 20, 100


def make_router() -> Router:
    """A fresh router with the admin commands; each checks the caller's role first."""
    router = Router(name="admin")

    @router.message(Command("addkey"))
    async def addkey(
        message: Message,
        command: CommandObject,
        caller: Caller,
        settings: Settings,
        store: Storage,
        fetcher: Fetcher,
        clock: Callable[[], float],
    ) -> None:
        lang = caller.lang
        args = (command.args or "").strip()
        name, _, apikey = args.partition(" ")
        apikey = apikey.strip()
        # Any argument may be a key, one typed without a name too ("/addkey KEY"). A key in a
        # group is burnt whoever sent it; a key from a non-admin is deleted unused.
        if args and not await key_message_is_private(message, lang):
            return
        if args and not caller.is_admin:
            await delete_quietly(message)
        require_admin(caller)
        if message.chat.type != ChatType.PRIVATE:
            raise PrivateChatOnly
        if not ACCOUNT_NAME.fullmatch(name) or not looks_like_key(apikey):
            if args:
                await delete_quietly(message)
            raise BadArgument(texts.USAGE_ADDKEY(lang))
        deleted = await delete_quietly(message)
        if await store.get_account(name) is not None:
            raise BadArgument(texts.ADDKEY_EXISTS(lang).format(name=name))
        balance = await check_key(message, fetcher, apikey, lang, settings)
        if balance is None:
            return
        try:
            account = await store.add_account(name, apikey, added_by=caller.user_id, now=clock())
        except AccountExists:
            raise BadArgument(texts.ADDKEY_EXISTS(lang).format(name=name)) from None
        reply = texts.ADDKEY_OK(lang).format(
            name=account.name, fingerprint=account.fingerprint, balance=balance
        )
        if not deleted:
            reply += "\n" + texts.KEY_NOT_DELETED(lang)
        await message.answer(reply)

    @router.message(Command("delkey"))
    async def delkey(
        message: Message, command: CommandObject, caller: Caller, store: Storage
    ) -> None:
        require_admin(caller)
        name = (command.args or "").strip()
        if not ACCOUNT_NAME.fullmatch(name):
            raise BadArgument(texts.USAGE_DELKEY(caller.lang))
        members = await store.delete_account(name)
        if members is None:
            raise BadArgument(texts.NO_SUCH_ACCOUNT(caller.lang).format(name=name))
        await message.answer(texts.DELKEY_OK(caller.lang, members, name=name))

    @router.message(Command("keys"))
    async def keys(message: Message, caller: Caller, store: Storage) -> None:
        require_admin(caller)
        lang = caller.lang
        accounts = await store.list_accounts()
        if not accounts:
            await message.answer(texts.KEYS_EMPTY(lang))
            return
        lines = [texts.KEYS_HEADER(lang)]
        for account, members in accounts:
            personal = texts.KEYS_PERSONAL(lang) if account.personal else ""
            lines.append(
                texts.KEYS_LINE(
                    lang,
                    members,
                    name=html.escape(account.name),
                    fingerprint=account.fingerprint,
                    personal=personal,
                )
            )
        await message.answer(_fit_lines(lines))

    @router.message(Command("grant"))
    async def grant(
        message: Message,
        command: CommandObject,
        caller: Caller,
        store: Storage,
        clock: Callable[[], float],
    ) -> None:
        require_admin(caller)
        lang = caller.lang
        user_text, _, name = (command.args or "").strip().partition(" ")
        name = name.strip()
        user_id = _user_id(user_text)
        if user_id is None or not ACCOUNT_NAME.fullmatch(name):
            raise BadArgument(texts.USAGE_GRANT(lang))
        try:
            await store.grant(user_id, name, granted_by=caller.user_id, now=clock())
        except NoSuchAccount:
            raise BadArgument(texts.NO_SUCH_ACCOUNT(lang).format(name=name)) from None
        await message.answer(texts.GRANT_OK(lang).format(user_id=user_id, name=name))

    @router.message(Command("revoke"))
    async def revoke(
        message: Message, command: CommandObject, caller: Caller, store: Storage
    ) -> None:
        require_admin(caller)
        user_id = _user_id((command.args or "").strip())
        if user_id is None:
            raise BadArgument(texts.USAGE_REVOKE(caller.lang))
        line = texts.REVOKE_OK if await store.revoke(user_id) else texts.REVOKE_NONE
        await message.answer(line(caller.lang).format(user_id=user_id))

    @router.message(Command("users"))
    async def users(message: Message, caller: Caller, store: Storage, settings: Settings) -> None:
        require_admin(caller)
        lang = caller.lang
        members = await store.list_members()
        if not members:
            await message.answer(texts.USERS_EMPTY(lang))
            return
        lines = [texts.USERS_HEADER(lang)]
        for member in members:
            how = (
                texts.USERS_SELF(lang)
                if member.granted_by is None
                else texts.USERS_GRANTED(lang).format(by=member.granted_by)
            )
            lines.append(
                texts.USERS_LINE(lang).format(
                    user_id=member.user_id,
                    name=html.escape(member.account.name),
                    how=how,
                    when=_date(member.granted_at, settings),
                )
            )
        await message.answer(_fit_lines(lines))

    @router.message(Command("audit"))
    async def audit(
        message: Message,
        command: CommandObject,
        caller: Caller,
        store: Storage,
        settings: Settings,
    ) -> None:
        require_admin(caller)
        lang = caller.lang
        text = (command.args or "").strip()
        count = AUDIT_DEFAULT
        if text:
            if not (text.isascii() and text.isdigit() and len(text) <= 3):
                raise BadArgument(texts.USAGE_AUDIT(lang).format(max=AUDIT_MAX))
            count = int(text)
            if not 1 <= count <= AUDIT_MAX:
                raise BadArgument(texts.USAGE_AUDIT(lang).format(max=AUDIT_MAX))
        entries = await store.recent_audit(count)
        if not entries:
            await message.answer(texts.AUDIT_EMPTY(lang))
            return
        lines = [texts.AUDIT_HEADER(lang, len(entries))]
        for entry in entries:
            lines.append(
                texts.AUDIT_LINE(lang).format(
                    when=_date(entry.at, settings),
                    user_id=entry.user_id,
                    chat=entry.chat_id,
                    command=html.escape(entry.command),
                    argument=html.escape(entry.argument),
                    outcome=html.escape(entry.outcome),
                )
            )
        await message.answer(_fit_lines(lines))

    return router


def _user_id(text: str) -> int | None:
    if text.isascii() and text.isdigit() and 0 < len(text) <= 15:
        return int(text)
    return None


def _date(ts: float, settings: Settings) -> str:
    return datetime.fromtimestamp(ts, settings.timezone).strftime("%d.%m %H:%M")


def _fit_lines(lines: list[str], limit: int = 4096) -> str:
    """Whole lines up to Telegram's limit, with "…" when some had to be left out."""
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit - 2:
            kept.append("…")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)
