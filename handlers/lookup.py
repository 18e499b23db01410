"""Lookups: /last, a bare number, /history, /recent, /failed, /status, and their buttons; the
hints that answer any other message in a private chat (a number in a sentence gets a button).

Only members reach these handlers (the member gate hands each its ``account``). Each parses its
argument into a ``Query``, and ``Lookups.answer`` runs it through the fetch layer and renders
it; the buttons carry the same ``Query`` back. Errors (bad argument, no access, limits, SMS
Center failures) are raised and answered by ``handlers/errors.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.chat_action import ChatActionSender

from bot.chat import arguments
from bot.chat.arguments import BadArgument
from bot.chat.audit import AuditMiddleware
from bot.chat.caller import Caller, Role, gate
from bot.chat.escaping import fill_html
from bot.chat.followups import FinalText, FollowUps, edit_in_place
from bot.chat.press import PressAnswered
from bot.chat.queries import (
    FAILED_DEFAULT,
    FAILED_MAX,
    HISTORY_DEFAULT,
    RECENT_DEFAULT,
    RECENT_MAX,
    ChartButton,
    Kind,
    LookupButton,
    Query,
    button_query,
    pack,
)
from bot.fetch import PHONE_HISTORY_COUNT, PROMPT, Answer, BotStopping, Fetcher, settled_within
from bot.settings import Settings
from bot.smsc import HistoryEntry
from bot.store import Account
from bot.text import (
    Lang,
    View,
    as_of_phrase,
    commands,
    format_phone,
    looks_like_phone,
    phone_in_sentence,
    render_failed,
    render_history,
    render_last,
    render_pending,
    render_recent,
    render_restarted,
    render_status,
    with_pushed,
)
from bot.text import catalogue as texts
from bot.text.codes import FAILURE_STATUSES

# "typing…" shows only when an answer takes longer than this: a cached answer needs no
# indicator, and an extra Bot API call per lookup would cost more than it tells.
TYPING_AFTER = 0.3
# A button press is answered with its toast when the answer is ready within this (seconds);
# otherwise at once without one, so the button's spinner never turns for long.
PRESS_ANSWER_WITHIN = 2.0


def make_router() -> Router:
    """A fresh router with every lookup handler: the members' handlers behind the member gate,
    buttons no handler of ours knows answered to anyone, all of it written to the audit log."""
    members = gate(Router(name="lookup.members"), Role.MEMBER)

    @members.message(Command("last", ignore_case=True))
    async def last(
        message: Message,
        command: CommandObject,
        caller: Caller,
        account: Account,
        lookups: Lookups,
        bot: Bot,
        followups: FollowUps,
    ) -> str:
        if not command.args:
            raise BadArgument(commands.usage("last", caller.lang))
        query = Query(Kind.LAST, phone=arguments.phone(command.args, "last", caller.lang))
        return await _reply(message, query, caller, account, lookups, bot, followups)

    @members.message(F.chat.type == ChatType.PRIVATE, F.text.func(looks_like_phone))
    async def bare_number(
        message: Message,
        caller: Caller,
        account: Account,
        lookups: Lookups,
        bot: Bot,
        followups: FollowUps,
    ) -> str:
        query = Query(Kind.LAST, phone=arguments.phone(message.text or "", "last", caller.lang))
        return await _reply(message, query, caller, account, lookups, bot, followups)

    @members.message(Command("history", ignore_case=True))
    async def history(
        message: Message,
        command: CommandObject,
        caller: Caller,
        account: Account,
        lookups: Lookups,
        bot: Bot,
        followups: FollowUps,
    ) -> str:
        phone, count = arguments.phone_and_count(
            command.args,
            default=HISTORY_DEFAULT,
            maximum=PHONE_HISTORY_COUNT,
            usage=commands.usage("history", caller.lang, max=PHONE_HISTORY_COUNT),
            lang=caller.lang,
        )
        query = Query(Kind.HISTORY, phone=phone, n=count)
        return await _reply(message, query, caller, account, lookups, bot, followups)

    @members.message(Command("recent", ignore_case=True))
    async def recent(
        message: Message,
        command: CommandObject,
        caller: Caller,
        account: Account,
        lookups: Lookups,
        bot: Bot,
        followups: FollowUps,
    ) -> str:
        usage = commands.usage("recent", caller.lang, max=RECENT_MAX)
        count = arguments.count(
            command.args, default=RECENT_DEFAULT, maximum=RECENT_MAX, usage=usage
        )
        return await _reply(
            message, Query(Kind.RECENT, n=count), caller, account, lookups, bot, followups
        )

    @members.message(Command("failed", ignore_case=True))
    async def failed(
        message: Message,
        command: CommandObject,
        caller: Caller,
        account: Account,
        lookups: Lookups,
        bot: Bot,
        followups: FollowUps,
    ) -> str:
        usage = commands.usage("failed", caller.lang, max=FAILED_MAX)
        hours = arguments.count(
            command.args, default=FAILED_DEFAULT, maximum=FAILED_MAX, usage=usage
        )
        return await _reply(
            message, Query(Kind.FAILED, n=hours), caller, account, lookups, bot, followups
        )

    @members.message(Command("status", ignore_case=True))
    async def status(
        message: Message,
        command: CommandObject,
        caller: Caller,
        account: Account,
        lookups: Lookups,
        bot: Bot,
        followups: FollowUps,
    ) -> str:
        usage = commands.usage("status", caller.lang)
        id_text, phone_text = arguments.split_first(command.args)
        message_id = arguments.message_id(id_text, usage)
        if not phone_text:
            raise BadArgument(usage)
        phone = arguments.phone(phone_text, "status", caller.lang)
        query = Query(Kind.STATUS, phone=phone, n=message_id)
        return await _reply(message, query, caller, account, lookups, bot, followups)

    @members.callback_query(LookupButton.filter())
    async def button(
        callback: CallbackQuery,
        callback_data: LookupButton,
        caller: Caller,
        account: Account,
        lookups: Lookups,
        bot: Bot,
        followups: FollowUps,
    ) -> str:
        if callback_data.owner != caller.user_id:
            await callback.answer(texts.BUTTON_NOT_YOURS(caller.lang), show_alert=True)
            return "refused:not-owner"
        chat_message = callback.message
        query = button_query(callback_data)
        if (
            callback_data.account != account.id
            or not isinstance(chat_message, Message)
            or query is None
        ):
            await callback.answer(texts.BUTTON_EXPIRED(caller.lang), show_alert=True)
            return "refused:expired"
        lookups.admit(caller)  # the guard before the press's answer: its refusal is an alert
        chat = chat_message.chat
        answering = asyncio.ensure_future(
            lookups.answer(query, caller, account, chat.type, chat.id, bot)
        )
        try:
            # A quick answer lets the press say "no newer data"; a slow one must not keep the
            # spinner turning, so the press is answered first and the answer follows.
            await asyncio.wait({answering}, timeout=PRESS_ANSWER_WITHIN)
            toast = None
            if answering.done() and not callback_data.older and answering.exception() is None:
                toast = _nothing_newer(answering.result(), chat_message, caller.lang)
            await callback.answer(toast)  # before the edit: the toast and the edit come together
        except BaseException:
            answering.cancel()
            raise
        try:
            reply = await answering
            if callback_data.older:
                sent = await chat_message.answer(reply.text, reply_markup=reply.markup)
            else:
                await edit_in_place(chat_message, reply.text, reply.markup)
                sent = chat_message
        except Exception as exc:
            raise PressAnswered(exc) from exc
        if reply.later is not None:
            followups.start(sent, reply.later)
        return reply.outcome

    stray = Router(name="lookup.stray")

    @stray.callback_query()
    async def unknown_button(callback: CallbackQuery, caller: Caller) -> str:
        # Data no button of ours carries (forged, or from an older version of the bot): the
        # press is still answered, or the user's client would show a spinner until it times out.
        await callback.answer(texts.BUTTON_EXPIRED(caller.lang), show_alert=True)
        return "refused:unknown"

    # The parent's inner middlewares wrap its sub-routers' handlers, the gate included.
    audited = Router(name="lookup.audited")
    audited.message.middleware(AuditMiddleware())
    audited.callback_query.middleware(AuditMiddleware())
    audited.include_routers(members, stray)
    router = Router(name="lookup")
    router.include_routers(audited, _hints())  # hints last: the messages nobody else took
    return router


def _hints() -> Router:
    """A router answering, with a hint, the text messages nobody else handled.

    Plain text, an unknown command, a known command in capitals, and a number inside a sentence
    ("клиент 79031112233 не получил код") each get one line in a private chat, never silence;
    for a number in a sentence a member also gets a "Look up +7 903 111-22-33?" button, which
    asks nothing until pressed (the press is an ordinary /last button). In groups the bot stays
    silent for plain text (people talk to each other there) and answers only an unknown command
    addressed to it by ``@botname``. Not audited: nothing is looked up.
    """
    router = Router(name="hints")

    @router.message(F.text.startswith("/"))
    async def unknown_command(message: Message, caller: Caller, bot: Bot) -> None:
        word = (message.text or "").split(maxsplit=1)[0][1:]
        name, _, mention = word.partition("@")
        if mention:
            me = await bot.me()
            if mention.casefold() != (me.username or "").casefold():
                return  # another bot's command
        elif message.chat.type != ChatType.PRIVATE:
            return  # in a group, an unaddressed command may be another bot's
        if not name:
            await message.answer(texts.HINT_PLAIN(caller.lang))
            return
        known = name.casefold() in commands.BY_NAME or name.casefold() == "start"
        line = texts.HINT_LOWERCASE if known else texts.HINT_UNKNOWN_COMMAND
        shown = name.casefold() if known else name
        await message.answer(fill_html(line(caller.lang), command=shown))

    @router.message(F.chat.type == ChatType.PRIVATE, F.text)
    async def plain_text(message: Message, caller: Caller) -> None:
        lang = caller.lang
        phone = phone_in_sentence(message.text or "")
        account = caller.account
        if phone is None or account is None:
            await message.answer(texts.HINT_PLAIN(lang))
            return
        look_up = LookupButton(
            kind=Kind.LAST, phone=phone, owner=caller.user_id, account=account.id
        )
        button = InlineKeyboardButton(
            text=texts.BUTTON_LOOK_UP(lang).format(phone=format_phone(phone)),
            callback_data=look_up.pack(),
        )
        await message.answer(
            texts.HINT_NUMBER_IN_TEXT(lang),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]),
        )

    return router


async def _reply(
    message: Message,
    query: Query,
    caller: Caller,
    account: Account,
    lookups: Lookups,
    bot: Bot,
    followups: FollowUps,
) -> str:
    chat = message.chat
    reply = await lookups.answer(query, caller, account, chat.type, chat.id, bot)
    sent = await message.answer(reply.text, reply_markup=reply.markup)
    if reply.later is not None:
        followups.start(sent, reply.later)
    return reply.outcome


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer to send now, its buttons, the audit outcome, the final text to follow when
    the data was not there yet, and (for an answer whose data is here) its "as of …" phrase."""

    text: str
    markup: InlineKeyboardMarkup
    outcome: str
    later: Awaitable[FinalText] | None = None
    as_of: str | None = None


def _nothing_newer(reply: Reply, shown: Message, lang: Lang) -> str | None:
    """The toast of a refresh whose data is the data the pressed answer already shows (its
    "as of" is there), else None: the edit itself shows what is new."""
    if reply.later is not None or reply.as_of is None or reply.as_of not in (shown.text or ""):
        return None
    return texts.NO_NEWER(lang).format(as_of=reply.as_of)


class Lookups:
    """Runs a ``Query`` through the fetch layer and renders it (handed to handlers by name).

    ``describe`` turns an error into the one line the error router would answer (for a final
    answer that fails after its first answer was sent).
    """

    def __init__(
        self,
        fetcher: Fetcher,
        settings: Settings,
        clock: Callable[[], float],
        describe: Callable[[BaseException, Caller], str],
        *,
        pushed_at: Callable[[str, HistoryEntry | None], float | None] = lambda *_: None,
    ) -> None:
        self._pushed_at = pushed_at
        self._fetcher = fetcher
        self._settings = settings
        self._clock = clock
        self._describe = describe

    def _pushed(self, account: Account, entries: Sequence[HistoryEntry]) -> list[float]:
        """When each status of ``entries`` that SMS Center pushed was pushed."""
        found = (self._pushed_at(account.key_id, entry) for entry in entries)
        return [at for at in found if at is not None]

    def admit(self, caller: Caller) -> None:
        """The per-user guard for the caller's next lookup, now (``UserRateLimited``)."""
        self._fetcher.admit(caller.user_id)

    async def answer(
        self, query: Query, caller: Caller, account: Account, chat_type: str, chat_id: int, bot: Bot
    ) -> Reply:
        """The answer to send now (and, when its data is still coming, the final one later)."""
        markup = self._buttons(query, caller, account, older_than=None)
        async with ChatActionSender.typing(bot=bot, chat_id=chat_id, initial_sleep=TYPING_AFTER):
            if query.kind is Kind.LAST:
                return await self._last(query, caller, account, chat_type, markup)
            text, origin, older_than, fetched_at, charted = await self._run(
                query, caller, account, chat_type
            )
        markup = self._buttons(query, caller, account, older_than=older_than, chart=charted)
        as_of = as_of_phrase(fetched_at, self._view(caller, chat_type))
        return Reply(text, markup, str(origin), as_of=as_of)

    def _buttons(
        self,
        query: Query,
        caller: Caller,
        account: Account,
        *,
        older_than: int | None,
        chart: bool = False,
    ) -> InlineKeyboardMarkup:
        user_id = caller.user_id
        refresh = LookupButton(kind=query.kind, phone=query.phone, n=query.n, before=query.before,
                               owner=user_id, account=account.id, at=query.at)  # fmt: skip
        lang = caller.lang
        row = [InlineKeyboardButton(text=texts.BUTTON_REFRESH(lang), callback_data=pack(refresh))]
        if older_than is not None:
            at = (query.at or 1) + query.n if query.at or not query.before else 0
            older = LookupButton(kind=Kind.HISTORY, phone=query.phone, n=query.n,
                                 before=older_than, owner=user_id, account=account.id,
                                 older=True, at=at)  # fmt: skip
            row.append(
                InlineKeyboardButton(text=texts.BUTTON_OLDER(lang), callback_data=pack(older))
            )
        if chart:
            data = ChartButton(hours=query.n, owner=user_id, account=account.id).pack()
            row.append(InlineKeyboardButton(text=texts.BUTTON_CHART(lang), callback_data=data))
        return InlineKeyboardMarkup(inline_keyboard=[row])

    def _view(self, caller: Caller, chat_type: str) -> View:
        return View(
            lang=caller.lang,
            tz=self._settings.timezone,
            now=self._clock(),
            mask_codes=chat_type != ChatType.PRIVATE,
        )

    async def _last(
        self,
        query: Query,
        caller: Caller,
        account: Account,
        chat_type: str,
        markup: InlineKeyboardMarkup,
    ) -> Reply:
        answer = await self._fetcher.ask_last(caller.user_id, account, query.phone)
        final, due = answer.final, answer.due
        # The answer is here, or its request goes out now and lands in a moment: one message.
        last = answer.now if final is None else None
        if final is not None and answer.prompt:
            last = await settled_within(final, PROMPT)
        if last is not None:
            view = self._view(caller, chat_type)
            pushed = self._pushed_at(account.key_id, last.value)
            text = render_last(last, query.phone, view, pushed_at=pushed)
            outcome = "pushed" if pushed is not None else str(last.origin)
            return Reply(text, markup, outcome, as_of=as_of_phrase(last.fetched_at, view))
        view = self._view(caller, chat_type)
        now = answer.now
        pushed = self._pushed_at(account.key_id, now.value) if now is not None else None
        pending = render_pending(now, query.phone, due or view.now, view, pushed_at=pushed)
        held = answer.now.held_back if answer.now is not None else "asking"
        later = self._final_last(answer, query, caller, account, chat_type, markup)
        return Reply(pending, markup, f"pending:{held}", later)

    async def _final_last(
        self,
        answer: Answer[HistoryEntry | None],
        query: Query,
        caller: Caller,
        account: Account,
        chat_type: str,
        markup: InlineKeyboardMarkup,
    ) -> FinalText:
        assert answer.final is not None
        try:
            last = await answer.final
        except BotStopping:
            return FinalText(render_restarted(query.phone, self._view(caller, chat_type)))
        except Exception as exc:
            return FinalText(self._describe(exc, caller), markup)
        pushed = self._pushed_at(account.key_id, last.value)
        view = self._view(caller, chat_type)
        return FinalText(render_last(last, query.phone, view, pushed_at=pushed), markup)

    async def _run(
        self, query: Query, caller: Caller, account: Account, chat_type: str
    ) -> tuple[str, str, int | None, float, bool]:
        fetcher, user_id = self._fetcher, caller.user_id
        view = self._view(caller, chat_type)
        if query.kind is Kind.HISTORY:
            before = query.before or None
            entries = await fetcher.history(user_id, account, query.phone, query.n, before=before)
            oldest = entries.value[-1].int_id if entries.value else None
            more = oldest if len(entries.value) >= query.n else None
            page = render_history(
                entries, query.phone, view, older=before is not None, first=query.at
            )
            page = with_pushed(page, self._pushed(account, entries.value), view)
            return page, entries.origin, more, entries.fetched_at, False
        if query.kind is Kind.RECENT:
            recent = await fetcher.recent(user_id, account, query.n)
            text = with_pushed(
                render_recent(recent, view), self._pushed(account, recent.value), view
            )
            return text, recent.origin, None, recent.fetched_at, False
        if query.kind is Kind.FAILED:
            window = await fetcher.failed(user_id, account, query.n)
            text = render_failed(window, query.n, view)
            text = with_pushed(text, self._pushed(account, window.value.entries), view)
            charted = any(e.status in FAILURE_STATUSES for e in window.value.entries)
            return text, window.origin, None, window.fetched_at, charted
        status = await fetcher.status(user_id, account, query.phone, query.n)
        return render_status(status, view), status.origin, None, status.fetched_at, False
