"""The shared fetch layer (PRODUCT.md §7): every SMS Center lookup of the bot goes through one
``Fetcher`` per process, which keeps each account within SMS Center's limits.

SMS Center answers at most 3 identical history requests a minute and 30 history requests an
hour per account, and refuses more; the bot is the one client a whole team shares, so it must
never be the cause of a refusal. Every answer is a ``Lookup``: the value, where it came from
(``Origin``: fresh, cache, stale), when its data was fetched, and for stale data why a fresh
request was not made (``HeldBack``) and when one is possible. A lookup with nothing to answer
raises instead (``UserRateLimited``, ``QuotaExhausted``, ``KeyChecksPaused``, or the
``bot.smsc`` error).

The rules, in the order a lookup meets them:

1. **Per-user guard** — a token bucket per Telegram user (``USER_RATE_LIMIT``), taken by every
   lookup before anything else: an empty bucket raises ``UserRateLimited`` ("try again in
   N s"), even for an answer the bot holds.
2. **Key-check pause** (``check_key`` only) — after 3 refused keys in 30 minutes, key checks
   raise ``KeyChecksPaused`` until the first leaves the window: SMS Center blocks the IP after
   5. A key check (``balance.php``) skips every rule below.
3. **Held answer** — the newest answer per account and query is held for 24 hours; younger than
   ``CACHE_TTL`` (at least 20 s, so never more than 3 identical requests a minute) it is served
   as is (``CACHE``).
4. **Reuse of the window** — the *window* is one account-wide history request (the last 2 days,
   up to 1000 messages) that ``/recent`` and ``/failed`` read. A fresh window answers
   ``/last`` and the first page of ``/history`` for a number with enough messages in it
   (``CACHE``). A ``/last`` asks for the window first (unless the number's own request is under
   way), because one window answers the next questions about other numbers too; the number
   gets its own request when the window does not hold it or the budget refuses the window.
5. **Single-flight** — a lookup identical to one under way joins it and gets its answer.
6. **Refused key** — while the back-off after error 2 (wrong key) runs, the error is raised
   again without asking: a wrong key retried gets the IP blocked.
7. **Per-user share** — one user may cause at most a third of the account's hourly budget
   (``user_share``) in a sliding hour. Over it: held data, ``STALE`` with ``HeldBack.SHARE``,
   or ``QuotaExhausted``. Status lookups do not count.
8. **Account budget and back-off** — ``AccountBudget`` counts history requests per account in a
   sliding hour (``SMSC_HOURLY_BUDGET``, default 30, kept in the database so a restart does not
   reset it). A sixth is kept for *cold* questions (nothing held for them); *warm* refreshes of
   held data are paced by a token bucket (up to 10 saved, one more every 240 s at the default
   budget). No request is made while a back-off runs. Refused: held data, ``STALE`` with
   ``HeldBack.BACKOFF`` or ``HeldBack.BUDGET`` and the time a fresh request is possible, or
   ``QuotaExhausted``. ``status.php`` is free of the budget but waits out a back-off too.
9. **In flight** — at most ``max_in_flight`` requests per account at once (SMS Center refuses
   five simultaneous status requests under one login); the rest queue.
10. **SMS Center** — the request. A refusal backs the account off and is logged: error 9
    doubles from a minute up to an hour, error 4 (IP blocked) waits 30 minutes, error 2 five.
    A refusal (9, 4) or a transport failure (timeout, HTTP error, bad body) serves held data,
    ``STALE`` with ``HeldBack.UPSTREAM``, or raises when nothing is held; error 2 and the other
    errors are raised. A connection that was never made gives the request back to the budget
    and to the user's share. A success ends the back-off's doubling.

Not built yet of §7: the account picture, batched questions, status refresh of held messages and
the hour shared by purpose.

May import: ``bot.smsc`` (the protocol) and the standard library, cachetools. Never aiogram,
``bot.store`` (the ledger is a protocol it is handed), ``bot.text`` or anything above.
"""

from bot.fetch.batcher import BotStopping, NumberRefused
from bot.fetch.budget import RESERVE_SHARE
from bot.fetch.fetcher import PHONE_HISTORY_COUNT, WINDOW_COUNT, WINDOW_DAYS, Fetcher
from bot.fetch.limits import HOUR, user_share
from bot.fetch.models import (
    Answer,
    HeldBack,
    KeyChecksPaused,
    Lookup,
    Origin,
    QuotaExhausted,
    UserRateLimited,
    Window,
)

__all__ = [
    "HOUR",
    "PHONE_HISTORY_COUNT",
    "RESERVE_SHARE",
    "WINDOW_COUNT",
    "WINDOW_DAYS",
    "Answer",
    "BotStopping",
    "Fetcher",
    "HeldBack",
    "KeyChecksPaused",
    "Lookup",
    "NumberRefused",
    "Origin",
    "QuotaExhausted",
    "UserRateLimited",
    "Window",
    "user_share",
]
