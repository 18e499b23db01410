"""A watch's messages sent to its chat, and the buttons under an alert.

``AlertSender`` is the runner's ``notify`` (``bot.watch.runner``): it renders an event in the
language of the member who set the watch (``bot.text.alerts``) and sends it as a new message —
an edit would not notify. An alert carries its chart (``bot.text.chart``, drawn off the event
loop): one photo with the alert as its caption when that fits Telegram's 1024 characters, else
the text and then the photo; a chart that cannot be drawn leaves the text alone. It carries two
buttons, "Silence 1 h" and "Details"
(``WatchPress``); whoever presses them needs membership of the watch's account, checked on the
press (``handlers.watch``). A chat the bot can no longer write to (removed, blocked: 403)
pauses its watches (``pause_watches``), and the member who set each is told once, in private,
where the bot can reach them (logged where it cannot).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from enum import StrEnum

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.chat.escaping import fill_html
from bot.settings import Settings
from bot.store import Watch, WatchStore
from bot.text import Lang, View
from bot.text import catalogue_watch as texts
from bot.text.alerts import render_alert, render_blind, render_resolved, render_seeing
from bot.text.chart import MAX_CAPTION, alert_chart, render_png
from bot.text.fitting import size
from bot.watch import Alert, Blind, Event, Resolved, Rule, Seeing
from bot.watch.runner import WatchRunner

logger = logging.getLogger(__name__)

#: The file name an alert's chart is sent under.
CHART_FILE = "chart.png"


class PressAction(StrEnum):
    """What a button under an alert does."""

    SILENCE = "s"
    DETAILS = "d"


class WatchPress(CallbackData, prefix="w"):
    """A button under an alert: the action, the watch, and when its incident started (whole
    seconds: "Details" reports from there to now)."""

    action: PressAction
    watch: int
    since: int = 0


def alert_buttons(watch: Watch, alert: Alert, lang: Lang) -> InlineKeyboardMarkup:
    """ "Silence 1 h" and "Details" for ``alert``."""
    since = int(alert.started_at)
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts.BUTTON_SILENCE(lang),
                    callback_data=WatchPress(action=PressAction.SILENCE, watch=watch.id).pack(),
                ),
                InlineKeyboardButton(
                    text=texts.BUTTON_DETAILS(lang),
                    callback_data=WatchPress(
                        action=PressAction.DETAILS, watch=watch.id, since=since
                    ).pack(),
                ),
            ]
        ]
    )


def watch_view(watch: Watch, settings: Settings, now: float) -> View:
    """How a watch's messages are rendered: the setter's language, the bot's time zone."""
    lang = Lang.RU if watch.language == Lang.RU.value else Lang.EN
    return View(lang, settings.timezone, now, mask_codes=True)


class AlertSender:
    """Renders a watch's events and sends them to its chat (``bot.watch.runner.Notify``)."""

    def __init__(
        self, bot: Bot, settings: Settings, clock: Callable[[], float], store: WatchStore
    ) -> None:
        self._bot = bot
        self._settings = settings
        self._clock = clock
        self._store = store

    async def __call__(self, watch: Watch, rule: Rule, event: Event) -> None:
        view = watch_view(watch, self._settings, self._clock())
        name = watch.account_name
        markup = None
        if isinstance(event, Alert):
            text = render_alert(event, rule, name, view)
            markup = alert_buttons(watch, event, view.lang)
        elif isinstance(event, Resolved):
            text = render_resolved(event, rule, name, view)
        elif isinstance(event, Blind):
            text = render_blind(event, name, view)
        elif isinstance(event, Seeing):
            text = render_seeing(event, name, view)
        try:
            chart = await self._chart(event, rule, view) if isinstance(event, Alert) else None
            if chart is None:
                await self._bot.send_message(watch.chat_id, text, reply_markup=markup)
            elif size(text) <= MAX_CAPTION:
                await self._bot.send_photo(watch.chat_id, chart, caption=text, reply_markup=markup)
            else:
                await self._bot.send_message(watch.chat_id, text, reply_markup=markup)
                await self._bot.send_photo(watch.chat_id, chart, disable_notification=True)
        except TelegramForbiddenError as exc:
            logger.warning(
                "the watch %d of %s cannot write to chat %d (%s): its watches pause",
                watch.id,
                name,
                watch.chat_id,
                exc.message,
            )
            await pause_watches(
                self._bot, self._store, self._settings, watch.chat_id, "", now=self._clock()
            )

    async def _chart(self, alert: Alert, rule: Rule, view: View) -> BufferedInputFile | None:
        """``alert``'s chart as a PNG upload, drawn off the event loop; None when it cannot be
        drawn (logged: the alert goes without it)."""
        try:
            png = await asyncio.to_thread(render_png, alert_chart(alert, rule, view), view.lang)
        except Exception:
            logger.exception("an alert's chart could not be drawn; the alert goes without it")
            return None
        return BufferedInputFile(png, CHART_FILE)


async def pause_watches(
    bot: Bot, store: WatchStore, settings: Settings, chat_id: int, title: str, *, now: float
) -> int:
    """The bot cannot write to ``chat_id`` any more: its watches pause, and the member who
    set each watch paused now is told once in private (logged where the bot cannot reach
    them); how many paused."""
    paused = await store.pause_chat(chat_id, now=now)
    for watch in paused:
        view = watch_view(watch, settings, now)
        line = fill_html(
            texts.WATCH_PAUSED_TOLD(view.lang),
            title=title or str(chat_id),
            name=watch.account_name,
        )
        try:
            await bot.send_message(watch.set_by, line)
        except TelegramAPIError as exc:
            logger.warning(
                "the watch %d of %s in chat %d paused; its setter cannot be told: %s",
                watch.id,
                watch.account_name,
                chat_id,
                exc.message,
            )
    return len(paused)


async def start_watching(
    bot: Bot, watch_runner: WatchRunner, settings: Settings, clock: Callable[[], float]
) -> None:
    """The dispatcher's startup: the watches look on the clock and send with ``bot``."""
    watch_runner.start(AlertSender(bot, settings, clock, watch_runner.store))


async def stop_watching(watch_runner: WatchRunner) -> None:
    """The dispatcher's shutdown: the watches stop looking."""
    await watch_runner.close()
