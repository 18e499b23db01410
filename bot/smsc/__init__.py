"""SMS Center's HTTP protocol: the client (three coroutines and an exception tree), the status
push and its assumed signature (``bot.smsc.push``), the push sender (``bot.smsc.pusher``), and the
simulated SMS Center (``bot.smsc.simulator``, imported on its own: it needs aiohttp).

May import: the standard library, httpx (the client), aiohttp (the simulator only). Nothing
else of ``bot/``: it is the bottom layer.
"""

from bot.smsc.client import (
    HistoryEntry,
    MessageStatus,
    SmscApiError,
    SmscBadCredentials,
    SmscBadParameters,
    SmscClient,
    SmscConnectError,
    SmscDeleteFailed,
    SmscError,
    SmscHTTPError,
    SmscIPBlocked,
    SmscMalformedResponse,
    SmscNotFound,
    SmscRateLimited,
    SmscTimeout,
    SmscTransportError,
)

__all__ = [
    "HistoryEntry",
    "MessageStatus",
    "SmscApiError",
    "SmscBadCredentials",
    "SmscBadParameters",
    "SmscClient",
    "SmscConnectError",
    "SmscDeleteFailed",
    "SmscError",
    "SmscHTTPError",
    "SmscIPBlocked",
    "SmscMalformedResponse",
    "SmscNotFound",
    "SmscRateLimited",
    "SmscTimeout",
    "SmscTransportError",
]
