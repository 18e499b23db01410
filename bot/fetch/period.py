"""How far back the fetch layer asks SMS Center, in the account's time zone.

SMS Center's ``start`` is a date (``DD.MM.YYYY``) read in the account's time zone, and its
history reaches back six months: a number's history is asked from ``PHONE_HISTORY_DAYS`` back,
the account-wide window from ``WINDOW_DAYS`` back. The picture compares send times, so each date
goes with its first moment as Unix time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from typing import Final

__all__ = ["PHONE_HISTORY_DAYS", "WINDOW_DAYS", "Period"]

# The account-wide window: the newest messages of the last days.
WINDOW_DAYS: Final = 2
# Per-number history is asked from this many days back: SMS Center gives at most six months.
PHONE_HISTORY_DAYS: Final = 180


class Period:
    """Dates to send as ``start`` and their first moments, on the fetch layer's clock."""

    def __init__(self, tz: tzinfo, clock: Callable[[], float]) -> None:
        self.tz = tz
        self._clock = clock

    def days_back(self, days: int) -> date:
        """The date ``days`` before today in the account's time zone."""
        today = datetime.fromtimestamp(self._clock(), self.tz).date()
        return today - timedelta(days=days)

    def day_start(self, day: date) -> float:
        """The first moment of ``day`` in the account's time zone (what ``start`` means)."""
        return datetime(day.year, day.month, day.day, tzinfo=self.tz).timestamp()

    def history_start(self) -> tuple[date, float]:
        """How far back a number's history is asked: the ``start`` date and its first moment."""
        day = self.days_back(PHONE_HISTORY_DAYS)
        return day, self.day_start(day)
