"""Lookups: /last, a bare number, /history, /recent, /failed, /status, and their buttons.

Each handler parses its argument into a ``Query``, and ``answer_query`` runs it through the
fetch layer and renders it; the buttons carry the same ``Query`` back. Errors (bad argument,
no access, limits, SMS Center failures) are raised and answered by ``handlers/errors.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.chat_action import ChatActionSender

from bot.chat.caller import BadArgument, Caller, require_account
from bot.fetch import PHONE_HISTORY_COUNT, Fetcher
from bot.settings import Settings
from bot.store import Account
from bot.text import (
    AmbiguousCount,
    InvalidPhone,
    Lang,
    View,
    format_phone,
    looks_like_phone,
    parse_phone,
    read_phone_and_count,
    render_failed,
    render_history,
    render_last,
    render_recent,
    render_status,
)
from bot.text import catalogue as texts
from handlers.middleware import AuditMiddleware

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
    """A fresh router with every lookup handler and the audit middleware."""
    router = Router(name="lookup")
    router.message.middleware(AuditMiddleware())
    router.callback_query.middleware(AuditMiddleware())

    @router.message(Command("last"))
    async def last(
        message: Message, command: CommandObject, caller: Caller, lookups: Lookups, bot: Bot
    ) -> str:
        account = require_account(caller)
        if not command.args:
            raise BadArgument(texts.USAGE_LAST(caller.lang))
        query = Query(Kind.LAST, phone=_phone(command.args, "last", caller.lang))
        return await _reply(message, query, caller, account, lookups, bot)

    @router.message(F.chat.type == ChatType.PRIVATE, F.text.func(looks_like_phone))
    async def bare_number(message: Message, caller: Caller, lookups: Lookups, bot: Bot) -> str:
        account = require_account(caller)
        query = Query(Kind.LAST, phone=_phone(message.text or "", "last", caller.lang))
        return await _reply(message, query, caller, account, lookups, bot)

    @router.message(Command("history"))
    async def history(
        message: Message, command: CommandObject, caller: Caller, lookups: Lookups, bot: Bot
    ) -> str:
        account = require_account(caller)
        usage = texts.USAGE_HISTORY(caller.lang).format(max=PHONE_HISTORY_COUNT)
        phone, count = _phone_and_count(command.args, usage, caller.lang)
        query = Query(Kind.HISTORY, phone=phone, n=count)
        return await _reply(message, query, caller, account, lookups, bot)

    @router.message(Command("recent"))
    async def recent(
        message: Message, command: CommandObject, caller: Caller, lookups: Lookups, bot: Bot
    ) -> str:
        account = require_account(caller)
        usage = texts.USAGE_RECENT(caller.lang).format(max=RECENT_MAX)
        count = _count(command.args, usage, RECENT_DEFAULT, RECENT_MAX)
        return await _reply(message, Query(Kind.RECENT, n=count), caller, account, lookups, bot)

    @router.message(Command("failed"))
    async def failed(
        message: Message, command: CommandObject, caller: Caller, lookups: Lookups, bot: Bot
    ) -> str:
        account = require_account(caller)
        usage = texts.USAGE_FAILED(caller.lang).format(max=FAILED_MAX)
        hours = _count(command.args, usage, FAILED_DEFAULT, FAILED_MAX)
        return await _reply(message, Query(Kind.FAILED, n=hours), caller, account, lookups, bot)

    @router.message(Command("status"))
    async def status(
        message: Message, command: CommandObject, caller: Caller, lookups: Lookups, bot: Bot
    ) -> str:
        account = require_account(caller)
        usage = texts.USAGE_STATUS(caller.lang)
        id_text, _, phone_text = (command.args or "").strip().partition(" ")
        if not (id_text.isascii() and id_text.isdigit() and len(id_text) <= 18) or not phone_text:
            raise BadArgument(usage)
        query = Query(Kind.STATUS, phone=_phone(phone_text, "status", caller.lang), n=int(id_text))
        return await _reply(message, query, caller, account, lookups, bot)

    @router.callback_query(LookupButton.filter())
    async def button(
        callback: CallbackQuery,
        callback_data: LookupButton,
        caller: Caller,
        lookups: Lookups,
        bot: Bot,
    ) -> str:
        account = require_account(caller)
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
        chat = chat_message.chat
        text, markup, outcome = await lookups.answer(
            query, caller, account, chat.type, chat.id, bot
        )
        await callback.answer()
        if callback_data.older:
            await chat_message.answer(text, reply_markup=markup)
        else:
            # Refreshing an answer that did not change is not an error.
            with contextlib.suppress(TelegramBadRequest):
                await chat_message.edit_text(text, reply_markup=markup)
        return outcome

    @router.callback_query()
    async def unknown_button(callback: CallbackQuery, caller: Caller) -> str:
        # Data no button of ours carries (forged, or from an older version of the bot): the
        # press is still answered, or the user's client would show a spinner until it times out.
        await callback.answer(texts.BUTTON_EXPIRED(caller.lang), show_alert=True)
        return "refused:unknown"

    return router


async def _reply(
    message: Message, query: Query, caller: Caller, account: Account, lookups: Lookups, bot: Bot
) -> str:
    chat = message.chat
    text, markup, outcome = await lookups.answer(query, caller, account, chat.type, chat.id, bot)
    await message.answer(text, reply_markup=markup)
    return outcome


class Lookups:
    """Runs a ``Query`` through the fetch layer and renders it (handed to handlers by name)."""

    def __init__(self, fetcher: Fetcher, settings: Settings, clock: Callable[[], float]) -> None:
        self._fetcher = fetcher
        self._settings = settings
        self._clock = clock

    async def answer(
        self, query: Query, caller: Caller, account: Account, chat_type: str, chat_id: int, bot: Bot
    ) -> tuple[str, InlineKeyboardMarkup, str]:
        """The answer's HTML text, its buttons, and the outcome for the audit log."""
        async with ChatActionSender.typing(bot=bot, chat_id=chat_id, initial_sleep=TYPING_AFTER):
            text, origin, older_than = await self._run(query, caller, account, chat_type)
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
        return text, InlineKeyboardMarkup(inline_keyboard=[row]), str(origin)

    async def _run(
        self, query: Query, caller: Caller, account: Account, chat_type: str
    ) -> tuple[str, str, int | None]:
        fetcher, user_id = self._fetcher, caller.user_id
        view = View(
            lang=caller.lang,
            tz=self._settings.timezone,
            now=self._clock(),
            mask_codes=chat_type != ChatType.PRIVATE,
        )
        if query.kind is Kind.LAST:
            last = await fetcher.last(user_id, account, query.phone)
            return render_last(last, query.phone, view), last.origin, None
        if query.kind is Kind.HISTORY:
            before = query.before or None
            entries = await fetcher.history(user_id, account, query.phone, query.n, before=before)
            oldest = entries.value[-1].int_id if entries.value else None
            more = oldest if len(entries.value) >= query.n else None
            return render_history(entries, query.phone, view), entries.origin, more
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


def _phone(text: str, command: str, lang: Lang) -> str:
    try:
        return parse_phone(text)
    except InvalidPhone as exc:
        raise _bad_phone(exc, command, lang) from None


def _bad_phone(exc: InvalidPhone, command: str, lang: Lang) -> BadArgument:
    """The refusal of a number: ten digits that are not Russian are asked for a country code."""
    line = texts.NO_COUNTRY_CODE if exc.reason == "no_country_code" else texts.BAD_PHONE
    return BadArgument(line(lang).format(command=command))


def _count(args: str | None, usage: str, default: int, maximum: int) -> int:
    """An optional whole number 1..maximum; anything else is a ``BadArgument``."""
    text = (args or "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 3) or not 1 <= int(text) <= maximum:
        raise BadArgument(usage)
    return int(text)


def _phone_and_count(args: str | None, usage: str, lang: Lang) -> tuple[str, int]:
    """``"PHONE [N]"`` as ``read_phone_and_count`` reads it; a text that reads as two different
    numbers is answered with both, and how to write each, instead of a guess."""
    text = (args or "").strip()
    if not text:
        raise BadArgument(usage)
    try:
        reading = read_phone_and_count(text, PHONE_HISTORY_COUNT)
    except InvalidPhone as exc:
        raise _bad_phone(exc, "history", lang) from None
    if isinstance(reading, AmbiguousCount):
        which = texts.HISTORY_WHICH(lang).format(
            count=reading.split.count,
            whole=reading.whole,
            whole_shown=format_phone(reading.whole),
            split=reading.split.phone,
            split_shown=format_phone(reading.split.phone),
        )
        raise BadArgument(which)
    return reading.phone, _count(reading.count, usage, HISTORY_DEFAULT, PHONE_HISTORY_COUNT)
