"""The ``Fetcher``: every SMS Center lookup of the bot, and the order its rules apply in.

The rules themselves are the package docstring (``bot.fetch``); this module applies them:
the public lookups (``last``, ``history``, ``recent``, ``failed``, ``status``, ``check_key``),
the held answers per account and query, single-flight, and ``_decide``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from contextvars import ContextVar
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import TypeVar

from bot.fetch.batcher import GATHER, Batcher, NumberNotReached
from bot.fetch.budget import ACCOUNT_FRESH, AccountBudget, Purpose
from bot.fetch.held import HeldAnswers, Snapshot
from bot.fetch.keycheck import KeyChecks
from bot.fetch.limits import HOUR, UserGuard, UserShare, user_share
from bot.fetch.models import (
    Account,
    Answer,
    HeldBack,
    Lookup,
    Origin,
    QuotaExhausted,
    QuotaLedger,
    UserRateLimited,
    Window,
    landed_within,
    retrieved,
    settled_within,
)
from bot.fetch.paging import PAGE_COUNT, page_back
from bot.fetch.period import WINDOW_DAYS, Period
from bot.fetch.picture import Held, Newest
from bot.fetch.refresh import StatusRefresher
from bot.fetch.watching import WatchPace
from bot.smsc import (
    HistoryEntry,
    MessageStatus,
    SmscBadCredentials,
    SmscClient,
    SmscError,
    SmscIPBlocked,
    SmscRateLimited,
    SmscTransportError,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How many messages one number's history fetch asks for: enough for /last and /history (≤ 20),
# so both are answered by one cached request.
PHONE_HISTORY_COUNT = 20
# The account-wide window: the newest messages of the last days, at most SMS Center's maximum.
WINDOW_COUNT = 1000
# A final answer due within this many seconds is worth waiting for: one message, not two.
PROMPT = 2.0
# The asking user: set by each public lookup, read where the budget is spent (``_decide``).
_ASKING: ContextVar[int | None] = ContextVar("asking_user", default=None)
# A user whose guard ``admit`` already took for the next lookup of this task.
_ADMITTED: ContextVar[int | None] = ContextVar("admitted_user", default=None)


# Query keys: what was asked of SMS Center. Identical keys are identical upstream requests.
_WINDOW = ("window",)


def _phone_key(phone: str) -> tuple[str, str]:
    return ("phone", phone)


class Fetcher:
    """Every lookup of the bot, deciding between cache, reuse, budget and SMS Center."""

    def __init__(
        self,
        client: SmscClient,
        ledger: QuotaLedger,
        *,
        cache_ttl: float,
        user_limit: tuple[int, float],
        hourly_budget: int,
        tz: tzinfo,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        gather: float = GATHER,
        cache_size: int = 4096,
        max_in_flight: int = 2,
        watch_budget: int | None = None,
    ) -> None:
        self._client = client
        self._ttl = cache_ttl
        self._period = Period(tz, clock)
        self._clock = clock
        self.guard = UserGuard(*user_limit, clock=clock)
        self.shares = UserShare(user_share(hourly_budget), clock=clock)
        self.keys = KeyChecks(client, clock=clock)
        self.budget = AccountBudget(
            ledger, hourly_budget, clock=clock, max_in_flight=max_in_flight,
            watch_share=watch_budget,
        )  # fmt: skip
        self.watch_pace = WatchPace(
            watch_budget if watch_budget is not None else self.budget.minimum(Purpose.WATCH),
            clock=clock,
        )
        self.answers = HeldAnswers(
            self.budget, self.shares, ttl=cache_ttl, clock=clock, cache_size=cache_size
        )
        self._gather = gather
        self.batches = Batcher(
            client,
            self.budget,
            clock=clock,
            sleep=sleep,
            start=self._period.history_start,
            gather=gather,
        )
        self.refresher = StatusRefresher(
            client, self.budget, self.batches.picture, ttl=cache_ttl, clock=clock, sleep=sleep
        )

    def __repr__(self) -> str:
        return f"Fetcher(cache_ttl={self._ttl}, held={len(self.answers)})"

    # --- public lookups -------------------------------------------------------------------

    async def ask_last(
        self, user_id: int, account: Account, phone: str
    ) -> Answer[HistoryEntry | None]:
        """The newest message to ``phone`` (``None``: none in six months), now and when more is
        coming, later.

        Answered at once when the account picture vouches for the number as of less than
        ``CACHE_TTL`` ago. Otherwise the number joins the account's next batch (one request for
        every number waiting, when the budget allows); ``Answer.now`` is the held data, marked
        ``ASKING`` (the request is coming now) or ``BUDGET``/``BACKOFF`` (it comes at ``due``).
        """
        self._admit(user_id)
        picture = self.batches.picture(account.key_id)
        _, start = self._period.history_start()
        newest = picture.newest(phone, start=start)
        if newest is not None and self._clock() - newest.as_of < self._ttl:
            return Answer(Lookup(_entry(newest), Origin.CACHE, newest.as_of))
        await self._guard(account, held=True)  # a batch always answers, held data or late
        refusal = await self.budget.backoff_error(account.key_id)
        if isinstance(refusal, SmscBadCredentials):
            raise refusal  # the key was refused: asking again would get the IP blocked
        future, due = await self.batches.wait_for(account, phone, user_id)
        now = self._clock()
        soon = due <= now + max(self._gather, PROMPT)  # gathering, not held back
        if not soon and newest is not None and newest.held is not None:
            newest = await self._refreshed(account, phone, newest.held) or newest
        reason = HeldBack.ASKING if soon else HeldBack.BACKOFF if refusal else HeldBack.BUDGET
        held = (
            None
            if newest is None
            else Lookup(_entry(newest), Origin.STALE, newest.as_of, reason, due, _status_at(newest))
        )
        final = asyncio.ensure_future(self._newest_when_asked(future, account, phone, held))
        return Answer(held, final, due, prompt=due <= now + PROMPT)

    async def _refreshed(self, account: Account, phone: str, held: Held) -> Newest | None:
        """The number's newest message after a status refresh, when its status can change and
        the refresh goes now (waited for ``PROMPT`` at most); None: nothing refreshed now."""
        if not self.refresher.due(account.key_id, held):
            return None
        refreshing, at = self.refresher.refresh(account, held)
        if at > self._clock() or not await landed_within(refreshing, PROMPT):
            return None
        _, start = self._period.history_start()
        return self.batches.picture(account.key_id).newest(phone, start=start)

    async def last(self, user_id: int, account: Account, phone: str) -> Lookup[HistoryEntry | None]:
        """The newest message to ``phone`` for a caller that shows one answer: the final one
        when its request is coming now, else the held data (or ``QuotaExhausted``); the number
        still gets its request when the budget allows."""
        answer = await self.ask_last(user_id, account, phone)
        if answer.final is None:
            assert answer.now is not None
            return answer.now
        if answer.prompt:
            landed = await settled_within(answer.final, PROMPT)
            if landed is not None:
                return landed
        answer.final.add_done_callback(retrieved)
        if answer.now is None:
            reason = (
                HeldBack.BACKOFF
                if await self.budget.backoff_error(account.key_id)
                else HeldBack.BUDGET
            )
            raise QuotaExhausted(answer.due or self._clock(), reason)
        return answer.now

    async def close(self) -> None:
        """Stop the batches (every question still waiting gets ``BotStopping``) and the
        status refreshes."""
        await self.batches.close()
        await self.refresher.close()

    async def history(
        self, user_id: int, account: Account, phone: str, count: int, before: int | None = None
    ) -> Lookup[list[HistoryEntry]]:
        """Up to ``count`` (≤ 20) messages to ``phone``, newest first; ``before`` pages back.

        Pages the account picture holds whole cost no request ("Older" over held pages).
        """
        self._admit(user_id)
        count = max(1, min(count, PHONE_HISTORY_COUNT))
        picture = self.batches.picture(account.key_id)
        start_day, start = self._period.history_start()
        page = picture.history(phone, count, start=start, before=before)
        if page is not None and (before is not None or self._clock() - page.as_of < self._ttl):
            return Lookup([held.entry for held in page.held], Origin.CACHE, page.as_of)
        if before is None:
            held = None if page is None else Snapshot([h.entry for h in page.held], page.as_of)
            lookup = await self._phone_history(account, phone, held)
            return lookup.map(lambda entries: entries[:count])
        anchor = picture.sent_at(before)
        query = ("older", phone, before, count)
        lookup = await self._cached(
            account,
            query,
            cold=True,
            fetch=lambda: self._client.get_messages(
                account.apikey, phone=phone, cnt=count, prev_id=before, start=start_day
            ),
        )
        if lookup.origin is Origin.FRESH and anchor is not None:
            picture.learn_history(
                lookup.value, at=lookup.fetched_at, since=start, cnt=count, phones=[phone],
                before=anchor,
            )  # fmt: skip
        return lookup

    async def recent(
        self, user_id: int, account: Account, count: int
    ) -> Lookup[list[HistoryEntry]]:
        """The account's newest ``count`` messages to any number (from the window)."""
        self._admit(user_id)
        lookup = await self._window(account)
        picture = self.batches.picture(account.key_id)  # statuses refreshed or pushed since
        return lookup.map(lambda entries: [picture.current(e) for e in entries[:count]])

    async def failed(self, user_id: int, account: Account, hours: float) -> Lookup[Window]:
        """Every message the account sent in the last ``hours`` (the caller picks failures),
        paged back with ``prev_id`` past the window (``paging``) while the share allows."""
        self._admit(user_id)
        lookup = await self._window(account)
        since = lookup.fetched_at - hours * HOUR
        picture = self.batches.picture(account.key_id)
        if lookup.origin is not Origin.STALE:
            day = datetime.fromtimestamp(since, self._period.tz).date()
            await page_back(
                picture,
                since,
                lambda anchor: self._page(account, anchor, day),
                start=self._period.day_start(day),
            )
        held = picture.since(since)
        if held is not None and held.as_of >= lookup.fetched_at:
            entries = tuple(h.entry for h in held.held)
            done = held.covered_since <= since
            return lookup.map(lambda _: Window(entries, since, held.covered_since, done))

        def cut(entries: list[HistoryEntry]) -> Window:
            inside = tuple(e for e in entries if (e.sent_at or 0.0) >= since)
            full = len(entries) < WINDOW_COUNT or len(inside) < len(entries)
            covered = since if full else min((e.sent_at or since) for e in inside)
            return Window(entries=inside, since=since, covered_since=covered, complete=full)

        return lookup.map(cut)

    async def watch(self, account: Account) -> Lookup[list[HistoryEntry]] | None:
        """The account's newest messages for its on-call watches, into the picture (so they
        answer lookups too), when ``watch_pace`` says a fetch is due and the watches' hour is
        not spent: at most ``WATCH_BUDGET`` history requests an hour, evenly spaced, as
        ``Purpose.WATCH``. None: not due. Raises ``SmscError`` (unreachable, key refused) and
        ``QuotaExhausted`` (the account's hour is spent)."""
        key_id = account.key_id
        if not self.watch_pace.due(key_id):
            return None
        if await self.budget.spent(key_id, Purpose.WATCH) >= self.watch_pace.per_hour:
            return None
        asking = _ASKING.set(None)  # nobody's share: the watches'
        try:
            lookup = await self._window(account, purpose=Purpose.WATCH)
        except SmscError:
            self.watch_pace.took(key_id)
            raise
        finally:
            _ASKING.reset(asking)
        if lookup.origin is Origin.FRESH or lookup.held_back is HeldBack.UPSTREAM:
            self.watch_pace.took(key_id)  # a request went (or failed: try again next slot)
        return lookup

    async def _page(
        self, account: Account, anchor: int, start: date
    ) -> tuple[list[HistoryEntry], float] | None:
        """The 1000 messages older than ``anchor`` (/failed's share), or None when the share or
        SMS Center says no."""
        try:
            lookup = await self._cached(
                account,
                ("page", anchor),
                cold=True,
                purpose=Purpose.ACCOUNT,
                fetch=lambda: self._client.get_messages(
                    account.apikey, cnt=PAGE_COUNT, prev_id=anchor, start=start
                ),
            )
        except (QuotaExhausted, SmscError):
            return None
        return None if lookup.origin is Origin.STALE else (lookup.value, lookup.fetched_at)

    async def status(
        self, user_id: int, account: Account, phone: str, message_id: int
    ) -> Lookup[MessageStatus]:
        """One message's status from ``status.php`` (not counted in the history budget)."""
        self._admit(user_id)
        return await self._cached(
            account,
            ("status", phone, message_id),
            cold=True,
            budgeted=False,
            fetch=lambda: self._client.status(account.apikey, phone=phone, message_id=message_id),
        )

    async def check_key(self, user_id: int, apikey: str) -> Decimal:
        """Validate a key with ``balance.php`` (``keycheck.KeyChecks``); returns the balance."""
        self.guard.take(user_id)
        return await self.keys.check(apikey)

    async def quota_left(self, account: Account) -> int:
        """History requests the account may still make in the sliding hour."""
        return await self.budget.remaining(account.key_id)

    def forget(self, key_id: str) -> None:
        """Drop what was learnt with the key ``key_id`` (its key replaced, or its account
        removed): the picture and the held answers. The budget's count stays."""
        self.batches.forget(key_id)
        self.answers.forget(key_id)

    def share_left(self, account: Account, user_id: int) -> tuple[int, int]:
        """Single requests (not batches) ``user_id`` may still cause for the account in the
        sliding hour, and their share."""
        return self.shares.left(account.key_id, user_id), self.shares.limit

    # --- decisions ------------------------------------------------------------------------

    def admit(self, user_id: int) -> None:
        """Take the per-user guard now for this task's next lookup (``UserRateLimited``), so
        that a button press can be answered between the guard and the fetch."""
        self.guard.take(user_id)
        self._admit(user_id)
        _ADMITTED.set(user_id)

    def _admit(self, user_id: int) -> None:
        """``user_id`` is the one asking: the guard and the share of a request made for this
        lookup are theirs."""
        _ASKING.set(user_id)

    async def _guard(self, account: Account, *, held: bool, budgeted: bool = False) -> None:
        """The per-user guard, taken only by a lookup that would make a request (unless
        ``admit`` took it). When it refuses and, after its wait, a request would still be held
        back (the user's share, the account's hour) with nothing ``held`` to show, that limit is
        raised instead: the line names the limit that holds, and when it frees."""
        user_id = _ASKING.get()
        if user_id is None:
            return
        if _ADMITTED.get() == user_id:
            _ADMITTED.set(None)
            return
        try:
            self.guard.take(user_id)
        except UserRateLimited as exc:
            if budgeted and not held:
                key_id, after = account.key_id, self._clock() + exc.retry_after
                share_at = self.shares.next_at(key_id, user_id)
                budget_at = await self.budget.next_request_at(key_id, cold=True)
                if max(share_at, budget_at) > after:
                    reason = HeldBack.SHARE if share_at >= budget_at else HeldBack.BUDGET
                    if reason is HeldBack.BUDGET and await self.budget.backoff_error(key_id):
                        reason = HeldBack.BACKOFF
                    raise QuotaExhausted(max(share_at, budget_at), reason) from exc
            raise

    async def _phone_history(
        self, account: Account, phone: str, held: Snapshot[list[HistoryEntry]] | None
    ) -> Lookup[list[HistoryEntry]]:
        """The number's own newest ``PHONE_HISTORY_COUNT`` messages (for /history); ``held`` is
        what the picture holds of them, served with its age when no request can be made."""
        start_day, start = self._period.history_start()
        lookup = await self._cached(
            account,
            _phone_key(phone),
            cold=held is None and not self.answers.holds(account, _phone_key(phone)),
            held=held,
            fetch=lambda: self._client.get_messages(
                account.apikey, phone=phone, cnt=PHONE_HISTORY_COUNT, start=start_day
            ),
        )
        if lookup.origin is Origin.FRESH:
            self.batches.picture(account.key_id).learn_history(
                lookup.value, at=lookup.fetched_at, since=start, cnt=PHONE_HISTORY_COUNT,
                phones=[phone],
            )  # fmt: skip
        return lookup

    async def _window(
        self, account: Account, *, purpose: Purpose = Purpose.ACCOUNT
    ) -> Lookup[list[HistoryEntry]]:
        """The account's newest 1000 messages. Not paced by the bucket that paces batches:
        ``purpose``'s share of the hour is its pace, so /failed is never answered from a window
        the batches' pace held back for many minutes (the watches have ``WatchPace``)."""
        start = self._period.days_back(WINDOW_DAYS)
        # Past its minimum share of the hour, the window is refreshed at most every
        # ACCOUNT_FRESH (five minutes): a busy hour's /failed stays at most that old to the end.
        spent = await self.budget.spent(account.key_id, purpose)
        past_minimum = purpose is Purpose.ACCOUNT and spent >= self.budget.minimum(purpose)
        lookup = await self._cached(
            account,
            _WINDOW,
            cold=True,
            purpose=purpose,
            fresh_for=max(self._ttl, ACCOUNT_FRESH) if past_minimum else None,
            fetch=lambda: self._client.get_messages(account.apikey, cnt=WINDOW_COUNT, start=start),
        )
        if lookup.origin is Origin.FRESH:
            self.batches.picture(account.key_id).learn_history(
                lookup.value,
                at=lookup.fetched_at,
                since=self._period.day_start(start),
                cnt=WINDOW_COUNT,
            )
            self.batches.answer_vouched(account.key_id)  # numbers the window answers need no batch
        return lookup

    async def _newest_when_asked(
        self,
        asked: asyncio.Future[None],
        account: Account,
        phone: str,
        held: Lookup[HistoryEntry | None] | None,
    ) -> Lookup[HistoryEntry | None]:
        """The picture's answer once the number's batch has landed (held data if it failed)."""
        try:
            await asked
        except (SmscTransportError, SmscRateLimited, SmscIPBlocked):
            if held is None:
                raise
            return Lookup(held.value, Origin.STALE, held.fetched_at, HeldBack.UPSTREAM)
        _, start = self._period.history_start()
        newest = self.batches.picture(account.key_id).newest(phone, start=start)
        if newest is None:
            # Answers cut short by busier numbers never reached this one: what is held.
            if held is None:
                raise NumberNotReached("SMS Center's answers did not reach this number")
            return Lookup(held.value, Origin.STALE, held.fetched_at, HeldBack.UPSTREAM)
        return Lookup(_entry(newest), Origin.FRESH, newest.as_of, status_at=_status_at(newest))

    async def _cached(
        self,
        account: Account,
        query: Hashable,
        *,
        fetch: Callable[[], Awaitable[T]],
        cold: bool,
        held: Snapshot[T] | None = None,
        budgeted: bool = True,
        purpose: Purpose = Purpose.LOOKUP,
        fresh_for: float | None = None,
    ) -> Lookup[T]:
        """The held answer to ``query``, or SMS Center's (``held.HeldAnswers``); a request made
        for it counts against the asking user's share."""
        user = _ASKING.get() if budgeted else None

        async def guard(held: bool) -> None:
            await self._guard(account, held=held, budgeted=budgeted)

        return await self.answers.get(
            account,
            query,
            fetch=fetch,
            cold=cold,
            held=held,
            budgeted=budgeted,
            purpose=purpose,
            user=user,
            before_request=guard,
            fresh_for=fresh_for,
        )


def _entry(newest: Newest) -> HistoryEntry | None:
    return newest.held.entry if newest.held is not None else None


def _status_at(newest: Newest) -> float | None:
    """When the newest message's status was seen, if later than the picture's "as of"."""
    held = newest.held
    return held.seen_at if held is not None and held.seen_at > newest.as_of else None
