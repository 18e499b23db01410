"""One place that turns errors into one human line (STYLE.md: "one place turns errors into words").

Domain exceptions raised by handlers — a bad argument, no access, a limit, an SMS Center
failure, a busy database — are answered in the chat (or as a button alert); anything else is
logged with its update id and answered "something went wrong". No traceback reaches a user.
"""

from __future__ import annotations

import html
import logging
import math
import re
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.exceptions import AiogramError, TelegramForbiddenError
from aiogram.types import ErrorEvent, Message
from cachetools import TTLCache

from bot.chat.caller import BadArgument, Caller, NotAuthorized, PrivateChatOnly
from bot.fetch import HeldBack, KeyChecksPaused, QuotaExhausted, UserRateLimited, user_share
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
from bot.store import StorageError
from bot.text import Lang, Text
from bot.text import catalogue as texts

logger = logging.getLogger(__name__)

# Someone spamming refused commands in a group (no access, admin only, private chat only) gets
# one refusal a minute, not one per message.
REFUSAL_INTERVAL = 60.0
_ALERT_LIMIT = 200  # Telegram's limit for a callback query's alert text
_TAG = re.compile(r"<[^>]+>")


def describe_error(exc: BaseException, lang: Lang, settings: Settings) -> str:
    """The one-line answer for an SMS Center error (HTML)."""
    simple: dict[type[SmscError], Text] = {
        SmscConnectError: texts.SMSC_CONNECT,
        SmscMalformedResponse: texts.SMSC_MALFORMED,
        SmscBadParameters: texts.SMSC_BAD_PARAMETERS,
        SmscBadCredentials: texts.SMSC_BAD_CREDENTIALS,
        SmscNotFound: texts.SMSC_NOT_FOUND,
        SmscIPBlocked: texts.SMSC_IP_BLOCKED,
        SmscRateLimited: texts.SMSC_RATE_LIMITED,
    }
    for cls, line in simple.items():
        if isinstance(exc, cls):
            return line(lang)
    if isinstance(exc, SmscTimeout):
        return texts.SMSC_TIMEOUT(lang).format(seconds=f"{settings.smsc_timeout:g}")
    if isinstance(exc, SmscHTTPError):
        return texts.SMSC_HTTP(lang).format(status=exc.status)
    if isinstance(exc, SmscApiError):
        return texts.SMSC_OTHER(lang).format(
            code=exc.error_code, description=html.escape(exc.description)
        )
    return texts.SMSC_CONNECT(lang)


def make_router(clock: Callable[[], float] = time.time) -> Router:
    """A fresh router whose error handler answers every failure in one line."""
    router = Router(name="errors")
    refused: TTLCache[tuple[int, int], bool] = TTLCache(
        maxsize=10_000, ttl=REFUSAL_INTERVAL, timer=clock
    )

    @router.error()
    async def on_error(event: ErrorEvent, settings: Settings, caller: Caller | None = None) -> bool:
        exc = event.exception
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
        text = _answer_for(exc, lang, settings, caller)
        if text is None:
            logger.error(
                "update %s failed",
                event.update.update_id,
                exc_info=(type(exc), exc, exc.__traceback__),
            )
            text = texts.INTERNAL_ERROR(lang)
        try:
            if callback is not None:
                await callback.answer(_plain(text), show_alert=True)
            elif isinstance(message, Message):
                await message.answer(text)
        except AiogramError as send_error:
            logger.warning("could not send the error answer: %s", send_error)
        return True

    return router


def _answer_for(
    exc: BaseException, lang: Lang, settings: Settings, caller: Caller | None
) -> str | None:
    if isinstance(exc, BadArgument):
        return exc.reply
    if isinstance(exc, NotAuthorized):
        if exc.admin_only:
            return texts.ADMIN_ONLY(lang)
        line = texts.NOT_MEMBER(lang).format(user_id=caller.user_id if caller else 0)
        if settings.allow_self_login:
            line += " " + texts.NOT_MEMBER_SELF_LOGIN(lang)
        return line
    if isinstance(exc, PrivateChatOnly):
        return texts.PRIVATE_ONLY(lang)
    if isinstance(exc, UserRateLimited):
        return texts.USER_RATE_LIMITED(lang).format(seconds=max(1, math.ceil(exc.retry_after)))
    if isinstance(exc, QuotaExhausted):
        at = _minute(exc.fresh_possible_at, settings)
        if exc.reason is HeldBack.SHARE:
            budget = settings.smsc_hourly_budget
            return texts.USER_SHARE_SPENT(lang).format(
                share=user_share(budget), budget=budget, time=at
            )
        held = texts.BACKING_OFF if exc.reason is HeldBack.BACKOFF else texts.QUOTA_EXHAUSTED
        return held(lang).format(time=at)
    if isinstance(exc, KeyChecksPaused):
        return texts.KEY_CHECKS_PAUSED(lang).format(time=_minute(exc.resume_at, settings))
    if isinstance(exc, SmscError):
        return describe_error(exc, lang, settings)
    if isinstance(exc, StorageError | sqlite3.Error):
        logger.error("storage failed: %s", exc)
        return texts.STORAGE_ERROR(lang)
    return None


def _minute(at: float, settings: Settings) -> str:
    """``at`` as HH:MM, rounded up: a retry at that minute is never refused again."""
    return datetime.fromtimestamp(math.ceil(at / 60) * 60, settings.timezone).strftime("%H:%M")


def _plain(text: str) -> str:
    plain = html.unescape(_TAG.sub("", text))
    return plain if len(plain) <= _ALERT_LIMIT else plain[: _ALERT_LIMIT - 1] + "…"
