"""``/watch [PERCENT] [MINUTES]``, ``/unwatch``, ``/watches``: the on-call watch (PRODUCT.md §10).

Members only, membership checked on every command (the member gate), in a group or a private
chat. A watch is of the caller's account in this chat, one per chat and account: a second
``/watch`` replaces the first and says so. The watch remembers who set it and their language:
what it says in the chat later is in that language. Bad input is one line, the usage line
with the ranges (``bot.chat.arguments.watch_rule``).
"""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.chat import arguments
from bot.chat.caller import Caller, Role, gate
from bot.chat.escaping import Html, fill_html
from bot.settings import Settings
from bot.store import Account, Storage, Watch, WatchStore
from bot.text import Lang, View, commands
from bot.text import catalogue_watch as texts
from bot.text.moments import moment


def make_router() -> Router:
    """A fresh router with the watch commands, behind the member gate."""
    router = gate(Router(name="watch"), Role.MEMBER)

    @router.message(Command("watch", ignore_case=True))
    async def watch(
        message: Message,
        command: CommandObject,
        caller: Caller,
        account: Account,
        store: Storage,
        clock: Callable[[], float],
    ) -> str:
        lang = caller.lang
        percent, minutes = arguments.watch_rule(command.args, commands.usage("watch", lang))
        _, replaced = await WatchStore(store).set_watch(
            message.chat.id,
            account.name,
            percent=percent,
            minutes=minutes,
            set_by=caller.user_id,
            language=lang.value,
            now=clock(),
        )
        lines = [fill_html(texts.WATCH_SET(lang), name=account.name, percent=percent,
                           minutes=minutes)]  # fmt: skip
        if replaced is not None:
            lines.append(
                fill_html(
                    texts.WATCH_REPLACED(lang),
                    name=account.name,
                    percent=replaced.percent,
                    minutes=replaced.minutes,
                )
            )
        await message.answer("\n".join(lines))
        return "replaced" if replaced is not None else "ok"

    @router.message(Command("unwatch", ignore_case=True))
    async def unwatch(message: Message, caller: Caller, account: Account, store: Storage) -> str:
        stopped = await WatchStore(store).unwatch(message.chat.id, account.name)
        line = texts.UNWATCHED if stopped else texts.NOT_WATCHED
        await message.answer(fill_html(line(caller.lang), name=account.name))
        return "ok" if stopped else "none"

    @router.message(Command("watches", ignore_case=True))
    async def watches(
        message: Message,
        caller: Caller,
        store: Storage,
        settings: Settings,
        clock: Callable[[], float],
    ) -> str:
        found = await WatchStore(store).watches_of_chat(message.chat.id)
        lang = caller.lang
        if not found:
            await message.answer(texts.WATCHES_NONE(lang))
            return "none"
        view = View(lang, settings.timezone, clock(), mask_codes=False)
        lines = [texts.WATCHES_HEAD(lang)]
        lines += [
            fill_html(
                texts.WATCHES_LINE(lang),
                name=item.account_name,
                percent=item.percent,
                minutes=item.minutes,
                user_id=item.set_by,
                state=watch_state(item, view),
            )
            for item in found
        ]
        await message.answer("\n".join(lines))
        return "ok"

    return router


def watch_state(watch: Watch, view: View) -> Html:
    """What a watch is doing, for ``/watches``: paused, blind, silenced, or watching."""
    lang: Lang = view.lang
    if watch.paused_at is not None:
        return fill_html(texts.WATCH_STATE_PAUSED(lang), time=moment(watch.paused_at, view))
    if watch.blind_since is not None:
        return fill_html(texts.WATCH_STATE_BLIND(lang), time=moment(watch.blind_since, view))
    if watch.silenced_until is not None and watch.silenced_until > view.now:
        return fill_html(texts.WATCH_STATE_SILENCED(lang), time=moment(watch.silenced_until, view))
    return Html(texts.WATCH_STATE_SEEING(lang))
