"""The aiogram ``Bot`` for a Bot API server: ``{TELEGRAM_API_URL}/bot{token}/{method}``."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from bot.chat.retry import RetryMiddleware


def make_bot(
    token: str,
    api_url: str,
    *,
    retry: RetryMiddleware | None = None,
    session: BaseSession | None = None,
    around_retries: BaseRequestMiddleware | None = None,
    each_attempt: BaseRequestMiddleware | None = None,
) -> Bot:
    """A Bot with HTML answers talking to ``api_url`` (or through ``session``, an in-process
    one); 429s and transient failures are retried (by ``retry``, default ``RetryMiddleware()``;
    tests pass one whose waits take no time). ``around_retries`` sees each call once, with its
    final outcome; ``each_attempt`` sees every attempt (the metrics count both)."""
    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
    # The first registered is the outermost.
    if around_retries is not None:
        session.middleware(around_retries)
    session.middleware(retry or RetryMiddleware())
    if each_attempt is not None:
        session.middleware(each_attempt)
    return Bot(
        token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
