"""The watches' runner: every ``interval`` seconds, one look per watch, and what it says sent.

For each watch (paused ones skipped) the runner builds what the watch sees (``Sight``) from
what the bot already holds — the account picture (every message learnt from history requests,
``status.php`` and pushes, with its operator) and the statuses pushes brought, including those of
messages the picture does not hold (their operator unknown) — then hands it to the evaluator
with the watch's stored state, passes each event to ``notify`` (which renders and sends it),
and stores the new state. The state is stored after the events were sent: a send that fails
(Telegram down) is tried again at the next look rather than lost; ``notify`` itself decides
what is not worth retrying (a chat the bot was removed from).

Where the data is current: with status pushes, now (a push comes within moments of the
status); without them, the end of the picture's account-wide span. Without pushes, each tick
first asks ``feed`` once per watched account (``Fetcher.watch``: the account's newest messages
into the picture, at most ``WATCH_BUDGET`` requests an hour for all its watches, evenly
spaced), and the watch may be as old as that spacing before it is blind (``patience``). With
pushes nothing is fetched for a watch. When a fetch fails the watch knows why it cannot see
(``Sight.problem``: ``PROBLEM_SMSC``, ``PROBLEM_KEY``), and says it once it is blind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.fetch import HeldBack, Lookup, QuotaExhausted
from bot.fetch.picture import AccountPicture, digits
from bot.smsc import SmscBadCredentials, SmscError, SmscIPBlocked, SmscRateLimited
from bot.store import StoredIncident, Watch, WatchStore
from bot.watch.evaluator import (
    Event,
    Incident,
    Outcome,
    Rule,
    Sight,
    Tally,
    WatchState,
    evaluate,
    tally,
)

logger = logging.getLogger(__name__)

#: Seconds between two looks: "resolved" within a minute, an alert within a minute of a push.
LOOK_INTERVAL = 30.0
#: Why a watch cannot see (``Sight.problem``; worded in ``bot.text.alerts``).
PROBLEM_SMSC = "smsc"  # SMS Center unreachable (or answering garbage)
PROBLEM_KEY = "key"  # SMS Center refused the account's key
PROBLEM_SLOW = "slow"  # SMS Center asked to slow down (error 9) or blocked the IP (error 4)


@dataclass(frozen=True, slots=True)
class PushedOutcome:
    """A status a push brought: the message (number, id), status, error, status time."""

    phone: str
    message_id: int
    status: int | None
    err: int | None
    at: float


class PushSource(Protocol):
    """Where pushed statuses are held (``bot.web.pushes.PushedIndex``)."""

    def pushed_since(self, key_id: str, since: float) -> list[PushedOutcome]: ...


Notify = Callable[[Watch, Rule, Event], Awaitable[None]]
# Fetch the newest messages of a watch's account when due (``Fetcher.watch``); None: not due.
Feed = Callable[[Watch], Awaitable[Lookup[Any] | None]]
# Told of every event sent (the metrics count them).
Sent = Callable[[Watch, Event], None]


class WatchRunner:
    """Looks at every watch on the clock and sends what they say (see the module docstring)."""

    def __init__(
        self,
        store: WatchStore,
        pictures: Callable[[str], AccountPicture],
        pushed: PushSource,
        has_pushes: Callable[[str], bool],
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        interval: float = LOOK_INTERVAL,
        feed: Feed | None = None,
        patience: float = 0.0,
        sent: Sent | None = None,
    ) -> None:
        self.store = store  # the chat side pauses and silences through it too
        self._pictures = pictures
        self._pushed = pushed
        self._has_pushes = has_pushes
        self._clock = clock
        self._sleep = sleep
        self._interval = interval
        self._feed = feed
        # How old fetched data may be before a watch is blind: the feed's spacing and a look.
        self._patience = patience + interval if feed is not None else 0.0
        self._sent = sent
        self._problems: dict[str, str] = {}  # key_id → why its last fetch failed
        self._task: asyncio.Task[None] | None = None
        self.notify: Notify | None = None  # set when a chat to send to exists (``start``)

    def sight(self, watch: Watch) -> Sight:
        """What ``watch`` sees of its account: its period up to where the data is current."""
        period = watch.minutes * 60.0
        current = self._current(watch, period)
        problem = self._problems.get(watch.key_id, "")
        if current is None:  # no data at all: as old as the watch
            outcomes = self._outcomes(watch, watch.created_at - period)
            return Sight(outcomes, watch.created_at, problem=problem)
        as_of, covered_since = current
        return Sight(self._outcomes(watch, as_of - period), as_of, covered_since, problem)

    def data_as_of(self, watch: Watch) -> float | None:
        """Until when ``watch``'s data is current (None: it has none yet)."""
        current = self._current(watch, watch.minutes * 60.0)
        return None if current is None else current[0]

    def patience(self, watch: Watch) -> float:
        """How old ``watch``'s data may be before it is blind, when longer than its period:
        without pushes, the spacing of the watches' fetches (0: the period alone)."""
        return 0.0 if self._has_pushes(watch.account_name) else self._patience

    def current(self, watch: Watch) -> bool:
        """Whether ``watch``'s data is current (``/watches``, ``/healthz``)."""
        as_of = self.data_as_of(watch)
        limit = max(watch.minutes * 60.0, self.patience(watch))
        return as_of is not None and self._clock() - as_of <= limit

    async def fetch(self, watch: Watch) -> None:
        """Without pushes, the account's newest messages when due (``feed``), and why the
        watch cannot see when that fails; with pushes, nothing."""
        key_id = watch.key_id
        if self._feed is None or self._has_pushes(watch.account_name):
            self._problems.pop(key_id, None)  # pushes on since: a fetch's fault is no reason
            return
        try:
            lookup = await self._feed(watch)
        except SmscBadCredentials:
            self._problems[key_id] = PROBLEM_KEY
            return
        except (SmscRateLimited, SmscIPBlocked):
            self._problems[key_id] = PROBLEM_SLOW
            return
        except SmscError:
            self._problems[key_id] = PROBLEM_SMSC
            return
        except QuotaExhausted:
            return  # the hour is spent: no data, and no fault of SMS Center's
        if lookup is None:
            return
        upstream = lookup.held_back is HeldBack.UPSTREAM
        self._problems[key_id] = PROBLEM_SMSC if upstream else ""

    def details(self, watch: Watch, since: float) -> Tally:
        """The counts of ``watch``'s account from ``since`` to now (the "Details" button)."""
        now = self._clock()
        current = self._current(watch, now - since)
        covered_since = since if current is None else max(since, current[1])
        return tally(self._outcomes(watch, since), covered_since, now)

    def _current(self, watch: Watch, period: float) -> tuple[float, float] | None:
        """Until when the account's data is current and from when a period before that it is
        whole: with pushes, now and always; else the picture's account-wide span (None: the
        picture has none)."""
        now = self._clock()
        if self._has_pushes(watch.account_name):
            return now, float("-inf")
        picture = self._pictures(watch.key_id)
        window = picture.since(now - period)
        if window is None:
            return None
        if window.as_of < now:  # whole from when, counted back from where it is current
            window = picture.since(window.as_of - period) or window
        return window.as_of, window.covered_since

    def _outcomes(self, watch: Watch, since: float) -> tuple[Outcome, ...]:
        """The messages of ``watch``'s account whose status came at or after ``since``: the
        picture's (with their operator), and the pushed ones it does not hold (operator
        unknown); of two sightings of one message, the later status."""
        seen: dict[tuple[str, int], Outcome] = {}
        operators: dict[tuple[str, int], str] = {}
        for held in self._pictures(watch.key_id).changed_since(since):
            entry = held.entry
            if entry.id is None:
                continue
            key = (digits(entry.phone), entry.id)
            at = entry.changed_at if entry.changed_at is not None else entry.sent_at
            seen[key] = Outcome(entry.status, at, entry.err, entry.operator)
            operators[key] = entry.operator
        for push in self._pushed.pushed_since(watch.key_id, since):
            key = (push.phone, push.message_id)
            known = seen.get(key)
            if known is None or known.status_at is None or known.status_at <= push.at:
                seen[key] = Outcome(push.status, push.at, push.err, operators.get(key, ""))
        return tuple(seen.values())

    async def look(self, watch: Watch) -> list[Event]:
        """One look at ``watch``: evaluate, send what it says, store the new state."""
        now = self._clock()
        rule = Rule(watch.percent, watch.minutes)
        stored = await self.store.open_incident(watch.id)
        state = WatchState(
            incident=_incident(stored),
            blind_since=watch.blind_since,
            silenced_until=watch.silenced_until,
        )
        verdict = evaluate(rule, state, self.sight(watch), now, patience=self.patience(watch))
        for event in verdict.events:
            if self.notify is not None:
                await self.notify(watch, rule, event)
                if self._sent is not None:
                    self._sent(watch, event)
        new = verdict.state
        if new.incident != state.incident:
            if new.incident is not None:
                await self.store.save_incident(_stored(watch.id, new.incident))
            elif state.incident is not None:
                await self.store.save_incident(_stored(watch.id, state.incident, resolved_at=now))
        if new.blind_since != state.blind_since:
            await self.store.mark(
                watch.id, blind_since=new.blind_since, silenced_until=watch.silenced_until
            )
        return list(verdict.events)

    async def tick(self) -> int:
        """One look at every watch that is not paused; how many events were sent. A watch
        whose look fails is logged and looked at again next time."""
        sent = 0
        watches = [w for w in await self.store.all_watches() if w.paused_at is None]
        fetched: set[str] = set()
        for watch in watches:  # one fetch per account, for all its watches
            if watch.key_id in fetched:
                continue
            fetched.add(watch.key_id)
            try:
                await self.fetch(watch)
            except Exception:
                logger.exception("the watches of %s failed a fetch", watch.account_name)
        for watch in watches:
            try:
                sent += len(await self.look(watch))
            except Exception:
                logger.exception("the watch %d of %s failed a look", watch.id, watch.account_name)
        return sent

    def start(self, notify: Notify) -> None:
        """Look every ``interval`` seconds from now on, sending with ``notify``."""
        self.notify = notify
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await self.tick()
            await self._sleep(self._interval)

    async def close(self) -> None:
        """Stop looking (at shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def _incident(stored: StoredIncident | None) -> Incident | None:
    if stored is None:
        return None
    return Incident(
        stored.started_at, stored.alerted_at, stored.alerted_failures, stored.quiet_since
    )


def _stored(
    watch_id: int, incident: Incident, *, resolved_at: float | None = None
) -> StoredIncident:
    return StoredIncident(
        watch_id,
        incident.started_at,
        incident.alerted_at,
        incident.alerted_failures,
        incident.quiet_since,
        resolved_at,
    )
