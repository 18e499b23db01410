"""One place that turns errors into one human line (STYLE.md: "one place turns errors into words").

Handlers raise; ``ERROR_WORDS`` maps each domain exception type to its line — a bad argument,
no access, a limit, a key SMS Center refused, an SMS Center failure, a busy database — and the
error router answers it in the chat (or as a button alert). The most specific class wins (the
exception's MRO is walked), so ``SmscTimeout`` has its own line and any other ``SmscError`` the
generic one. Anything not in the table is logged with its update id and answered "something
went wrong". No traceback reaches a user.
"""

from __future__ import annotations

import html
import logging
import math
import re
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.exceptions import AiogramError, TelegramForbiddenError
from aiogram.types import ErrorEvent, Message
from cachetools import TTLCache

from bot.chat.access import no_access_line
from bot.chat.arguments import BadArgument
from bot.chat.caller import Caller, NotAuthorized, PrivateChatOnly
from bot.chat.escaping import Html, fill_html
from bot.chat.keys import KeyRefused, KeyUnchecked
from bot.chat.press import PressAnswered
from bot.fetch import (
    HeldBack,
    KeyChecksPaused,
    NumberNotReached,
    QuotaExhausted,
    UserRateLimited,
    user_share,
)
from bot.settings import Settings
from bot.smsc import (
    SmscApiError,
    SmscBadCredentials,
    SmscBadParameters,
    SmscConnectError,
    SmscError,
    SmscHTTPError,
    SmscIPBlocked,
    SmscMalformedResponse,
    SmscNotFound,
    SmscRateLimited,
    SmscTimeout,
)
from bot.store import AccountExists, KeyInUse, NoSuchAccount, StorageError
from bot.text import Lang, Text
from bot.text import catalogue as texts

logger = logging.getLogger(__name__)

# Someone spamming refused commands in a group (no access, admin only, private chat only) gets
# one refusal a minute, not one per message.
REFUSAL_INTERVAL = 60.0
_ALERT_LIMIT = 200  # Telegram's limit for a callback query's alert text
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True, slots=True)
class Asker:
    """What the words for an error may depend on: the language, the settings, who asked."""

    lang: Lang
    settings: Settings
    caller: Caller | None


Words = Callable[[Any, Asker], str]


def _line(text: Text) -> Words:
    """Words that are one catalogue line, whatever the exception holds."""
    return lambda _exc, asker: text(asker.lang)


def _minute(at: float, settings: Settings) -> str:
    """``at`` as HH:MM, rounded up: a retry at that minute is never refused again."""
    return datetime.fromtimestamp(math.ceil(at / 60) * 60, settings.timezone).strftime("%H:%M")


def _bad_argument(exc: BadArgument, asker: Asker) -> str:
    return exc.reply


def _not_authorized(exc: NotAuthorized, asker: Asker) -> str:
    if exc.admin_only:
        return texts.ADMIN_ONLY(asker.lang)
    caller = asker.caller or Caller(user_id=0, lang=asker.lang, is_admin=False, member=None)
    return no_access_line(caller, self_login=asker.settings.allow_self_login, accounts=exc.accounts)


def _user_rate_limited(exc: UserRateLimited, asker: Asker) -> str:
    seconds = max(1, math.ceil(exc.retry_after))
    return fill_html(texts.USER_RATE_LIMITED(asker.lang), seconds=seconds)


def _quota_exhausted(exc: QuotaExhausted, asker: Asker) -> str:
    at = _minute(exc.fresh_possible_at, asker.settings)
    if exc.reason is HeldBack.SHARE:
        budget = asker.settings.smsc_hourly_budget
        return fill_html(
            texts.USER_SHARE_SPENT(asker.lang), share=user_share(budget), budget=budget, time=at
        )
    held = texts.BACKING_OFF if exc.reason is HeldBack.BACKOFF else texts.QUOTA_EXHAUSTED
    return fill_html(held(asker.lang), time=at)


def _key_checks_paused(exc: KeyChecksPaused, asker: Asker) -> str:
    return fill_html(
        texts.KEY_CHECKS_PAUSED(asker.lang), time=_minute(exc.resume_at, asker.settings)
    )


def _key_unchecked(exc: KeyUnchecked, asker: Asker) -> str:
    reason = words_for(exc.reason, asker) or texts.SMSC_CONNECT(asker.lang)
    return fill_html(texts.KEY_UNCHECKED(asker.lang), reason=Html(reason))


def _account_exists(exc: AccountExists, asker: Asker) -> str:
    return fill_html(texts.ADDKEY_EXISTS(asker.lang), name=exc.name)


def _key_in_use(exc: KeyInUse, asker: Asker) -> str:
    return fill_html(texts.KEY_IN_USE(asker.lang), name=exc.name)


def _no_such_account(exc: NoSuchAccount, asker: Asker) -> str:
    return fill_html(texts.NO_SUCH_ACCOUNT(asker.lang), name=exc.name)


def _smsc_timeout(exc: SmscTimeout, asker: Asker) -> str:
    seconds = f"{asker.settings.smsc_timeout:g}"
    return fill_html(texts.SMSC_TIMEOUT(asker.lang), seconds=seconds)


def _smsc_http(exc: SmscHTTPError, asker: Asker) -> str:
    return fill_html(texts.SMSC_HTTP(asker.lang), status=exc.status)


def _smsc_api(exc: SmscApiError, asker: Asker) -> str:
    return fill_html(texts.SMSC_OTHER(asker.lang), code=exc.error_code, description=exc.description)


def _storage(exc: Exception, asker: Asker) -> str:
    logger.error("storage failed: %s", exc)
    return texts.STORAGE_ERROR(asker.lang)


ERROR_WORDS: Mapping[type[BaseException], Words] = {
    # the asker's own doing
    BadArgument: _bad_argument,
    NotAuthorized: _not_authorized,
    PrivateChatOnly: _line(texts.PRIVATE_ONLY),
    KeyRefused: _line(texts.KEY_REFUSED),
    KeyUnchecked: _key_unchecked,
    AccountExists: _account_exists,
    KeyInUse: _key_in_use,
    NoSuchAccount: _no_such_account,
    # limits of the fetch layer
    UserRateLimited: _user_rate_limited,
    QuotaExhausted: _quota_exhausted,
    KeyChecksPaused: _key_checks_paused,
    # SMS Center
    SmscError: _line(texts.SMSC_CONNECT),
    SmscConnectError: _line(texts.SMSC_CONNECT),
    SmscTimeout: _smsc_timeout,
    SmscHTTPError: _smsc_http,
    SmscMalformedResponse: _line(texts.SMSC_MALFORMED),
    SmscApiError: _smsc_api,
    SmscBadParameters: _line(texts.SMSC_BAD_PARAMETERS),
    NumberNotReached: _line(texts.NUMBER_NOT_REACHED),
    SmscBadCredentials: _line(texts.SMSC_BAD_CREDENTIALS),
    SmscNotFound: _line(texts.SMSC_NOT_FOUND),
    SmscIPBlocked: _line(texts.SMSC_IP_BLOCKED),
    SmscRateLimited: _line(texts.SMSC_RATE_LIMITED),
    # the bot's database
    StorageError: _storage,
    sqlite3.Error: _storage,
}


def words_for(exc: BaseException, asker: Asker) -> str | None:
    """The one-line answer (HTML) for ``exc``: its most specific class in ``ERROR_WORDS``, or
    None for an error nobody expected."""
    for cls in type(exc).__mro__:
        words = ERROR_WORDS.get(cls)
        if words is not None:
            return words(exc, asker)
    return None


def describer(settings: Settings) -> Callable[[BaseException, Caller], str]:
    """``words_for`` for an error met outside an update (a final answer that failed after its
    first answer was sent): the same line the error router would answer."""

    def describe(exc: BaseException, caller: Caller) -> str:
        words = words_for(exc, Asker(caller.lang, settings, caller))
        if words is None:
            logger.error("a waiting answer failed", exc_info=(type(exc), exc, exc.__traceback__))
            return texts.INTERNAL_ERROR(caller.lang)
        return words

    return describe


def make_router(clock: Callable[[], float] = time.time) -> Router:
    """A fresh router whose error handler answers every failure in one line."""
    router = Router(name="errors")
    refused: TTLCache[tuple[int, int], bool] = TTLCache(
        maxsize=10_000, ttl=REFUSAL_INTERVAL, timer=clock
    )

    @router.error()
    async def on_error(event: ErrorEvent, settings: Settings, caller: Caller | None = None) -> bool:
        exc = event.exception
        answered = isinstance(exc, PressAnswered)  # the press has its answer: tell the chat
        if isinstance(exc, PressAnswered):
            exc = exc.error
        if isinstance(exc, TelegramForbiddenError):
            # "bot was blocked by the user", "bot was kicked from the group chat": nobody to
            # answer there, and trying again would only be refused again.
            logger.info(
                "update %s: Telegram refused the answer: %s", event.update.update_id, exc.message
            )
            return True
        lang = caller.lang if caller is not None else Lang.EN
        message = event.update.message
        callback = event.update.callback_query
        chat = message.chat if message else None
        in_group = chat is not None and chat.type != ChatType.PRIVATE
        refusal = isinstance(exc, NotAuthorized | PrivateChatOnly)
        if refusal and in_group and chat is not None and caller is not None:
            if (chat.id, caller.user_id) in refused:
                return True
            refused[(chat.id, caller.user_id)] = True
        text = words_for(exc, Asker(lang, settings, caller))
        if text is None:
            logger.error(
                "update %s failed",
                event.update.update_id,
                exc_info=(type(exc), exc, exc.__traceback__),
            )
            text = texts.INTERNAL_ERROR(lang)
        try:
            if callback is not None and not answered:
                await callback.answer(_plain(text), show_alert=True)
            elif callback is not None and isinstance(callback.message, Message):
                await callback.message.answer(text)
            elif isinstance(message, Message):
                await message.answer(text)
        except AiogramError as send_error:
            logger.warning("could not send the error answer: %s", send_error)
        return True

    return router


def _plain(text: str) -> str:
    plain = html.unescape(_TAG.sub("", text))
    return plain if len(plain) <= _ALERT_LIMIT else plain[: _ALERT_LIMIT - 1] + "…"
