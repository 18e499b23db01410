"""The aiogram ``Bot`` for a Bot API server: ``{TELEGRAM_API_URL}/bot{token}/{method}``."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from bot.flood import RetryAfterMiddleware


def make_bot(token: str, api_url: str) -> Bot:
    """A Bot with HTML answers and 429 flood control, talking to ``api_url``."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
    session.middleware(RetryAfterMiddleware())
    return Bot(
        token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
