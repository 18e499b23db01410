"""The "📈 Chart" button under a ``/failed`` answer: the same window's failures, drawn.

Only members reach it (the member gate hands it ``account``), and only the member who asked,
with the account they asked with, as for the other lookup buttons. The press is answered at
once when the data is ready within a moment (an alert when nothing failed now), else with a
toast and the chart follows; the PNG is drawn off the event loop and sent with ``sendPhoto``.
Errors after the press was answered reach the error router as ``PressAnswered``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiogram import Bot, Router
from aiogram.enums import ChatType
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.chat.audit import AuditMiddleware
from bot.chat.caller import Caller, Role, gate
from bot.chat.press import PressAnswered
from bot.chat.queries import ChartButton
from bot.fetch import Fetcher
from bot.settings import Settings
from bot.store import Account
from bot.text import View
from bot.text import catalogue as texts
from bot.text.chart import ChartData, failed_chart, render_png
from bot.text.moments import span_hours

#: The file name a chart is sent under.
CHART_FILE = "chart.png"
#: The press is answered when the data is ready within this (seconds), else at once with a
#: toast, so the button's spinner never turns for long (as for the lookup buttons).
PRESS_ANSWER_WITHIN = 2.0


def make_router() -> Router:
    """A fresh router with the Chart button's handler, behind the member gate, audited."""
    members = gate(Router(name="chart.members"), Role.MEMBER)

    @members.callback_query(ChartButton.filter())
    async def chart(
        callback: CallbackQuery,
        callback_data: ChartButton,
        caller: Caller,
        account: Account,
        fetcher: Fetcher,
        settings: Settings,
        clock: Callable[[], float],
        bot: Bot,
    ) -> str:
        lang = caller.lang
        if callback_data.owner != caller.user_id:
            await callback.answer(texts.BUTTON_NOT_YOURS(lang), show_alert=True)
            return "refused:not-owner"
        shown = callback.message
        if (
            callback_data.account != account.id
            or not isinstance(shown, Message)
            or not callback_data.valid()
        ):
            await callback.answer(texts.BUTTON_EXPIRED(lang), show_alert=True)
            return "refused:expired"
        fetcher.admit(caller.user_id)  # before the press's answer: its refusal is an alert
        chat = shown.chat
        hours = callback_data.hours
        nothing = texts.CHART_NOTHING(lang).format(hours=span_hours(hours, lang))
        view = View(lang, settings.timezone, clock(), mask_codes=chat.type != ChatType.PRIVATE)
        charting = asyncio.ensure_future(_chart(fetcher, caller, account, hours, view))
        try:
            await asyncio.wait({charting}, timeout=PRESS_ANSWER_WITHIN)
            if charting.done() and charting.exception() is None and charting.result() is None:
                await callback.answer(nothing, show_alert=True)
                return "chart:none"
            await callback.answer(texts.CHART_COMING(lang))
        except BaseException:
            charting.cancel()
            raise
        try:
            found = await charting
            if found is None:
                await shown.answer(nothing)
                return "chart:none"
            data, caption = found
            png = await asyncio.to_thread(render_png, data, lang)
            await bot.send_photo(chat.id, BufferedInputFile(png, CHART_FILE), caption=caption)
        except Exception as exc:
            raise PressAnswered(exc) from exc
        return "chart"

    # The parent's inner middlewares wrap its sub-routers' handlers, the gate included.
    router = Router(name="chart")
    router.callback_query.middleware(AuditMiddleware())
    router.include_router(members)
    return router


async def _chart(
    fetcher: Fetcher, caller: Caller, account: Account, hours: int, view: View
) -> tuple[ChartData, str] | None:
    """``/failed hours``'s chart and caption (None: nothing failed), not yet drawn: the same
    window ``/failed`` answers from, through its cache and share."""
    window = await fetcher.failed(caller.user_id, account, hours)
    return failed_chart(window, hours, view)
