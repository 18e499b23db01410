"""Batched lookups: one history request answers every number waiting for it.

Per account, numbers the picture cannot vouch for wait (``WaitingNumbers``); a loop per account
gathers the questions of the same moment (``gather`` seconds), waits until the budget allows a
request, and asks SMS Center for all of them at once with a comma-separated ``phone`` list
(``cnt`` 1000, six months back). The answer goes into the account picture; a number it vouches
for is answered, one it cannot (a thousand-row answer cut before reaching it) waits for the next
request, at the front. A list refused with error 1 is split in halves to find the entry SMS
Center does not accept, rather than failing everyone. Any other failure reaches every waiter of
that request, who then get their held data with its age, or why not and when.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Protocol

from bot.fetch.batch import BATCH_LIMIT, WaitingNumbers
from bot.fetch.picture import AccountPicture
from bot.smsc import (
    HistoryEntry,
    SmscApiError,
    SmscBadCredentials,
    SmscBadParameters,
    SmscClient,
    SmscConnectError,
    SmscError,
    SmscIPBlocked,
    SmscRateLimited,
    SmscTransportError,
)

logger = logging.getLogger(__name__)

__all__ = ["BATCH_COUNT", "Batcher", "BotStopping", "NumberNotReached", "NumberRefused"]

# Batches are paced like refreshes of held data (``cold=False``): the budget's bucket saves a
# burst in quiet spells and then allows one request per interval, so the hour lasts the hour
# and waiting numbers go together; the reserve stays for single cold requests (/history,
# /recent, /failed).
PACED = False
# Rows asked for in a batch: SMS Center's maximum, shared by the numbers of the list.
BATCH_COUNT = 1000
# Seconds the first waiting question waits for the others of the same wave before its request
# goes: questions come in waves a minute or two long (an outage, a mailing gone wrong), and one
# request for a wave's numbers leaves the hour's budget for the next wave. The asker sees
# "asking SMS Center" at once and the edit within the gather and the request. 20 s gave the
# most answers right within a minute on the busy account of BENCHMARKS.md, at the same share
# right in the end (10 s and 30 s gave fewer or no more).
GATHER = 20.0
# A number that this many answers in a row could not vouch for stops waiting (a number with
# more than a thousand messages in six months, pushed out of every answer by itself).
MAX_TRIES = 3
# The answer a person waits for is worth most within a minute of asking. When the request about
# to go is the last the budget has saved, it is held until the earliest question that can still
# be answered within the minute has waited this long, so that it carries every question of that
# minute; with more saved, ``gather`` is the hold. A question already past the minute does not
# hold a request back.
LAST_HOLD = 55.0
TIMELY = 60.0
# Questions already past their minute do not take the last requests the budget has saved: two
# are kept for the next questions that can still be answered within a minute (their request
# carries the older ones too). They go when SPARE are saved, when the earliest of them has
# waited STALE_WAIT, or when the time promised to someone waiting comes, whichever is first.
# On the busy account of BENCHMARKS.md (1×, seeds 1-8, a reserve of one) this took the answers
# right within a minute from 45 to 55-57 % (SPARE 2, 3 and 4 within two points of each other);
# the final answers stay as right.
SPARE = 3.0
STALE_WAIT = 300.0
# Nor does a request that would carry fewer than WORTH questions still answerable within their
# minute: it waits as they do, so that a lone question in a quiet spell does not spend what the
# next wave's first questions need; a second and third question within the minute wake it.
# Busy account, 1×: 51 → 63 % right within a minute over seeds 1-8 (WORTH 2: 56 %, 4: 63 %).
# With no gathering (``gather`` 0: the console, one person, nobody else's question to wait for)
# neither this nor the rule above holds a request back.
WORTH = 3


class NumberRefused(SmscBadParameters):
    """SMS Center refused this one number with error 1 (found by splitting the batch)."""


class NumberNotReached(Exception):
    """Every answer that named this number was filled by other numbers' messages before reaching
    it (``MAX_TRIES`` in a row), and nothing about it is held: ask again later."""


class BotStopping(Exception):
    """The bot is stopping: the question will not be answered by this process."""


class Budget(Protocol):
    """What the batcher needs of the account budget (``AccountBudget`` is one)."""

    async def next_request_at(self, key_id: str, *, cold: bool = True) -> float: ...

    async def saved_at(self, key_id: str, count: float) -> float: ...

    async def try_spend(self, key_id: str, *, cold: bool) -> bool: ...

    async def settle(self, key_id: str, *, reached_upstream: bool) -> None: ...

    async def backoff(self, key_id: str, error: SmscApiError) -> float: ...

    async def clear_backoff(self, key_id: str) -> None: ...

    def gate(self, key_id: str) -> asyncio.Semaphore: ...


class BatchAccount(Protocol):
    """The identity and key of the account a batch is asked with."""

    @property
    def key_id(self) -> str: ...

    @property
    def apikey(self) -> str: ...


class Batcher:
    """Every account's waiting numbers, pictures and request loops (see the module docstring)."""

    def __init__(
        self,
        client: SmscClient,
        budget: Budget,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        start: Callable[[], tuple[date, float]],
        gather: float = GATHER,
        limit: int = BATCH_LIMIT,
        max_messages: int | None = None,
    ) -> None:
        self._client = client
        self._budget = budget
        self._clock = clock
        self._sleep = sleep
        self._start = start  # (the ``start`` date to send, its first moment as Unix time)
        self._gather = gather
        self._last_hold = max(gather, LAST_HOLD) if gather > 0 else 0.0
        self._limit = limit
        self._max_messages = max_messages
        self._pictures: dict[str, AccountPicture] = {}
        self._waiting: dict[str, WaitingNumbers] = {}
        self._loops: dict[str, asyncio.Task[None]] = {}
        self._stopping = False
        self._asking: set[str] = set()  # accounts whose request is on its way
        # Set when a question arrives: it wakes its account's loop from a wait computed without
        # it (the loop clears it before computing the wait).
        self._arrived: dict[str, asyncio.Event] = {}

    def picture(self, key_id: str) -> AccountPicture:
        """The account's picture (created empty on first use)."""
        picture = self._pictures.get(key_id)
        if picture is None:
            picture = self._pictures[key_id] = (
                AccountPicture()
                if self._max_messages is None
                else AccountPicture(max_messages=self._max_messages)
            )
        return picture

    @property
    def pictures(self) -> frozenset[str]:
        """The ``key_id`` of every account that has a picture."""
        return frozenset(self._pictures)

    def forget(self, key_id: str) -> bool:
        """Drop the picture learnt with the key ``key_id`` (an account's key was replaced, or
        the account removed); whether there was one. Numbers still waiting are answered as
        usual, into a new picture. The budget's count stays: those requests were made."""
        return self._pictures.pop(key_id, None) is not None

    def answer_vouched(self, key_id: str) -> int:
        """Answer the waiting numbers the picture now vouches for as of after they were asked
        (another request, an account-wide window, taught it); how many."""
        queue = self._waiting.get(key_id)
        if queue is None:
            return 0
        picture = self.picture(key_id)
        _, start = self._start()
        done = 0
        for phone, since in queue.asked():
            newest = picture.newest(phone, start=start)
            if newest is not None and newest.as_of >= since:
                queue.answered(phone)
                done += 1
        return done

    @property
    def asking(self) -> bool:
        """Whether a batch request is on its way to SMS Center right now."""
        return bool(self._asking)

    async def wait_for(
        self, account: BatchAccount, phone: str, asker: int
    ) -> tuple[asyncio.Future[None], float]:
        """Queue ``phone``; returns the future of its answer and when it is expected at the
        latest (the next request the budget allows)."""
        if self._stopping:
            raise BotStopping
        queue = self._waiting.setdefault(account.key_id, WaitingNumbers())
        now = self._clock()
        future = queue.add(phone, asker, now)
        # Any request under way is already counted: the next one the budget allows is ours.
        due = max(await self._fire_at(account.key_id, queue), now + self._gather)
        queue.promise(phone, due)
        self._arrived.setdefault(account.key_id, asyncio.Event()).set()
        loop = self._loops.get(account.key_id)
        if loop is None or loop.done():
            self._loops[account.key_id] = asyncio.create_task(
                self._run(account), name=f"batches-{account.key_id[:8]}"
            )
        return future, due

    async def close(self, *, within: float = 15.0) -> None:
        """Stop every loop; questions still waiting get ``BotStopping``. A request already on
        its way is given ``within`` seconds to land, so the answers it carries are not lost."""
        self._stopping = True
        asking = [self._loops[key] for key in self._asking if key in self._loops]
        for task in self._loops.values():
            if task not in asking:
                task.cancel()
        if asking:
            await asyncio.wait(asking, timeout=within)
        for task in self._loops.values():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:  # the loop's own failure was already handed to its waiters
                logger.debug("batch loop ended with an error at close", exc_info=True)
        for queue in self._waiting.values():
            queue.fail_all(BotStopping())

    # --- the loop ---------------------------------------------------------------------------

    async def _run(self, account: BatchAccount) -> None:
        queue = self._waiting[account.key_id]
        arrived = self._arrived.setdefault(account.key_id, asyncio.Event())
        try:
            while len(queue) and not self._stopping:
                arrived.clear()
                at = await self._fire_at(account.key_id, queue)
                if at > self._clock():
                    await self._nap(at - self._clock(), arrived)
                    continue
                if not await self._budget.try_spend(account.key_id, cold=PACED):
                    continue
                phones = queue.take(self._limit)
                await self._ask(account, queue, phones)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never leave a waiter hanging
            logger.exception("batch loop of account %s failed", account.key_id[:8])
            queue.fail_all(exc)

    async def _nap(self, seconds: float, arrived: asyncio.Event) -> None:
        """Sleep ``seconds``, or until ``arrived`` is set (at once if it already is: a question
        came while the wait was computed)."""
        if arrived.is_set():
            return
        sleeping = asyncio.ensure_future(self._sleep(seconds))
        woken = asyncio.ensure_future(arrived.wait())
        try:
            await asyncio.wait({sleeping, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeping, woken):
                task.cancel()

    async def _fire_at(self, key_id: str, queue: WaitingNumbers) -> float:
        """When the account's next request goes, if no other question comes meanwhile: when the
        budget allows one, and not before the earliest question still answerable within the
        minute has been held (``LAST_HOLD``); when by then every question waiting is past its
        minute, or fewer than ``WORTH`` are within theirs, not on the last saved requests
        (``SPARE``, ``STALE_WAIT``). Never later than the time promised to someone waiting,
        unless the budget says no until then."""
        now = self._clock()
        at = await self._budget.next_request_at(key_id, cold=PACED)
        asked = [since for _, since in queue.asked()]
        if not asked:
            return max(at, now + self._gather)
        spare = await self._budget.saved_at(key_id, SPARE)  # now, when SPARE are saved already
        timely = [since for since in asked if since > now - TIMELY]
        fire: float | None = None
        if timely:
            hold = self._gather if spare <= now else self._last_hold
            fire = max(at, min(timely) + hold)
            if fire > max(timely) + TIMELY:
                fire = None  # every question waiting is past its minute by then
            elif self._gather > 0 and len(timely) < WORTH and spare > fire:
                fire = None  # too few for one of the last saved requests
        if fire is None:
            oldest = min(asked)
            kept = min(spare, oldest + STALE_WAIT) if self._gather > 0 else at
            fire = max(at, oldest + self._gather, kept)
        return max(at, min(fire, queue.promised()))

    async def _wait_for_budget(self, account: BatchAccount) -> None:
        key_id = account.key_id
        while True:
            at = await self._budget.next_request_at(key_id, cold=PACED)
            if at <= self._clock() and await self._budget.try_spend(key_id, cold=PACED):
                return
            await self._sleep(max(at - self._clock(), 0.0))

    async def _ask(self, account: BatchAccount, queue: WaitingNumbers, phones: list[str]) -> None:
        start_date, start_at = self._start()
        at = self._clock()
        self._asking.add(account.key_id)
        try:
            entries = await self._upstream(account, phones, start_date)
        except SmscBadParameters as exc:
            if len(phones) == 1:
                queue.failed(phones[0], NumberRefused("get", exc.error_code, exc.description))
                return
            # Find the entry SMS Center refuses: each half is a request of its own.
            middle = len(phones) // 2
            for half in (phones[:middle], phones[middle:]):
                await self._wait_for_budget(account)
                await self._ask(account, queue, half)
            return
        except SmscError as exc:
            for phone in phones:
                queue.failed(phone, exc)
            return
        finally:
            self._asking.discard(account.key_id)
        picture = self.picture(account.key_id)
        picture.learn_history(entries, at=at, since=start_at, cnt=BATCH_COUNT, phones=phones)
        for phone in phones:
            if picture.newest(phone, start=start_at) is not None:
                queue.answered(phone)
            elif queue.unanswered(phone) >= MAX_TRIES:
                queue.answered(phone)  # the picture holds what it could: its answer says how old

    async def _upstream(
        self, account: BatchAccount, phones: list[str], start: date
    ) -> list[HistoryEntry]:
        """One history request, spent from the budget (given back when it never left)."""
        key_id = account.key_id
        reached = True
        try:
            async with self._budget.gate(key_id):
                entries = await self._client.get_messages(
                    account.apikey, phone=",".join(phones), cnt=BATCH_COUNT, start=start
                )
        except (SmscRateLimited, SmscIPBlocked, SmscBadCredentials) as exc:
            seconds = await self._budget.backoff(key_id, exc)
            logger.warning(
                "SMS Center refused account %s with error %s (%s); backing off %.0f s",
                key_id[:8],
                exc.error_code,
                exc.description,
                seconds,
            )
            raise
        except SmscTransportError as exc:
            reached = not isinstance(exc, SmscConnectError)
            raise
        finally:
            await self._budget.settle(key_id, reached_upstream=reached)
        await self._budget.clear_backoff(key_id)
        return entries
