"""``/watch [PERCENT] [MINUTES]``, ``/unwatch``, ``/watches`` and the buttons under an alert
("Silence 1 h", "Details"): the on-call watch (PRODUCT.md §10).

Members only, membership checked on every command (the member gate), in a group or a private
chat. A watch is of the caller's account in this chat, one per chat and account: a second
``/watch`` replaces the first and says so. The watch remembers who set it and their language:
what it says in the chat later is in that language. Bad input is one line, the usage line
with the ranges (``bot.chat.arguments.watch_rule``). A button press needs membership of the
watch's account, checked on the press; its answer goes to the chat as a new message in the
watch's language, so everyone there sees who silenced it.
"""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.chat import arguments
from bot.chat.alerts import PressAction, WatchPress, watch_view
from bot.chat.caller import Caller, Role, gate
from bot.chat.escaping import Html, fill_html
from bot.settings import Settings
from bot.store import Account, Storage, Watch, WatchStore
from bot.text import Lang, View, commands
from bot.text import catalogue_watch as texts
from bot.text.alerts import render_details
from bot.text.moments import moment
from bot.watch.runner import WatchRunner

#: How long "Silence 1 h" silences.
SILENCE_FOR = 3600.0
#: Data this fresh is "current" in ``/watches`` (a look every 30 s, pushes within moments).
CURRENT_WITHIN = 60.0


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
        watch_runner: WatchRunner,
    ) -> str:
        watches = WatchStore(store)
        found = await watches.watches_of_chat(message.chat.id)
        lang = caller.lang
        if not found:
            await message.answer(texts.WATCHES_NONE(lang))
            return "none"
        view = View(lang, settings.timezone, clock(), mask_codes=False)
        lines = [texts.WATCHES_HEAD(lang)]
        for item in found:
            state = watch_state(item, view, watch_runner.data_as_of(item))
            incident = await watches.open_incident(item.id)
            if (
                incident is not None
                and incident.alerted_at is not None
                and incident.quiet_since is None
            ):
                firing = texts.WATCH_STATE_FIRING(lang)
                state = fill_html(firing + " · {state}", time=moment(incident.started_at, view),
                                  state=state)  # fmt: skip
            lines.append(
                fill_html(
                    texts.WATCHES_LINE(lang),
                    name=item.account_name,
                    percent=item.percent,
                    minutes=item.minutes,
                    user_id=item.set_by,
                    state=state,
                )
            )
        await message.answer("\n".join(lines))
        return "ok"

    @router.callback_query(WatchPress.filter())
    async def press(
        callback: CallbackQuery,
        callback_data: WatchPress,
        caller: Caller,
        account: Account,
        store: Storage,
        settings: Settings,
        clock: Callable[[], float],
        watch_runner: WatchRunner,
        bot: Bot,
    ) -> str:
        lang = caller.lang
        watches = WatchStore(store)
        watch = await watches.get_watch(callback_data.watch)
        if watch is None:
            await callback.answer(texts.WATCH_GONE(lang), show_alert=True)
            return "refused:gone"
        if watch.account_id != account.id:
            await callback.answer(texts.NOT_THIS_ACCOUNT(lang), show_alert=True)
            return "refused:account"
        now = clock()
        view = watch_view(watch, settings, now)
        if callback_data.action is PressAction.SILENCE:
            until = now + SILENCE_FOR
            await watches.mark(watch.id, blind_since=watch.blind_since, silenced_until=until)
            await callback.answer(texts.SILENCED_TOAST(lang))
            line = fill_html(
                texts.SILENCED(view.lang),
                name=watch.account_name,
                time=moment(until, view),
                user_id=caller.user_id,
            )
            await bot.send_message(watch.chat_id, line)
            return "silenced"
        await callback.answer()
        since = float(callback_data.since) or now - watch.minutes * 60.0
        counts = watch_runner.details(watch, since)
        await bot.send_message(watch.chat_id, render_details(counts, watch.account_name, view))
        return "details"

    return router


def watch_state(watch: Watch, view: View, as_of: float | None) -> Html:
    """What a watch is doing, for ``/watches``: paused, blind, silenced, or how current its
    data is (``as_of``: until when; None: no data yet)."""
    lang: Lang = view.lang
    if watch.paused_at is not None:
        return fill_html(texts.WATCH_STATE_PAUSED(lang), time=moment(watch.paused_at, view))
    if watch.blind_since is not None:
        return fill_html(texts.WATCH_STATE_BLIND(lang), time=moment(watch.blind_since, view))
    if watch.silenced_until is not None and watch.silenced_until > view.now:
        return fill_html(texts.WATCH_STATE_SILENCED(lang), time=moment(watch.silenced_until, view))
    if as_of is None:
        return Html(texts.WATCH_STATE_NOT_YET(lang))
    if view.now - as_of > CURRENT_WITHIN:
        return fill_html(texts.WATCH_STATE_STALE(lang), time=moment(as_of, view))
    return Html(texts.WATCH_STATE_SEEING(lang))
