"""Quota economy: an hour of a support team, the bot beside a naive client, in simulated time.

Both replay the same ``Workload`` against their own simulated SMS Center (same account, same
messages), which enforces SMS Center's real limits (3 identical history requests a minute, 30 an
hour) on the same fake clock as the client:

- **bot** — every question is a Telegram update fed through the real Dispatcher and handlers
  (the bot's answers go to the fake Bot API server). The fetch layer's public lookups are
  observed on the way, so each answer's data age is ``clock - Lookup.fetched_at``.
- **naive** — one ``SmscClient.get_messages`` per question, no cache; a refusal is an
  unanswered question.

``Pacing`` sets the bot's budget to pace refreshes otherwise — as before issue 6
(``PREVIOUS_PACING``) or with another bucket size — for a comparison in the same run.

Requests and refusals are counted at the simulator's HTTP boundary (``SmscLog``). "Answered"
means the asker got data (fresh, cached, or held data marked stale with its age), not an error
or "try again". ``ceiling`` is the best any client could do with 30 requests for the hour:
each request makes answers fresh (≤ 60 s) for at most the questions of the 60 s after it, so the
most questions 30 requests can serve fresh is the best cover of the question times by 30
intervals of 60 s (computed exactly by ``best_cover``).
"""

from __future__ import annotations

import asyncio
import functools
import math
import statistics
import tempfile
from bisect import bisect_right
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from bench.harness import ADMIN, running_bot
from bench.smsc_log import RATE_LIMITED, SmscLog
from bench.workload import HOUR, Question, Send, Workload
from bot.fetch import RESERVE_SHARE, Answer, Fetcher, Lookup, Origin
from bot.smsc import SmscClient, SmscError
from bot.smsc.simulator import HISTORY_HOURLY_LIMIT, SimulatedSmsc
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegramServer
from tests.fakes.updates import message_update

START: Final = 1_790_000_000.0  # the hour starts here: Monday 21.09.2026, 17:13 in Moscow
API_KEY: Final = "bench0team0key0000000000000000aa"  # a simulator account, not a secret
FRESH: Final = 60.0  # "fresh" answers: data at most this old (= the default CACHE_TTL)
FIRST_AGENT: Final = 10_000
MOSCOW: Final = ZoneInfo("Europe/Moscow")


@dataclass
class QuotaResult:
    """One client's hour: what it asked of SMS Center and what the agents got."""

    client: str
    load: int
    questions: int
    upstream_requests: int
    rate_limit_errors: int
    answered: int
    stale_answers: int
    fresh_answers: int  # answered with data ≤ FRESH s old
    median_age: float | None
    worst_age: float | None
    unanswered: dict[str, int] = field(default_factory=dict)
    ceiling_fresh: int = 0  # the most questions 30 requests could answer fresh
    requests_for_95: int = 0  # the fewest requests that could answer 95 % of questions fresh

    @property
    def fresh_share(self) -> float:
        """Share of answers whose data was at most FRESH s old."""
        return self.fresh_answers / self.answered if self.answered else 0.0

    def as_json(self) -> dict[str, Any]:
        """Plain data, with the derived share."""
        return {**asdict(self), "fresh_share": self.fresh_share}


@dataclass
class _Answer:
    age: float | None = None  # None: not answered
    stale: bool = False
    failure: str = ""


def _sim(workload: Workload, clock: FakeClock) -> SimulatedSmsc:
    messages = [_message(send) for send in workload.background]
    return SimulatedSmsc(clock=clock, with_demo=False, accounts={API_KEY: messages})


def _message(send: Send) -> dict[str, Any]:
    at = int(START + send.at)
    return {
        "phone": send.phone,
        "send_timestamp": at,
        "last_timestamp": at + 7,
        "status": send.status,
        "err": send.err,
    }


async def _replay(
    workload: Workload,
    clock: FakeClock,
    sim: SimulatedSmsc,
    ask: Callable[[Question], Awaitable[_Answer]],
) -> list[_Answer]:
    """Move the clock through the hour: the account's sends land, the questions are asked."""
    answers: list[_Answer] = []
    sends = iter(workload.sends)
    pending = next(sends, None)
    for question in workload.questions:
        while pending is not None and pending.at <= question.at:
            clock.advance_to(START + pending.at)
            sim.add_message(API_KEY, **_message(pending))
            pending = next(sends, None)
        clock.advance_to(START + question.at)
        answers.append(await ask(question))
    return answers


class _LookupRecorder:
    """Wraps the fetcher's public lookups to see each answer's provenance on its way out."""

    def __init__(self, fetcher: Fetcher, clock: FakeClock) -> None:
        self._clock = clock
        self.last: _Answer | None = None
        for name in ("history", "recent", "failed"):
            setattr(fetcher, name, self._wrap(getattr(fetcher, name)))
        setattr(fetcher, "ask_last", self._wrap_ask(fetcher.ask_last))  # noqa: B010

    def _wrap(self, lookup: Callable[..., Awaitable[Lookup[Any]]]) -> Callable[..., Any]:
        @functools.wraps(lookup)
        async def observed(*args: Any, **kwargs: Any) -> Lookup[Any]:
            try:
                result = await lookup(*args, **kwargs)
            except Exception as exc:
                self.last = _Answer(failure=type(exc).__name__)
                raise
            age = self._clock() - result.fetched_at
            self.last = _Answer(age=age, stale=result.origin is Origin.STALE)
            return result

        return observed

    def _wrap_ask(self, ask: Callable[..., Awaitable[Answer[Any]]]) -> Callable[..., Any]:
        """``/last`` answers now, and sometimes later: the answer the asker sees first counts
        (the final one when the handler waits for it, since its request goes out at once)."""

        @functools.wraps(ask)
        async def observed(*args: Any, **kwargs: Any) -> Answer[Any]:
            try:
                result = await ask(*args, **kwargs)
            except Exception as exc:
                self.last = _Answer(failure=type(exc).__name__)
                raise
            if result.final is not None and result.prompt:
                result.final.add_done_callback(self._landed)
            elif result.now is not None:
                age = self._clock() - result.now.fetched_at
                self.last = _Answer(age=age, stale=result.now.origin is Origin.STALE)
            else:
                self.last = _Answer(failure="asking")
            return result

        return observed

    def _landed(self, final: asyncio.Future[Lookup[Any]]) -> None:
        if final.cancelled() or final.exception() is not None:
            self.last = _Answer(failure="failed")
            return
        result = final.result()
        age = self._clock() - result.fetched_at
        self.last = _Answer(age=age, stale=result.origin is Origin.STALE)

    def take(self) -> _Answer:
        """The outcome of the question just handled."""
        answer, self.last = self.last, None
        return answer or _Answer(failure="no lookup")


@dataclass(frozen=True, slots=True)
class Pacing:
    """How the fetch layer's budget paces refreshes of held data, set on it for a comparison:
    ``reserve`` requests an hour kept for cold questions, a bucket of ``burst`` refreshes that
    gains one every ``interval`` seconds."""

    name: str
    reserve: int
    burst: int
    interval: float

    @classmethod
    def saving(cls, burst: int, limit: int = HISTORY_HOURLY_LIMIT) -> Pacing:
        """The bot's own rule with another bucket size: ``burst`` + refills = the warm hour."""
        reserve = max(1, limit // RESERVE_SHARE)
        warm = limit - reserve
        return cls(f"bot, warm burst {burst}", reserve, burst, HOUR / max(1, warm - burst))


# How the bot paced refreshes before issue 6: a third of the hour kept for cold questions,
# refreshes of held data at least HOUR / 20 = 180 s apart, none saved up.
PREVIOUS_PACING: Final = Pacing("bot, pacing before #6", 10, 1, 180.0)


async def run_bot(workload: Workload, *, pacing: Pacing | None = None) -> QuotaResult:
    """The hour through the real Dispatcher, handlers and fetch layer; ``pacing`` overrides how
    its budget paces refreshes (``PREVIOUS_PACING``: as before issue 6), for a comparison."""
    clock = FakeClock(START)
    sim = _sim(workload, clock)
    log = SmscLog(sim)
    with tempfile.TemporaryDirectory(prefix="bench-quota-") as folder:
        async with (
            sim,
            FakeTelegramServer(clock=clock) as telegram,
            running_bot(
                database=Path(folder) / "bot.sqlite3",
                smsc_url=sim.base_url,
                telegram_url=telegram.base_url,
                token=telegram.token,
                clock=clock,
                sleep=clock.sleep,
                gather=0.0,  # the hour's questions are asked one at a time
            ) as running,
        ):
            store = running.services.storage
            await store.add_account("team", API_KEY, added_by=ADMIN, now=clock())
            for agent in range(workload.agents):
                await store.grant(FIRST_AGENT + agent, "team", granted_by=ADMIN, now=clock())
            fetcher = running.services.fetcher
            if pacing is not None:
                budget = fetcher.budget
                budget.reserve = pacing.reserve
                budget.warm_burst = pacing.burst
                budget.warm_interval = pacing.interval
            recorder = _LookupRecorder(fetcher, clock)

            async def ask(question: Question) -> _Answer:
                update = message_update(
                    question.text, user_id=FIRST_AGENT + question.agent, date=int(clock())
                )
                await running.feed(update)
                return recorder.take()

            answers = await _replay(workload, clock, sim, ask)
            replies = len(telegram.calls_of("sendMessage"))
    if replies < len(workload.questions):  # answers that came over a minute late are replies too
        raise RuntimeError(f"{replies} replies to {len(workload.questions)} questions")
    name = "bot" if pacing is None else pacing.name
    return _result(name, workload, answers, log)


async def run_naive(workload: Workload) -> QuotaResult:
    """The hour as a naive client asks it: one history request per question, no cache."""
    clock = FakeClock(START)
    sim = _sim(workload, clock)
    log = SmscLog(sim)
    async with sim, SmscClient(sim.base_url, timeout=10.0) as client:

        async def ask(question: Question) -> _Answer:
            try:
                await _naive_request(client, question, clock())
            except SmscError as exc:
                return _Answer(failure=type(exc).__name__)
            return _Answer(age=0.0)

        answers = await _replay(workload, clock, sim, ask)
    return _result("naive", workload, answers, log)


async def _naive_request(client: SmscClient, question: Question, now: float) -> None:
    if question.command in ("last", "history"):
        count = 1 if question.command == "last" else question.count
        await client.get_messages(API_KEY, phone=question.phone, cnt=count)
    elif question.command == "recent":
        await client.get_messages(API_KEY, cnt=question.count)
    else:
        since = datetime.fromtimestamp(now, MOSCOW).date() - timedelta(days=1)
        await client.get_messages(API_KEY, cnt=1000, start=since)


def _result(client: str, workload: Workload, answers: list[_Answer], log: SmscLog) -> QuotaResult:
    ages = [answer.age for answer in answers if answer.age is not None]
    times = [question.at for question in workload.questions]
    needed = math.ceil(0.95 * len(times))
    return QuotaResult(
        client=client,
        load=workload.load,
        questions=len(answers),
        upstream_requests=log.count("get"),
        rate_limit_errors=log.refused(RATE_LIMITED, "get"),
        answered=len(ages),
        stale_answers=sum(1 for answer in answers if answer.stale),
        fresh_answers=sum(1 for age in ages if age <= FRESH),
        median_age=statistics.median(ages) if ages else None,
        worst_age=max(ages) if ages else None,
        unanswered=dict(Counter(answer.failure for answer in answers if answer.age is None)),
        ceiling_fresh=best_cover(times, FRESH, HISTORY_HOURLY_LIMIT),
        requests_for_95=fewest_intervals(times, FRESH, needed),
    )


def best_cover(times: Sequence[float], width: float, intervals: int) -> int:
    """The most of ``times`` that ``intervals`` closed intervals of ``width`` can cover.

    Dynamic programming over the sorted times: an optimal interval may start at a time, and then
    covers that time and every later one within ``width``; ``cover[k][i]`` is the best for
    ``times[i:]`` with ``k`` intervals.
    """
    return _cover_table(times, width, intervals)[intervals][0]


def fewest_intervals(times: Sequence[float], width: float, covered: int) -> int:
    """The fewest intervals of ``width`` that cover at least ``covered`` of ``times``."""
    table = _cover_table(times, width, len(times))
    return next(k for k, row in enumerate(table) if row[0] >= covered)


def _cover_table(times: Sequence[float], width: float, intervals: int) -> list[list[int]]:
    ordered = sorted(times)
    n = len(ordered)
    reach = [bisect_right(ordered, t + width) for t in ordered]
    table = [[0] * (n + 1)]
    for _ in range(intervals):
        fewer = table[-1]
        row = [0] * (n + 1)
        for i in range(n - 1, -1, -1):
            row[i] = max(row[i + 1], reach[i] - i + fewer[reach[i]])
        table.append(row)
        if row[0] == n:
            break
    while len(table) <= intervals:
        table.append(table[-1])
    return table
