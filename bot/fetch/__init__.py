"""The shared fetch layer (PRODUCT.md §7): every SMS Center history and status lookup goes
through one ``Fetcher`` per process, which keeps the account within SMS Center's limits.

May import: ``bot.smsc`` (the protocol) and the standard library, cachetools. Never aiogram,
``bot.store`` (the ledger is a protocol it is handed), ``bot.text`` or anything above.
"""

from bot.fetch.fetcher import (
    HOUR,
    PHONE_HISTORY_COUNT,
    RESERVE_SHARE,
    WINDOW_COUNT,
    WINDOW_DAYS,
    Fetcher,
    HeldBack,
    KeyChecksPaused,
    Lookup,
    Origin,
    QuotaExhausted,
    UserRateLimited,
    Window,
    user_share,
)

__all__ = [
    "HOUR",
    "PHONE_HISTORY_COUNT",
    "RESERVE_SHARE",
    "WINDOW_COUNT",
    "WINDOW_DAYS",
    "Fetcher",
    "HeldBack",
    "KeyChecksPaused",
    "Lookup",
    "Origin",
    "QuotaExhausted",
    "UserRateLimited",
    "Window",
    "user_share",
]
