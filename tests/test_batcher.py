"""Batched lookups against the simulated SMS Center on the fake clock: one comma-list request
for the numbers of the same moment, the budget's pace, error 1 split, failures to every waiter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from unittest.mock import patch

import pytest

from bot.fetch.batcher import (
    LAST_HOLD,
    SPARE,
    STALE_WAIT,
    TIMELY,
    WORTH,
    Batcher,
    NumberRefused,
)
from bot.fetch.budget import AccountBudget
from bot.smsc import SmscClient, SmscTransportError
from bot.smsc.simulator import SimulatedSmsc
from bot.store import Account, Storage
from tests.conftest import API_KEY, MOSCOW
from tests.fakes.clock import FakeClock
from tests.fakes.smsc_faults import FaultySmsc

NUMBERS = [f"7916111000{n}" for n in range(5)]
assert len(NUMBERS) > WORTH  # a late one and WORTH new ones


def history_requests(sim: SimulatedSmsc) -> list[dict[str, str]]:
    return [request.params for request in sim.requests if request.script == "get"]


def six_months(clock: FakeClock) -> tuple[date, float]:
    day = datetime.fromtimestamp(clock(), MOSCOW).date() - timedelta(days=180)
    return day, datetime(day.year, day.month, day.day, tzinfo=MOSCOW).timestamp()


@pytest.fixture
async def batcher(client: SmscClient, storage: Storage, clock: FakeClock) -> AsyncIterator[Batcher]:
    budget = AccountBudget(storage, 30, clock=clock)
    batcher = Batcher(
        client,
        budget,
        clock=clock,
        sleep=clock.sleep,
        start=lambda: six_months(clock),
        gather=1.0,  # "the same moment": a second here
    )
    yield batcher
    await batcher.close()


async def settle(clock: FakeClock, seconds: float, futures: list[asyncio.Future[None]]) -> None:
    """Let the loop reach its sleep, move the clock, and wait for the answers."""
    for _ in range(20):
        await asyncio.sleep(0)
    clock.advance(seconds)
    await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), timeout=10)


async def test_five_cold_numbers_within_a_second_make_one_history_request(
    sim: SimulatedSmsc, batcher: Batcher, account: Account, clock: FakeClock
) -> None:
    for n, phone in enumerate(NUMBERS[:3]):
        sim.add_message(API_KEY, phone=phone, send_timestamp=int(clock() - 600 + n))
    futures = []
    for n, phone in enumerate(NUMBERS):
        future, due = await batcher.wait_for(account, phone, asker=n)
        futures.append(future)
        assert due <= clock() + 1.0
        clock.advance(0.2)
    await settle(clock, 1.0, futures)
    requests = history_requests(sim)
    assert len(requests) == 1
    assert sorted(requests[0]["phone"].split(",")) == NUMBERS
    picture = batcher.picture(account.key_id)
    start = six_months(clock)[1]
    for phone in NUMBERS[:3]:
        newest = picture.newest(phone, start=start)
        assert newest is not None and newest.held is not None
        assert newest.held.entry.phone == phone
    for phone in NUMBERS[3:]:
        newest = picture.newest(phone, start=start)
        assert newest is not None and newest.held is None  # no messages in six months


async def test_a_spent_budget_holds_the_batch_until_the_next_request_it_allows(
    sim: SimulatedSmsc, batcher: Batcher, account: Account, clock: FakeClock, storage: Storage
) -> None:
    for _ in range(30):  # the hour is spent
        await storage.record_upstream(account.key_id, clock() - 1800)
    future, due = await batcher.wait_for(account, NUMBERS[0], asker=1)
    assert due == pytest.approx(clock() + 1800)
    await settle(clock, 600, [])
    assert not future.done() and history_requests(sim) == []
    await settle(clock, 1201, [future])
    assert future.done() and len(history_requests(sim)) == 1


async def test_questions_past_their_minute_leave_the_last_saved_request_for_the_next_one(
    sim: SimulatedSmsc, client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    budget = AccountBudget(storage, 30, clock=clock)
    batcher = Batcher(
        client, budget, clock=clock, sleep=clock.sleep, start=lambda: six_months(clock), gather=1.0
    )
    try:
        for _ in range(budget.warm_burst):  # a busy spell spent every request saved up
            assert await budget.try_spend(account.key_id, cold=False)
        started = clock()
        late, late_due = await batcher.wait_for(account, NUMBERS[0], asker=1)
        # The next request is saved an interval on, when this question is past its minute: it
        # is told the later of "SPARE saved" and STALE_WAIT, not the interval.
        assert budget.warm_interval > TIMELY
        assert late_due == pytest.approx(started + min(SPARE * budget.warm_interval, STALE_WAIT))
        await settle(clock, budget.warm_interval + 10, [])
        assert history_requests(sim) == [] and not late.done()  # the saved request is kept
        asked = clock()
        new = NUMBERS[1 : 1 + WORTH]  # enough questions within their minute for a request
        futures = [late]
        for n, phone in enumerate(new):
            future, soon_due = await batcher.wait_for(account, phone, asker=2 + n)
            futures.append(future)
        assert soon_due <= asked + TIMELY
        await settle(clock, LAST_HOLD, futures)  # the new questions wake the loop
        requests = history_requests(sim)
        assert len(requests) == 1  # one request carries them all
        assert sorted(requests[0]["phone"].split(",")) == sorted([NUMBERS[0], *new])
        assert clock() - asked <= TIMELY and clock() <= late_due
    finally:
        await batcher.close()


async def test_a_lone_question_waits_for_others_rather_than_take_the_last_saved_requests(
    sim: SimulatedSmsc, client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    budget = AccountBudget(storage, 30, clock=clock)
    batcher = Batcher(
        client, budget, clock=clock, sleep=clock.sleep, start=lambda: six_months(clock), gather=1.0
    )
    try:
        for _ in range(budget.warm_burst - 1):  # one request saved, fewer than SPARE
            assert await budget.try_spend(account.key_id, cold=False)
        first = clock()
        lone, due = await batcher.wait_for(account, NUMBERS[0], asker=1)
        assert due > first + TIMELY  # told the time of a question past its minute
        await settle(clock, 30, [])
        assert history_requests(sim) == []  # one question does not spend the last saved one
        futures = [lone]
        for n, phone in enumerate(NUMBERS[1:WORTH]):  # colleagues ask within its minute
            future, _ = await batcher.wait_for(account, phone, asker=2 + n)
            futures.append(future)
        await settle(clock, first + LAST_HOLD - clock(), futures)
        requests = history_requests(sim)
        assert len(requests) == 1 and len(requests[0]["phone"].split(",")) == WORTH
        assert clock() - first <= TIMELY  # the first question too is answered within its minute
    finally:
        await batcher.close()


async def test_questions_past_their_minute_are_asked_for_by_the_time_they_were_told(
    sim: SimulatedSmsc, client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    budget = AccountBudget(storage, 30, clock=clock)
    batcher = Batcher(
        client, budget, clock=clock, sleep=clock.sleep, start=lambda: six_months(clock), gather=1.0
    )
    try:
        for _ in range(budget.warm_burst):
            assert await budget.try_spend(account.key_id, cold=False)
        late, due = await batcher.wait_for(account, NUMBERS[0], asker=1)
        await settle(clock, due - clock() - 1, [])
        assert history_requests(sim) == []  # nobody else asked: it waits as it was told
        await settle(clock, 1, [late])
        assert late.done() and len(history_requests(sim)) == 1
    finally:
        await batcher.close()


async def test_error_1_splits_the_batch_to_find_the_refused_number(
    sim: SimulatedSmsc, batcher: Batcher, account: Account, clock: FakeClock
) -> None:
    # The simulator refuses a list holding an entry that is not a number (error 1).
    futures = [(await batcher.wait_for(account, p, asker=1))[0] for p in NUMBERS[:3]]
    bad, _ = await batcher.wait_for(account, "7916abc", asker=2)
    await settle(clock, 1.0, [*futures, bad])
    assert all(f.exception() is None for f in futures)
    assert isinstance(bad.exception(), NumberRefused)
    assert len(history_requests(sim)) >= 3  # the whole list, then its halves


async def test_sms_center_down_reaches_every_waiter(
    sim: FaultySmsc, batcher: Batcher, account: Account, clock: FakeClock
) -> None:
    await sim.refuse()
    futures = [(await batcher.wait_for(account, p, asker=1))[0] for p in NUMBERS[:2]]
    await settle(clock, 1.0, futures)
    for future in futures:
        assert isinstance(future.exception(), SmscTransportError)


async def test_stopping_answers_every_waiter(batcher: Batcher, account: Account) -> None:
    future, _ = await batcher.wait_for(account, NUMBERS[0], asker=1)
    await batcher.close()
    assert future.done() and future.exception() is not None


@pytest.mark.parametrize("per_number", [False, True], ids=["cnt-caps-the-answer", "cnt-per-number"])
async def test_completeness_is_right_under_either_reading_of_cnt(
    client: SmscClient, storage: Storage, account: Account, clock: FakeClock, per_number: bool
) -> None:
    # A busy number with more messages than a batch's cnt pushes the others out of the answer
    # under one reading, and keeps them in under the other; either way every number's answer
    # is its true newest message, and nothing is claimed the answer did not hold.
    busy, quiet, silent = "79161112233", "79162223344", "79163334455"
    async with SimulatedSmsc(
        clock=clock, with_demo=False, accounts={API_KEY: []}, cnt_per_number=per_number
    ) as sim:
        sim.add_message(API_KEY, phone=quiet, send_timestamp=int(clock() - 86_400), status=3)
        for n in range(12):
            sim.add_message(API_KEY, phone=busy, send_timestamp=int(clock() - 3600 + n))
        async with SmscClient(sim.base_url, timeout=2.0) as own:
            budget = AccountBudget(storage, 30, clock=clock)
            batcher = Batcher(
                own, budget, clock=clock, sleep=clock.sleep, start=lambda: six_months(clock),
                gather=0.0,
            )  # fmt: skip
            with patch("bot.fetch.batcher.BATCH_COUNT", 10):
                futures = [
                    (await batcher.wait_for(account, phone, asker=1))[0]
                    for phone in (busy, quiet, silent)
                ]
                await settle(clock, 0.0, futures)
            await batcher.close()
        truth = {phone: [m for m in sim.messages(API_KEY) if m["phone"] == phone] for phone in
                 (busy, quiet, silent)}  # fmt: skip
    picture = batcher.picture(account.key_id)
    start = six_months(clock)[1]
    for phone, messages in truth.items():
        newest = picture.newest(phone, start=start)
        assert newest is not None, phone  # every number answered: in one request or the next
        expected = messages[0]["int_id"] if messages else None
        shown = newest.held.entry.int_id if newest.held is not None else None
        assert shown == expected, phone
    # Under "cnt caps the answer" the first answer was all the busy number's: the others were
    # asked again; per number they all came in one.
    assert len(history_requests(sim)) == (1 if per_number else 2)
