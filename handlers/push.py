"""``/push NAME [new | off]``: status pushes from SMS Center for an account (PRODUCT.md §9).

Admins only, in a private chat only. ``/push NAME`` answers with the handler URL to paste into
SMS Center, ``{PUBLIC_URL}/smsc/NAME?charset=utf-8&md5=SECRET`` (a secret is made the first
time; asked again, the same URL): the one place the bot shows a secret, and that answer is
deleted after ``SECRET_SHOWN_FOR`` (at once if the bot stops first). ``new`` makes a new
secret (the old one is accepted for an hour more), ``off`` forgets it.

``/push NAME relay URL`` (``off`` for the URL stops it): verified pushes are passed on to
another system's handler URL, re-signed (``bot.web.relay``). The message carries that system's
secret, so it is handled like a key (``bot.chat.keys``): burnt in a group, deleted in private.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.chat import arguments
from bot.chat.caller import Caller, PrivateChatOnly, Role, gate
from bot.chat.escaping import fill_html
from bot.chat.expiring import ExpiringMessages
from bot.chat.keys import CARRIES_KEY, KeyMessages
from bot.settings import Settings
from bot.smsc.push import split_handler_url
from bot.store import NoSuchAccount, PushStore, Storage
from bot.text import catalogue as texts
from bot.text import commands
from bot.web.pushes import PushKeys

#: Seconds the answer that shows a push secret stays in the chat.
SECRET_SHOWN_FOR = 600.0
ACTIONS = ("", "new", "off")
# "/push NAME relay …", with or without the bot's @name.
RELAY = r"(?is)^/push(@\w+)?\s+\S+\s+relay\b"


def new_push_secret() -> str:
    """A push secret: 32 url-safe characters (it travels in a URL's query string)."""
    return secrets.token_urlsafe(24)


def make_router() -> Router:
    """A fresh router with ``/push``, gated for admins."""
    router = Router(name="push")
    router.message.middleware(KeyMessages())  # before the gate: a relay URL holds a secret
    gate(router, Role.ADMIN)

    @router.message(Command("push"), F.text.regexp(RELAY), flags={CARRIES_KEY: True})
    async def relay(
        message: Message,
        command: CommandObject,
        caller: Caller,
        store: Storage,
        push_keys: PushKeys,
        key_deleted: bool = False,
    ) -> None:
        lang = caller.lang
        if message.chat.type != ChatType.PRIVATE:
            raise PrivateChatOnly
        name_text, rest = arguments.split_first(command.args)
        name = arguments.account_name(name_text, texts.PUSH_RELAY_USAGE(lang))
        url = rest.split(None, 1)[1].strip() if len(rest.split(None, 1)) == 2 else ""
        stop = url.lower() == "off"
        if not stop:
            try:
                split_handler_url(url)
            except ValueError:
                raise arguments.BadArgument(texts.PUSH_RELAY_USAGE(lang)) from None
            if not url.lower().startswith(("http://", "https://")):
                raise arguments.BadArgument(texts.PUSH_RELAY_USAGE(lang))
        account = await store.get_account(name)
        if account is None:
            raise NoSuchAccount(name)
        if not await PushStore(store).set_relay(account.name, None if stop else url):
            await message.answer(fill_html(texts.PUSH_RELAY_NEEDS_PUSHES(lang), name=account.name))
            return
        await push_keys.reload()
        if stop:
            reply: str = fill_html(texts.PUSH_RELAY_OFF(lang), name=account.name)
        else:
            host = urlsplit(url).netloc
            reply = fill_html(texts.PUSH_RELAY_ON(lang), name=account.name, host=host)
        if not key_deleted:
            reply += "\n" + texts.PUSH_RELAY_NOT_DELETED(lang)
        await message.answer(reply)

    @router.message(Command("push"))
    async def push(
        message: Message,
        command: CommandObject,
        caller: Caller,
        store: Storage,
        settings: Settings,
        push_keys: PushKeys,
        expiring: ExpiringMessages,
        clock: Callable[[], float],
    ) -> None:
        lang = caller.lang
        if message.chat.type != ChatType.PRIVATE:
            raise PrivateChatOnly
        usage = commands.usage("push", lang)
        name_text, action = arguments.split_first(command.args)
        name = arguments.account_name(name_text, usage)
        action = action.strip().split(" ", 1)[0].lower()
        if action not in ACTIONS:
            raise arguments.BadArgument(usage)
        account = await store.get_account(name)
        if account is None:
            raise NoSuchAccount(name)
        pushes = PushStore(store)
        if action == "off":
            forgot = await pushes.forget_secret(account.name)
            await push_keys.reload()
            line = texts.PUSH_OFF if forgot else texts.PUSH_WAS_OFF
            await message.answer(fill_html(line(lang), name=account.name))
            return
        if settings.public_url is None or settings.http_listen is None:
            await message.answer(texts.PUSH_NEEDS_PUBLIC_URL(lang))
            return
        held = push_keys.get(account.name)
        if held is None or action == "new":
            await pushes.set_secret(account.name, new_push_secret(), now=clock())
            await push_keys.reload()
            held = push_keys.get(account.name)
            assert held is not None
        url = f"{settings.public_url}/smsc/{account.name}?charset=utf-8&md5={held.current}"
        text: str = fill_html(texts.PUSH_URL(lang), name=account.name, url=url)
        if action == "new":
            text = texts.PUSH_ROTATED(lang) + "\n" + text
        sent = await message.answer(text)
        expiring.delete_after(sent, SECRET_SHOWN_FOR)

    return router
