"""A lookup query as the commands accept it, and the button that carries it back.

``Query`` is what a lookup command parsed; ``LookupButton`` is a "Refresh", "Older" or
"Look up" button's callback data (who asked, with which account, and the query), ``ChartButton``
a ``/failed`` answer's "📈 Chart";
``button_query`` turns pressed data back into a ``Query`` only when a command could have made
it, since callback data comes from the client and can be forged. The limits of each command's
argument live here too, for the commands and the buttons to agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.fetch import PHONE_HISTORY_COUNT
from bot.text import InvalidPhone, parse_phone

__all__ = [
    "FAILED_DEFAULT",
    "FAILED_MAX",
    "HISTORY_DEFAULT",
    "RECENT_DEFAULT",
    "RECENT_MAX",
    "ChartButton",
    "Kind",
    "LookupButton",
    "Query",
    "button_query",
    "pack",
]

HISTORY_DEFAULT = 5
RECENT_DEFAULT, RECENT_MAX = 10, 50
FAILED_DEFAULT, FAILED_MAX = 1, 24


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
    account changed since; the caller's rights are checked again on every press. ``at`` is
    where a history page starts, counted from the newest (for its header only).
    """

    kind: Kind
    phone: str = ""
    n: int = 0
    before: int = 0
    owner: int
    account: int
    older: bool = False
    at: int = 0


class ChartButton(CallbackData, prefix="c"):
    """A "📈 Chart" button under a ``/failed`` answer: its hours, who asked, with which account
    (checked on the press like a ``LookupButton``'s)."""

    hours: int
    owner: int
    account: int

    def valid(self) -> bool:
        """Whether ``/failed`` could have made it (callback data can be forged)."""
        return 1 <= self.hours <= FAILED_MAX


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed lookup: ``n`` is a count, the hours of /failed, or the message id of /status;
    ``before`` the int_id an "Older" page starts below, ``at`` that page's place counted from
    the newest (1-based, 0 when not known)."""

    kind: Kind
    phone: str = ""
    n: int = 0
    before: int = 0
    at: int = 0


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
# A page's place in a number's history: six months of messages to one number, at most.
_MAX_AT = 100_000


def button_query(data: LookupButton) -> Query | None:
    """The query a button carries, or None when no command could have made it.

    Callback data comes from the client and can be forged: a phone that is not one
    ``parse_phone`` returns, or a count out of range, must never reach SMS Center.
    """
    low, high = _BUTTON_N[data.kind]
    if not low <= data.n <= high:
        return None
    if not 0 <= data.before < 2**63 or (data.before and data.kind is not Kind.HISTORY):
        return None
    if not 0 <= data.at <= _MAX_AT or (data.at and not data.before):
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
    return Query(data.kind, data.phone, data.n, data.before, data.at)


def pack(button: LookupButton) -> str:
    """The button's callback data; without its page place when that would pass Telegram's
    64 bytes (huge ids), so the page is still reachable, its header just less precise."""
    try:
        return button.pack()
    except ValueError:
        return button.model_copy(update={"at": 0}).pack()
