"""Lookups: /last, a bare number, /history, /recent, /failed, /status, and their buttons.

Only members reach these handlers (the member gate hands each its ``account``). Each parses its
argument into a ``Query``, and ``Lookups.answer`` runs it through the fetch layer and renders
it; the buttons carry the same ``Query`` back. Errors (bad argument, no access, limits, SMS
Center failures) are raised and answered by ``handlers/errors.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.chat_action import ChatActionSender

from bot.chat import arguments
from bot.chat.arguments import BadArgument
from bot.chat.audit import AuditMiddleware
from bot.chat.caller import Caller, Role, gate
from bot.chat.followups import FinalText, FollowUps, edit_in_place
from bot.chat.press import PressAnswered
from bot.fetch import PHONE_HISTORY_COUNT, PROMPT, Answer, BotStopping, Fetcher, settled_within
from bot.settings import Settings
from bot.smsc import HistoryEntry
from bot.store import Account
from bot.text import (
    InvalidPhone,
    View,
    commands,
    looks_like_phone,
    parse_phone,
    render_failed,
    render_history,
    render_last,
    render_pending,
    render_recent,
    render_restarted,
    render_status,
)
from bot.text import catalogue as texts

HISTORY_DEFAULT = 5
RECENT_DEFAULT, RECENT_MAX = 10, 50
FAILED_DEFAULT, FAILED_MAX = 1, 24
# "typing…" shows only when an answer takes longer than this: a cached answer needs no
# indicator, and an extra Bot API call per lookup would cost more than it tells.
TYPING_AFTER = 0.3


class Kind(StrEnum):
    """What a query asks (one letter each, to keep button data within 64 bytes)."""

    LAST = "l"
    HISTORY = "h"
    RECENT = "r"
    FAILED = "f"
    STATUS = "s"


class LookupButton(CallbackData, prefix="q"):
    """A "Refresh" / "Older" button: the query, who asked it, and with which account.

    ``owner`` and ``account`` let a press be refused when it is not the asker's, or the
    account changed since; the caller's rights are checked again on every press.
    """

    kind: Kind
    phone: str = ""
    n: int = 0
    before: int = 0
    owner: int
    account: int
    older: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed lookup: ``n`` is a count, the hours of /failed, or the message id of /status."""

    kind: Kind
    phone: str = ""
    n: int = 0
    before: int = 0


def make_router() -> Router:
    """A fresh router with every lookup handler: the members' handlers behind the member gate,
    buttons no handler of ours knows answered to anyone, all of it written to the audit log."""
    members = gate(Router(name="lookup.members"), Role.MEMBER)

    @members.message(Command("last"))
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

    @members.message(Command("history"))
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

    @members.message(Command("recent"))
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

    @members.message(Command("failed"))
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

    @members.message(Command("status"))
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
        query = _button_query(callback_data)
        if (
            callback_data.account != account.id
            or not isinstance(chat_message, Message)
            or query is None
        ):
            await callback.answer(texts.BUTTON_EXPIRED(caller.lang), show_alert=True)
            return "refused:expired"
        lookups.admit(caller)  # the guard before the press's answer: its refusal is an alert
        await callback.answer()  # before any fetch: the client stops its spinner
        chat = chat_message.chat
        try:
            reply = await lookups.answer(query, caller, account, chat.type, chat.id, bot)
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
    router = Router(name="lookup")
    router.message.middleware(AuditMiddleware())
    router.callback_query.middleware(AuditMiddleware())
    router.include_routers(members, stray)
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
    """An answer to send now, its buttons, the audit outcome, and the final text to follow when
    the data was not there yet."""

    text: str
    markup: InlineKeyboardMarkup
    outcome: str
    later: Awaitable[FinalText] | None = None


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
            text, origin, older_than = await self._run(query, caller, account, chat_type)
        markup = self._buttons(query, caller, account, older_than=older_than)
        return Reply(text, markup, str(origin))

    def _buttons(
        self, query: Query, caller: Caller, account: Account, *, older_than: int | None
    ) -> InlineKeyboardMarkup:
        user_id = caller.user_id
        refresh = LookupButton(kind=query.kind, phone=query.phone, n=query.n, before=query.before,
                               owner=user_id, account=account.id)  # fmt: skip
        lang = caller.lang
        row = [InlineKeyboardButton(text=texts.BUTTON_REFRESH(lang), callback_data=refresh.pack())]
        if older_than is not None:
            older = LookupButton(kind=Kind.HISTORY, phone=query.phone, n=query.n,
                                 before=older_than, owner=user_id, account=account.id,
                                 older=True)  # fmt: skip
            row.append(
                InlineKeyboardButton(text=texts.BUTTON_OLDER(lang), callback_data=older.pack())
            )
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
            pushed = self._pushed_at(account.key_id, last.value)
            text = render_last(last, query.phone, self._view(caller, chat_type), pushed_at=pushed)
            return Reply(text, markup, "pushed" if pushed is not None else str(last.origin))
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
    ) -> tuple[str, str, int | None]:
        fetcher, user_id = self._fetcher, caller.user_id
        view = self._view(caller, chat_type)
        if query.kind is Kind.HISTORY:
            before = query.before or None
            entries = await fetcher.history(user_id, account, query.phone, query.n, before=before)
            oldest = entries.value[-1].int_id if entries.value else None
            more = oldest if len(entries.value) >= query.n else None
            page = render_history(entries, query.phone, view, older=before is not None)
            return page, entries.origin, more
        if query.kind is Kind.RECENT:
            recent = await fetcher.recent(user_id, account, query.n)
            return render_recent(recent, view), recent.origin, None
        if query.kind is Kind.FAILED:
            window = await fetcher.failed(user_id, account, query.n)
            return render_failed(window, query.n, view), window.origin, None
        status = await fetcher.status(user_id, account, query.phone, query.n)
        return render_status(status, view), status.origin, None


# What each kind of query may carry in ``n`` (a count, hours, or a message id of up to 18
# digits), as the commands accept it.
_BUTTON_N: dict[Kind, tuple[int, int]] = {
    Kind.LAST: (0, 0),
    Kind.HISTORY: (1, PHONE_HISTORY_COUNT),
    Kind.RECENT: (1, RECENT_MAX),
    Kind.FAILED: (1, FAILED_MAX),
    Kind.STATUS: (0, 10**18 - 1),
}
_NEEDS_PHONE = frozenset({Kind.LAST, Kind.HISTORY, Kind.STATUS})


def _button_query(data: LookupButton) -> Query | None:
    """The query a button carries, or None when no command could have made it.

    Callback data comes from the client and can be forged: a phone that is not one
    ``parse_phone`` returns, or a count out of range, must never reach SMS Center.
    """
    low, high = _BUTTON_N[data.kind]
    if not low <= data.n <= high:
        return None
    if not 0 <= data.before < 2**63 or (data.before and data.kind is not Kind.HISTORY):
        return None
    if data.kind in _NEEDS_PHONE:
        try:
            # With "+": parse_phone's own output is international (a +81 number's digits
            # read without "+" would be taken for a Russian trunk 8).
            canonical = parse_phone("+" + data.phone)
        except InvalidPhone:
            return None
        if canonical != data.phone:
            return None
    elif data.phone:
        return None
    return Query(data.kind, data.phone, data.n, data.before)
