"""The shared fetch layer (PRODUCT.md §7): every SMS Center lookup of the bot goes through one
``Fetcher`` per process, which keeps each account within SMS Center's limits.

SMS Center answers at most 3 identical history requests a minute and 30 history requests an
hour per account, and refuses more; the bot is the one client a whole team shares, so it must
never be the cause of a refusal. Every answer is a ``Lookup``: the value, where it came from
(``Origin``: fresh, cache, stale), when its data was fetched, and for stale data why a fresh
request was not made (``HeldBack``) and when one is possible. A lookup with nothing to answer
raises instead (``UserRateLimited``, ``QuotaExhausted``, ``KeyChecksPaused``, or the
``bot.smsc`` error).

Two stores hold what the layer knows. The **account picture** (``picture.AccountPicture``, one
per account) holds every message learnt from any history request, merged by identity, with the
spans of send times known complete per number and account-wide; it answers ``/last`` and the
pages of ``/history`` it holds whole. The **held answers** (a TTL cache per account and query)
keep the newest answer of ``/recent``, ``/failed``, ``/status`` and per-number requests.

The rules, in the order a lookup meets them:

1. **Per-user guard** — a token bucket per Telegram user (``USER_RATE_LIMIT``), taken by every
   lookup before anything else (a button press takes it before its answer, ``admit``): an empty
   bucket raises ``UserRateLimited`` ("try again in N s"), even for an answer the bot holds.
2. **Key-check pause** (``check_key`` only) — after 3 refused keys in 30 minutes, key checks
   raise ``KeyChecksPaused`` until the first leaves the window: SMS Center blocks the IP after
   5. A key check (``balance.php``) skips every rule below.
3. **The picture vouches** (``/last``) — when the picture holds the number's newest message (or
   knows there is none in six months) as of less than ``CACHE_TTL`` ago (at least 20 s, so
   never more than 3 identical requests a minute), that is the answer (``CACHE``). ``/history``
   and its "Older" pages are answered the same way from pages the picture holds whole; an
   "Older" page it holds costs nothing however old.
4. **Batched questions** (``/last``) — otherwise the number waits with the account's other
   waiting numbers (``batch.WaitingNumbers``) and the caller gets an ``Answer`` at once: the
   held data marked with its age (``ASKING``, or ``BUDGET``/``BACKOFF`` with when) or nothing
   yet, and a final ``Lookup`` to await. The account's batch loop (``batcher.Batcher``) holds
   the request for the questions of the same moment (``BATCH_GATHER``, 20 s; when the request is
   the last the budget has saved, until the earliest question still answerable within a minute
   has waited 55 s, so that it carries that whole minute; when every question waiting is past
   its minute, or fewer than three are within theirs, not on the last two saved requests,
   which are kept for the next questions that can still be answered within one: they go when
   three are saved, after five minutes, or at the time promised to them, whichever is first;
   a new question wakes the wait; with ``gather`` 0, the console's, none of this holds a
   request back), waits for
   the budget, and asks once for every waiting number with a comma-separated ``phone`` list
   (``cnt`` 1000, six months back; at most 50 numbers, round-robin by asker when more wait).
   The answer goes into the picture, judged complete under either reading of ``cnt``; a
   number it cannot vouch for waits for the next request; error 1 splits the list to find the
   refused number; any other failure reaches every waiter (held data marked ``UPSTREAM``, or
   the error). A number is asked for directly — never after a window that cannot hold it — so
   a cold ``/last`` costs one request.
5. **Held answer** (the other lookups) — the newest answer per account and query is held for
   24 hours; younger than ``CACHE_TTL`` it is served as is (``CACHE``).
6. **Single-flight** — a lookup identical to one under way joins it and gets its answer (a
   number already waiting shares its future).
7. **Refused key** — while the back-off after error 2 (wrong key) runs, the error is raised
   again without asking: a wrong key retried gets the IP blocked.
8. **Per-user share** (single requests, not batches) — one user may cause at most a third of
   the account's hourly budget (``user_share``) in a sliding hour. Over it: held data,
   ``STALE`` with ``HeldBack.SHARE``, or ``QuotaExhausted``. Status lookups do not count. A
   batch serves everyone waiting: round-robin keeps one person from filling it.
9. **Account budget and back-off** — ``AccountBudget`` counts history requests per account in a
   sliding hour (``SMSC_HOURLY_BUDGET``, default 30, kept in the database so a restart does not
   reset it). Batches and refreshes of held data are paced by a token bucket (up to 5 saved
   in quiet spells, then one more every 164 s at the default budget), so the hour lasts the
   hour and waiting numbers go together; three requests of the 30 are kept for single cold
   requests (``/history``, ``/recent``, ``/failed`` with nothing held). No request is made
   while a back-off runs. Refused: held data, ``STALE`` with ``HeldBack.BACKOFF`` or
   ``HeldBack.BUDGET`` and the time a fresh request is possible, or ``QuotaExhausted``.
   ``status.php`` is free of the budget but waits out a back-off too. **The hour is shared by
   purpose** (``budget.Purpose``): lookups keep half of it, ``/failed`` and ``/recent`` a
   fifth, watches ``WATCH_BUDGET`` (default 6; ``Fetcher.watch`` fetches the window for
   them at most that often, evenly spaced, ``watching.WatchPace``), each while it was asked
   for in the last hour; what one does not use,
   the others may, so one person alone may use the whole hour. Past its minimum, ``/failed``'s
   window is refreshed at most every five minutes (``ACCOUNT_FRESH``), and once its newest
   request is that old the others leave one request of the hour free for it: a busy hour's
   ``/failed`` is never more than five minutes old for want of a request.
10. **In flight** — at most ``max_in_flight`` requests per account at once (SMS Center refuses
    five simultaneous status requests under one login); the rest queue.
11. **SMS Center** — the request. A refusal backs the account off and is logged: error 9
    doubles from a minute up to an hour, error 4 (IP blocked) waits 30 minutes — every account
    of the host, since the IP is blocked, not the account — error 2 five.
    A refusal (9, 4) or a transport failure (timeout, HTTP error, bad body) serves held data,
    ``STALE`` with ``HeldBack.UPSTREAM``, or raises when nothing is held; error 2 and the other
    errors are raised. A connection that was never made gives the request back to the budget
    and to the user's share. A success ends the back-off's doubling.

The picture holds at most 20 000 messages per account (``picture.MAX_MESSAGES``), the earliest
sent dropped first, and every span that covered a dropped message is cut after it. On shutdown
(``Fetcher.close``) every question still waiting fails with ``BotStopping``.

**Status refresh** (``refresh.StatusRefresher``): when ``/last`` shows held data whose newest
message can still change (waiting, passed to the operator) and whose batch is not coming now,
its status is refreshed with ``status.php`` (free of the history budget; at most once per
message per ``CACHE_TTL``, one multi-message request a minute, one request at a time per
account); the answer shows both ages ("as of 14:02 · status as of 14:05"). The number still
joins the batch.

**``/failed`` covers what it says** (``paging.page_back``): past the account-wide window it
pages back with ``prev_id`` (1000 messages a page, ``Purpose.ACCOUNT``) until the asked hours
are held, the share says no, or a page does not reach further back; pages the picture holds
join by themselves. The answer is read from the picture and says from when on it is whole.
``/recent`` still reads the account-wide window alone. The held answers of rule 5–11 live in
``held.HeldAnswers``; key checks in ``keycheck.KeyChecks``.

May import: ``bot.smsc`` (the protocol) and the standard library, cachetools. Never aiogram,
``bot.store`` (the ledger is a protocol it is handed), ``bot.text`` or anything above.
"""

from bot.fetch.batcher import BotStopping, NumberNotReached, NumberRefused
from bot.fetch.budget import RESERVE_SHARE
from bot.fetch.fetcher import (
    PHONE_HISTORY_COUNT,
    PROMPT,
    WINDOW_COUNT,
    Fetcher,
)
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
    settled_within,
)
from bot.fetch.period import WINDOW_DAYS

__all__ = [
    "HOUR",
    "PHONE_HISTORY_COUNT",
    "PROMPT",
    "RESERVE_SHARE",
    "WINDOW_COUNT",
    "WINDOW_DAYS",
    "Answer",
    "BotStopping",
    "Fetcher",
    "HeldBack",
    "KeyChecksPaused",
    "Lookup",
    "NumberNotReached",
    "NumberRefused",
    "Origin",
    "QuotaExhausted",
    "UserRateLimited",
    "Window",
    "settled_within",
    "user_share",
]
