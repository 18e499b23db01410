"""Clients of SMS Center answering a team's hour, and the replay that drives them.

Each client talks to its own ``SimulatedSmsc`` (the same account and hour), on one fake clock:

- **naive** — one ``get_messages(phone=…, cnt=1)`` per ``/last`` (one window request per
  ``/failed``), no cache: right while the hour's 30 requests last, refused after;
- **batched-only** — ``/last`` questions wait; every ``BATCH_EVERY`` s (30 an hour) one
  comma-list request (``phone="a,b,c"``, ``cnt=1000``) answers every number waiting when it
  lands. Right, but people wait up to two minutes. It asks nothing for ``/failed``;
- **bot** — the real bot (``bench.harness.running_bot``: the Dispatcher, middlewares,
  handlers and fetch layer), each question a Telegram update, its answers going to the fake Bot
  API server; what it showed is observed by ``bench.observe.LastObserver``;
- **bot+pushes**, **bot+pushes (final only)** — the same bot with status pushes on: the
  simulator's push sender (``bot.smsc.pusher``, the code ``--demo`` and the tests use) posts
  each status change to the bot's own ``/smsc/team`` over HTTP, every ``PUSH_EVERY`` s of the
  hour, with the in-progress statuses (-1, 0) pushed or not (``python -m bench --pushes``).

``replay`` moves the clock through the hour: the account's sends land in the simulator at
their moment (statuses change by the simulator's ``_settle`` on its own), questions are asked,
and each client's ``wakeups`` come round (the batch ticks; for the bot, every second, so that
answers still coming can land).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol

from bench.accounts import HOUR, MOSCOW
from bench.harness import ADMIN, running_bot
from bench.judge import Answer, FailedShown, Shown
from bench.observe import LastObserver
from bench.questions import Hour, Question
from bot.app import make_endpoint
from bot.settings import Listen
from bot.smsc import HistoryEntry, SmscClient, SmscError
from bot.smsc.pusher import StatusPusher, history_of
from bot.smsc.simulator import SimulatedSmsc
from bot.store import PushStore
from bot.web.server import bind
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegramServer
from tests.fakes.updates import message_update

API_KEY: Final = "bench0real0account0key000000000a"  # a simulator account, not a secret
BATCH_EVERY: Final = 120.0  # 30 batches an hour: SMS Center's hourly limit
BATCH_COUNT: Final = 1000
HISTORY_DAYS: Final = 180  # how far back a number's history is asked (SMS Center: ≤ 6 months)
BOT_STEP: Final = 1.0  # the bot client's wakeups: answers still coming may land
FIRST_AGENT: Final = 10_000
PUSH_EVERY: Final = 10.0  # the push sender settles the simulator's statuses and sends this often
PUSH_SECRET: Final = "bench0push0secret"  # noqa: S105 - a simulated account's, not a secret


class Client(Protocol):
    """One way of answering the team's questions."""

    name: str

    def wakeups(self) -> Sequence[float]:
        """Seconds into the hour at which ``tick`` is to run."""
        ...

    async def ask(self, question: Question, answer: Answer | None) -> None:
        """Handle one question; a ``/last`` fills ``answer`` (now or at a later ``tick``)."""
        ...

    async def tick(self) -> None:
        """The clock has moved: do what is due."""
        ...


ClientFactory = Callable[[SimulatedSmsc, FakeClock, Hour], AbstractAsyncContextManager[Client]]


async def replay(hour: Hour, clock: FakeClock, sim: SimulatedSmsc, client: Client) -> list[Answer]:
    """Play the hour to ``client``; the ``/last`` answers, in the order asked."""
    events: list[tuple[float, int, Question | None]] = [
        (question.at, 1, question) for question in hour.questions
    ]
    events += [(at, 0, None) for at in client.wakeups()]
    events.sort(key=lambda event: (event[0], event[1]))
    answers: list[Answer] = []
    sends = iter(hour.sends)
    pending = next(sends, None)
    for at, _, question in events:
        moment = hour.start + at
        while pending is not None and pending.at <= moment:
            clock.advance_to(float(pending.at))
            sim.add_message(API_KEY, **pending.record())
            pending = next(sends, None)
        clock.advance_to(moment)
        if question is None:
            await client.tick()
            continue
        answer = Answer(question, clock()) if question.command == "last" else None
        if answer is not None:
            answers.append(answer)
        await client.ask(question, answer)
    return answers


def _days_back(now: float, days: int) -> date:
    return datetime.fromtimestamp(now, MOSCOW).date() - timedelta(days=days)


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isascii() and ch.isdigit())


def _shown(entry: HistoryEntry | None, at: float) -> Shown:
    """Data fetched just now, shown without a mark."""
    if entry is None:
        return Shown(at, True, as_of=at)
    return Shown(at, True, entry.int_id, entry.status, as_of=at)


class NaiveClient:
    """One history request per question, no cache, no waiting."""

    name = "naive"

    def __init__(self, smsc: SmscClient, clock: FakeClock) -> None:
        self._smsc = smsc
        self._clock = clock

    def wakeups(self) -> Sequence[float]:
        """None: it answers at once."""
        return ()

    async def ask(self, question: Question, answer: Answer | None) -> None:
        """``/last``: the number's newest message; ``/failed``: the account's last day."""
        try:
            if answer is None:
                start = _days_back(self._clock(), 1)
                await self._smsc.get_messages(API_KEY, cnt=BATCH_COUNT, start=start)
                return
            found = await self._smsc.get_messages(API_KEY, phone=question.phone, cnt=1)
        except SmscError:
            if answer is not None:
                answer.shown.append(Shown(self._clock(), False))
            return
        answer.shown.append(_shown(found[0] if found else None, self._clock()))

    async def tick(self) -> None:
        """Nothing is ever due."""


class BatchedClient:
    """Waiting ``/last`` numbers go together in one comma-list request every ``BATCH_EVERY``."""

    name = "batched-only"

    def __init__(self, smsc: SmscClient, clock: FakeClock) -> None:
        self._smsc = smsc
        self._clock = clock
        self._waiting: list[Answer] = []

    def wakeups(self) -> Sequence[float]:
        """Every ``BATCH_EVERY`` s, the last at the hour's end."""
        return [BATCH_EVERY * n for n in range(1, int(HOUR / BATCH_EVERY) + 1)]

    async def ask(self, question: Question, answer: Answer | None) -> None:
        """A ``/last`` waits for the next batch; ``/failed`` is not asked."""
        if answer is not None:
            self._waiting.append(answer)

    async def tick(self) -> None:
        """One request for every number waiting; numbers it cannot vouch for wait on."""
        if not self._waiting:
            return
        phones = sorted({answer.question.phone for answer in self._waiting})
        try:
            found = await self._smsc.get_messages(
                API_KEY,
                phone=",".join(phones),
                cnt=BATCH_COUNT,
                start=_days_back(self._clock(), HISTORY_DAYS),
            )
        except SmscError:
            return
        newest: dict[str, HistoryEntry] = {}
        for entry in found:  # newest first: the first row of a number is its newest
            newest.setdefault(_digits(entry.phone), entry)
        # ``cnt`` may cap the whole answer: when it did, a number without rows is unknown.
        whole = len(found) < BATCH_COUNT
        still: list[Answer] = []
        for answer in self._waiting:
            row = newest.get(answer.question.phone)
            if row is None and not whole:
                still.append(answer)
            else:
                answer.shown.append(_shown(row, self._clock()))
        self._waiting = still


class BotClient:
    """The real bot: every question a Telegram update through its Dispatcher."""

    name = "bot"

    def __init__(
        self, feed: Callable[[Question], Coroutine[Any, Any, None]], observer: LastObserver
    ) -> None:
        self._feed = feed
        self._observer = observer
        self._feeds: set[asyncio.Task[None]] = set()

    def wakeups(self) -> Sequence[float]:
        """Every ``BOT_STEP`` s: answers still coming may land."""
        return [BOT_STEP * n for n in range(1, int(HOUR / BOT_STEP) + 1)]

    async def ask(self, question: Question, answer: Answer | None) -> None:
        """Feed the question, as polling would: handled concurrently with the next ones (a
        handler may wait for its batch); what ``Fetcher.ask_last`` shows goes into ``answer``."""
        if answer is None:
            task = asyncio.create_task(self._feed(question))
        else:
            with self._observer.answering(answer):
                # The context is copied into the task: the observer sees which answer it is.
                task = asyncio.create_task(self._feed(question))
        self._feeds.add(task)
        task.add_done_callback(self._feeds.discard)
        # Before the clock moves on: the update is answered, or its answer is on its way.
        for _ in range(5000):
            if task.done() or (answer is not None and answer.shown):
                break
            await asyncio.sleep(0.001)

    async def tick(self) -> None:
        """Let answers still coming land."""
        await self._observer.drain()

    @property
    def failed_shown(self) -> Sequence[FailedShown]:
        """Every ``/failed`` answer the bot showed."""
        return self._observer.failed

    async def finish(self, clock: FakeClock, *, within: float = 900.0) -> None:
        """After the hour: the clock goes on until every answer still coming has landed (the
        people who asked last still get their answers), then every update is handled."""
        waited = 0.0
        while self._observer.pending and waited < within:
            clock.advance_to(clock.now + BOT_STEP)
            waited += BOT_STEP
            await self._observer.drain()
        if self._feeds:
            await asyncio.wait(set(self._feeds), timeout=30)


@asynccontextmanager
async def naive(sim: SimulatedSmsc, clock: FakeClock, hour: Hour) -> AsyncIterator[Client]:
    """A ``NaiveClient`` against ``sim``."""
    del hour
    async with SmscClient(sim.base_url, timeout=30.0) as client:
        yield NaiveClient(client, clock)


@asynccontextmanager
async def batched(sim: SimulatedSmsc, clock: FakeClock, hour: Hour) -> AsyncIterator[Client]:
    """A ``BatchedClient`` against ``sim``."""
    del hour
    async with SmscClient(sim.base_url, timeout=30.0) as client:
        yield BatchedClient(client, clock)


class PushingBotClient(BotClient):
    """The real bot with status pushes: the simulator's push sender runs every ``PUSH_EVERY``."""

    def __init__(
        self,
        feed: Callable[[Question], Coroutine[Any, Any, None]],
        observer: LastObserver,
        pusher: StatusPusher,
        clock: FakeClock,
        name: str,
    ) -> None:
        super().__init__(feed, observer)
        self.name = name
        self._pusher = pusher
        self._clock = clock
        self._pushed_at = float("-inf")

    async def tick(self) -> None:
        """Send the pushes that are due, then let answers still coming land."""
        if self._clock() - self._pushed_at >= PUSH_EVERY:
            self._pushed_at = self._clock()
            await self._pusher.flush()
        await super().tick()


@asynccontextmanager
async def bot(sim: SimulatedSmsc, clock: FakeClock, hour: Hour) -> AsyncIterator[Client]:
    """The real bot against ``sim``, with the hour's agents granted the account."""
    async with _bot(sim, clock, hour, pushes=None) as client:
        yield client


@asynccontextmanager
async def bot_pushes(sim: SimulatedSmsc, clock: FakeClock, hour: Hour) -> AsyncIterator[Client]:
    """The bot with status pushes, in-progress statuses pushed too."""
    async with _bot(sim, clock, hour, pushes=True) as client:
        yield client


@asynccontextmanager
async def bot_pushes_final(
    sim: SimulatedSmsc, clock: FakeClock, hour: Hour
) -> AsyncIterator[Client]:
    """The bot with status pushes of final statuses only."""
    async with _bot(sim, clock, hour, pushes=False) as client:
        yield client


@asynccontextmanager
async def _bot(
    sim: SimulatedSmsc, clock: FakeClock, hour: Hour, *, pushes: bool | None
) -> AsyncIterator[Client]:
    """The real bot against ``sim``; with ``pushes`` (not None) the simulator pushes to it,
    in-progress statuses too when True."""
    with tempfile.TemporaryDirectory(prefix="bench-correct-") as folder:
        async with (
            FakeTelegramServer(clock=clock) as telegram,
            running_bot(
                database=Path(folder) / "bot.sqlite3",
                smsc_url=sim.base_url,
                telegram_url=telegram.base_url,
                token=telegram.token,
                clock=clock,
                sleep=clock.sleep,
            ) as running,
        ):
            store = running.services.storage
            await store.add_account("team", API_KEY, added_by=ADMIN, now=clock())
            for agent in range(hour.agents):
                await store.grant(FIRST_AGENT + agent, "team", granted_by=ADMIN, now=clock())
            observer = LastObserver(running.services.fetcher, clock)

            async def feed(question: Question) -> None:
                update = message_update(
                    question.text, user_id=FIRST_AGENT + question.agent, date=int(clock())
                )
                await running.feed(update)

            if pushes is None:
                client: BotClient = BotClient(feed, observer)
                yield client
                await client.finish(clock)
            else:
                services = running.services
                await PushStore(store).set_secret("team", PUSH_SECRET, now=clock())
                await services.push_keys.reload()
                sock = bind(Listen("127.0.0.1", 0))
                endpoint = make_endpoint(
                    sock, services, running.dispatcher, running.bot, webhook_secret=None
                )
                await endpoint.server.start()
                url = f"{endpoint.server.base_url}/smsc/team?charset=utf-8&md5={PUSH_SECRET}"
                pusher = StatusPusher(history_of(sim, API_KEY), url, in_progress=pushes,
                                      clock=clock)  # fmt: skip
                pusher.listen()  # no loop of its own: the client's ticks send
                name = "bot+pushes" if pushes else "bot+pushes (final only)"
                client = PushingBotClient(feed, observer, pusher, clock, name)
                try:
                    yield client
                    await client.finish(clock)
                finally:
                    await pusher.close()
                    await endpoint.server.close()
            replies = len(telegram.calls_of("sendMessage"))
            if replies < len(hour.questions):
                raise RuntimeError(f"{replies} replies to {len(hour.questions)} questions")


CLIENTS: Final[dict[str, ClientFactory]] = {
    "bot": bot,
    "bot+pushes": bot_pushes,
    "bot+pushes (final only)": bot_pushes_final,
    "batched-only": batched,
    "naive": naive,
}
#: What ``python -m bench`` runs unless ``--pushes`` asks for the push clients too.
WITHOUT_PUSHES: Final = ("bot", "batched-only", "naive")
