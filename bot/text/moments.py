"""Times for people: ``14:03``, ``25.11 14:03``, "12 minutes ago", hours of a window.

Every time is shown in the reader's time zone and judged against the reader's present
(:class:`View`), never the wall clock.
"""

from __future__ import annotations

import math
from datetime import datetime

from bot.text import catalogue_answers as phrases
from bot.text.phrases import Lang
from bot.text.sanitize import NONE
from bot.text.view import View

__all__ = ["ago", "as_of", "moment", "span_hours", "when"]


def when(ts: float | None, view: View) -> str:
    """``ts`` for people: ``"25.11 14:03 (12 minutes ago)"`` in ``view.tz``.

    Today's times drop the date (``"14:03 (12 minutes ago)"``), another year adds it
    (``"25.11.2024 14:03 (…)"``). Under a minute is "just now"; then minutes, hours, days.
    A time in the future (clocks disagree) shows no relative part. ``None`` or a timestamp
    that cannot be a date gives ``"—"``. Never raises.
    """
    shown = moment(ts, view)
    if ts is None or shown == NONE:
        return NONE
    relative = ago(ts, view)
    return f"{shown} ({relative})" if relative else shown


def moment(ts: float | None, view: View, *, seconds: bool = False) -> str:
    """``14:03`` today, ``25.11 14:03`` another day this year, ``25.11.2024 14:03`` otherwise.

    ``"—"`` for ``None`` or a timestamp no calendar can show.
    """
    local = _local(ts, view)
    if local is None:
        return NONE
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    today = _local(view.now, view)
    if today is not None and local.date() == today.date():
        return clock
    if today is not None and local.year == today.year:
        return f"{local:%d.%m} {clock}"
    return f"{local:%d.%m.%Y} {clock}"


def as_of(ts: float, view: View) -> str:
    """``ts`` with seconds and the time zone's short name: ``14:05:00 MSK`` (``25.11 14:05:00
    MSK`` another day). The one time of an answer that names its zone, so that every other
    time in it reads in that zone."""
    shown = moment(ts, view, seconds=True)
    local = _local(ts, view)
    zone = local.tzname() if local is not None else None
    return f"{shown} {zone}" if zone and shown != NONE else shown


def ago(ts: float, view: View) -> str:
    """``"12 minutes ago"`` relative to ``view.now``; empty for a time in the future."""
    seconds = view.now - ts
    if not math.isfinite(seconds) or seconds < -60:
        return ""
    lang = view.lang
    if seconds < 60:
        return phrases.JUST_NOW(lang)
    if seconds < 3600:
        return phrases.MIN_AGO(lang, int(seconds // 60))
    if seconds < 86400:
        return phrases.HOURS_AGO(lang, int(seconds // 3600))
    return phrases.DAYS_AGO(lang, int(seconds // 86400))


def span_hours(value: float, lang: Lang) -> str:
    """A number of hours as typed: ``3``, ``0.5`` (``0,5`` in Russian)."""
    text = str(int(value)) if float(value).is_integer() else f"{value:g}"
    return text.replace(".", ",") if lang is Lang.RU else text


def _local(ts: float | None, view: View) -> datetime | None:
    if ts is None:
        return None
    try:
        return datetime.fromtimestamp(ts, view.tz)
    except (OverflowError, OSError, ValueError):
        return None  # a timestamp no calendar can show (SMS Center sent nonsense)
