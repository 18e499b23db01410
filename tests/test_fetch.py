"""The shared fetch layer (PRODUCT.md §7) against the simulated SMS Center enforcing its limits.

Time is a ``FakeClock`` shared by the fetch layer and the simulator, so an hour passes in a
moment and SMS Center's own minute and hour limits are checked on the same time line.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.fetch import (
    HOUR,
    Fetcher,
    HeldBack,
    KeyChecksPaused,
    Lookup,
    Origin,
    QuotaExhausted,
    UserRateLimited,
)
from bot.fetch.batcher import NumberNotReached
from bot.fetch.budget import ACCOUNT_FRESH, AccountBudget, Purpose
from bot.smsc import (
    SmscBadCredentials,
    SmscClient,
    SmscConnectError,
    SmscHTTPError,
    SmscIPBlocked,
    SmscRateLimited,
)
from bot.smsc.simulator import SimulatedSmsc
from bot.store import Account, KeyCipher, Storage
from tests.conftest import API_KEY, MOSCOW, make_fetcher
from tests.fakes.clock import FakeClock
from tests.fakes.smsc_faults import FaultySmsc

PHONE = "79161234567"


def history_requests(sim: SimulatedSmsc) -> list[float]:
    return [r.at for r in sim.requests if r.script == "get"]


def seed_numbers(sim: SimulatedSmsc, clock: FakeClock, numbers: list[str]) -> None:
    """One message per number, spread over the last hours, oldest first."""
    start = clock() - 20 * HOUR
    for n, phone in enumerate(numbers):
        at = start + n * 60
        sim.add_message(API_KEY, phone=phone, send_timestamp=int(at), last_timestamp=int(at) + 5)


async def test_fifty_concurrent_identical_lookups_make_one_request(
    sim: FaultySmsc, fetcher: Fetcher, account: Account
) -> None:
    sim.add_message(API_KEY, phone=PHONE)
    sim.faults.delay = 0.05  # keep the first request in flight while the others arrive
    results = await asyncio.gather(*(fetcher.last(user, account, PHONE) for user in range(50)))
    assert sim.count("get") == 1
    assert all(r.value is not None and r.value.phone == PHONE for r in results)


async def test_repeated_lookup_inside_cache_ttl_makes_no_request(
    sim: SimulatedSmsc, fetcher: Fetcher, account: Account, clock: FakeClock
) -> None:
    sim.add_message(API_KEY, phone=PHONE)
    first = await fetcher.last(1, account, PHONE)
    before = sim.count()
    clock.advance(59)
    again = await fetcher.last(2, account, PHONE)
    assert sim.count() - before == 0
    assert first.origin is Origin.FRESH and again.origin is Origin.CACHE
    assert again.fetched_at == first.fetched_at
    clock.advance(2)  # past CACHE_TTL: asked again
    assert (await fetcher.last(1, account, PHONE)).origin is Origin.FRESH
    assert sim.count() - before == 1


async def test_a_simulated_hour_of_a_team_never_hits_smsc_limits(
    sim: SimulatedSmsc, fetcher: Fetcher, account: Account, clock: FakeClock
) -> None:
    """10 users, 200 lookups over 40 numbers in an hour: 0 rate-limit errors, all answered."""
    rng = random.Random(42)
    numbers = [f"7916{n:07d}" for n in range(40)]
    seed_numbers(sim, clock, numbers)
    started = clock()
    outcomes: Counter[str] = Counter()
    ages: list[float] = []
    waits: list[float] = []
    for _ in range(200):
        clock.advance(rng.uniform(0, 36))  # 200 lookups spread over about an hour
        user = rng.randrange(10)
        phone = rng.choice(numbers)
        kind = rng.random()
        lookup: Lookup[Any]
        if kind < 0.85:
            try:
                lookup = await fetcher.last(user, account, phone)
            except QuotaExhausted as held:
                # Nothing held for the number and its batch waits for the budget's pace: it
                # is asked for then (a chat answer says "asking SMS Center" and is edited).
                waits.append(held.fresh_possible_at - clock())
                outcomes["waiting"] += 1
                continue
        elif kind < 0.9:
            lookup = await fetcher.history(user, account, phone, 5)
        else:
            lookup = await fetcher.failed(user, account, 1)
        outcomes[lookup.origin] += 1
        ages.append(clock() - lookup.fetched_at)
        assert lookup.value is not None
        if lookup.origin is Origin.STALE:
            # Held data says why it is not fresh and, when held back, when fresh is possible.
            assert lookup.held_back is not None
            if lookup.held_back is not HeldBack.UPSTREAM:
                assert lookup.fresh_possible_at is not None and lookup.fresh_possible_at > clock()
        else:
            assert lookup.held_back is None and lookup.fresh_possible_at is None
    assert all(wait > 0 for wait in waits)  # a held-back question says when it is asked
    assert clock() - started >= 0.9 * HOUR  # the questions spread over about an hour
    # The team asked more than the hour allows, so the limits below were put to the test.
    assert outcomes[Origin.STALE] > 0 and outcomes[Origin.FRESH] > 0
    # SMS Center's limits were never crossed, checked on its own record of requests:
    times = history_requests(sim)
    assert all(sum(1 for t in times if s <= t < s + HOUR) <= 30 for s in times)
    assert await_no_refusals(sim)
    # Stale answers carry their age; nothing older than the budget's hour is ever shown.
    assert max(ages) < HOUR


def await_no_refusals(sim: SimulatedSmsc) -> bool:
    """Replay the simulator's limit rules over its request log: no request was over a limit."""
    gets = [r for r in sim.requests if r.script == "get"]
    for request in gets:
        identical = [
            r for r in gets
            if r.params == request.params and request.at - 60 < r.at <= request.at
        ]  # fmt: skip
        if len(identical) > 3:
            return False
    return True


async def test_spent_budget_serves_stale_with_age_and_when_fresh_is_possible(
    sim: SimulatedSmsc,
    client: SmscClient,
    storage: Storage,
    account: Account,
    clock: FakeClock,
) -> None:
    fetcher = make_fetcher(client, storage, clock, budget=3)
    numbers = ["79161111111", "79162222222", "79163333333"]
    for phone in numbers:
        sim.add_message(API_KEY, phone=phone)
    first_at = clock()
    first = await fetcher.history(1, account, numbers[0], 5)  # per-number request 1
    clock.advance(10)
    await fetcher.history(2, account, numbers[1], 5)  # 2 (each user may spend a third)
    clock.advance(10)
    await fetcher.history(3, account, numbers[2], 5)  # 3: the budget is spent
    clock.advance(300)
    stale = await fetcher.history(4, account, numbers[0], 5)
    assert sim.count("get") == 3
    assert stale.origin is Origin.STALE and stale.held_back is HeldBack.BUDGET
    assert stale.fetched_at == first.fetched_at == first_at
    # A refresh of held data may use 2 of the 3 (one is kept for cold questions): it is
    # possible again when the second request leaves the sliding hour.
    assert stale.fresh_possible_at == first_at + 10 + HOUR
    with pytest.raises(QuotaExhausted) as caught:
        await fetcher.history(4, account, "79164444444", 5)  # nothing held for it
    assert caught.value.fresh_possible_at == first_at + HOUR
    assert caught.value.reason is HeldBack.BUDGET
    assert sim.count("get") == 3


async def test_a_restart_on_the_same_database_keeps_the_spent_budget(
    sim: SimulatedSmsc,
    client: SmscClient,
    db_path: Path,
    cipher: KeyCipher,
    clock: FakeClock,
) -> None:
    async with await Storage.open(db_path, cipher) as storage:
        account = await storage.add_account("main", API_KEY, added_by=1, now=clock())
        fetcher = make_fetcher(client, storage, clock, budget=2)
        await fetcher.history(1, account, "79161111111", 5)
        await fetcher.history(2, account, "79162222222", 5)
        assert await fetcher.quota_left(account) == 0
    clock.advance(60)
    async with await Storage.open(db_path, cipher) as storage:
        restarted = make_fetcher(client, storage, clock, budget=2)
        account2 = await storage.get_account("main")
        assert account2 is not None
        assert await restarted.quota_left(account2) == 0
        with pytest.raises(QuotaExhausted) as caught:
            await restarted.history(3, account2, "79163333333", 5)
        assert caught.value.reason is HeldBack.BUDGET
    assert sim.count("get") == 2


async def test_last_for_a_number_in_a_fresh_account_wide_fetch_makes_no_request(
    sim: SimulatedSmsc, fetcher: Fetcher, account: Account, clock: FakeClock
) -> None:
    seed_numbers(sim, clock, ["79161111111", "79162222222", PHONE])
    recent = await fetcher.recent(1, account, 10)
    assert len(recent.value) == 3
    before = sim.count()
    for phone in ("79161111111", PHONE):
        lookup = await fetcher.last(2, account, phone)
        assert lookup.value is not None and lookup.value.phone == phone
        assert lookup.origin is Origin.CACHE
    assert sim.count() == before


async def test_a_cold_last_asks_for_the_number_itself_in_one_request(
    sim: SimulatedSmsc, fetcher: Fetcher, account: Account, clock: FakeClock
) -> None:
    # A number whose newest message is far older than any window: one request, not two.
    old = int(clock() - 10 * 24 * HOUR)
    sim.add_message(API_KEY, phone=PHONE, send_timestamp=old, last_timestamp=old)
    seed_numbers(sim, clock, ["79161111111"])
    lookup = await fetcher.last(1, account, PHONE)
    assert lookup.value is not None and lookup.value.phone == PHONE
    assert lookup.origin is Origin.FRESH
    phones_asked = [r.params.get("phone") for r in sim.requests if r.script == "get"]
    assert phones_asked == [PHONE]
    # The answer is the picture's now: asked again inside CACHE_TTL, no request.
    clock.advance(30)
    again = await fetcher.last(2, account, PHONE)
    assert again.origin is Origin.CACHE and again.fetched_at == lookup.fetched_at
    assert sim.count("get") == 1


async def test_five_cold_numbers_asked_within_a_second_make_one_history_request(
    sim: SimulatedSmsc, client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    fetcher = make_fetcher(client, storage, clock, gather=1.0)
    numbers = [f"7916111000{n}" for n in range(5)]
    seed_numbers(sim, clock, numbers[:3])
    answers = []
    for n, phone in enumerate(numbers):
        answer = await fetcher.ask_last(n, account, phone)
        assert answer.now is None and answer.final is not None  # "asking SMS Center"
        assert answer.due is not None and answer.due <= clock() + 1.0
        answers.append(answer)
        clock.advance(0.2)
    for _ in range(20):
        await asyncio.sleep(0)  # the batch loop reaches its gathering sleep
    clock.advance(1.0)
    finals = await asyncio.gather(*(answer.final for answer in answers if answer.final))
    assert [r.params["phone"] for r in sim.requests if r.script == "get"] == [",".join(numbers)]
    for phone, lookup in zip(numbers, finals, strict=True):
        assert lookup.origin is Origin.FRESH
        shown = lookup.value.phone if lookup.value else None
        assert shown == (phone if phone in numbers[:3] else None)
    await fetcher.close()


async def test_older_pages_the_picture_holds_cost_no_request(
    sim: SimulatedSmsc, fetcher: Fetcher, account: Account, clock: FakeClock
) -> None:
    for n in range(12):
        sim.add_message(API_KEY, phone=PHONE, send_timestamp=int(clock() - 3600 + n * 60))
    first = await fetcher.history(1, account, PHONE, 5)
    assert sim.count("get") == 1 and len(first.value) == 5
    clock.advance(600)  # long after CACHE_TTL: the held pages are still whole
    oldest = first.value[-1].int_id
    assert oldest is not None
    older = await fetcher.history(1, account, PHONE, 5, before=oldest)
    assert len(older.value) == 5 and all((e.int_id or 0) < oldest for e in older.value)
    last_id = older.value[-1].int_id
    assert last_id is not None
    rest = await fetcher.history(1, account, PHONE, 5, before=last_id)
    assert len(rest.value) == 2
    assert sim.count("get") == 1


async def test_no_messages_is_an_answer_not_an_error(fetcher: Fetcher, account: Account) -> None:
    lookup = await fetcher.last(1, account, PHONE)
    assert lookup.value is None and lookup.origin is Origin.FRESH


async def test_rate_limit_error_backs_off_and_logs_the_cause(
    sim: FaultySmsc,
    fetcher: Fetcher,
    account: Account,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim.faults.error_code = 9
    sim.faults.times = 1
    with pytest.raises(SmscRateLimited):
        await fetcher.history(1, account, PHONE, 5)
    assert "error 9" in caplog.text and API_KEY not in caplog.text
    with pytest.raises(QuotaExhausted) as caught:
        await fetcher.history(1, account, PHONE, 5)
    assert caught.value.reason is HeldBack.BACKOFF
    assert sim.count("get") == 1
    clock.advance(61)
    await fetcher.history(1, account, PHONE, 5)
    assert sim.count("get") == 2


async def test_smsc_down_serves_held_data_marked_stale(
    sim: FaultySmsc, fetcher: Fetcher, account: Account, clock: FakeClock
) -> None:
    sim.add_message(API_KEY, phone=PHONE)
    first = await fetcher.last(1, account, PHONE)
    clock.advance(120)
    sim.faults.http_status = 500
    stale = await fetcher.last(1, account, PHONE)
    assert stale.origin is Origin.STALE and stale.held_back is HeldBack.UPSTREAM
    assert stale.value == first.value and stale.fetched_at == first.fetched_at


async def test_smsc_down_with_nothing_held_raises(
    sim: FaultySmsc, fetcher: Fetcher, account: Account
) -> None:
    sim.faults.http_status = 502
    with pytest.raises(SmscHTTPError):
        await fetcher.last(1, account, PHONE)


async def test_a_refused_key_is_not_asked_again(
    sim: FaultySmsc, fetcher: Fetcher, account: Account
) -> None:
    sim.faults.error_code = 2
    with pytest.raises(SmscBadCredentials):
        await fetcher.history(1, account, PHONE, 5)
    sim.faults.error_code = None
    with pytest.raises(SmscBadCredentials):
        await fetcher.history(1, account, "79162222222", 5)
    assert sim.count("get") == 1  # a wrong key retried in a loop gets the IP blocked


async def test_connection_refused_spends_no_budget(
    sim: FaultySmsc, fetcher: Fetcher, account: Account
) -> None:
    await sim.refuse()
    with pytest.raises(SmscConnectError):
        await fetcher.history(1, account, PHONE, 5)
    assert await fetcher.quota_left(account) == 30


async def test_user_guard_answers_try_again_without_a_request(
    sim: SimulatedSmsc, client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    fetcher = make_fetcher(client, storage, clock, user_limit=(6, 60.0))
    phones = [f"7916000{n:04d}" for n in range(8)]
    for phone in phones:
        sim.add_message(API_KEY, phone=phone)
    # Six lookups that each would ask SMS Center (together: one batch).
    await asyncio.gather(*(fetcher.last(7, account, phone) for phone in phones[:6]))
    requests = sim.count()
    with pytest.raises(UserRateLimited) as caught:
        await fetcher.last(7, account, phones[6])
    assert 0 < caught.value.retry_after <= 10
    assert sim.count() == requests
    # What the picture answers without a request does not count: a held number is answered.
    held = await fetcher.last(7, account, phones[0])
    assert held.origin is Origin.CACHE and sim.count() == requests
    await fetcher.last(8, account, phones[6])  # another user is not held back
    clock.advance(caught.value.retry_after)
    await fetcher.last(7, account, phones[7])


async def test_the_try_again_line_names_the_share_when_it_is_the_limit_that_holds(
    sim: SimulatedSmsc, client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    # A budget of 6 gives one user a share of 2 single requests an hour; the guard 2 a minute.
    fetcher = make_fetcher(client, storage, clock, budget=6, user_limit=(2, 60.0))
    for n in range(3):
        sim.add_message(API_KEY, phone=f"7916000{n:04d}")
    await fetcher.history(7, account, "79160000000", 5)
    await fetcher.history(7, account, "79160000001", 5)
    with pytest.raises(QuotaExhausted) as caught:
        await fetcher.history(7, account, "79160000002", 5)
    # Not "try again in 30 s": after 30 s the share would still say no, for the rest of the hour.
    assert caught.value.reason is HeldBack.SHARE
    assert caught.value.fresh_possible_at >= clock() + 3000


async def test_status_lookups_are_cached_and_spend_no_history_budget(
    sim: SimulatedSmsc, fetcher: Fetcher, account: Account
) -> None:
    sent = sim.add_message(API_KEY, phone=PHONE, status=1)
    for user in range(5):
        lookup = await fetcher.status(user, account, PHONE, int(sent["id"]))
        assert lookup.value.found
    assert sim.count("status") == 1
    assert await fetcher.quota_left(account) == 30


async def test_failed_window_covers_the_hours_asked(
    sim: SimulatedSmsc, fetcher: Fetcher, account: Account, clock: FakeClock
) -> None:
    now = int(clock())
    sim.add_message(API_KEY, phone="79161111111", status=20, err=6, send_timestamp=now - 7200)
    sim.add_message(API_KEY, phone="79162222222", status=20, err=1, send_timestamp=now - 600)
    sim.add_message(API_KEY, phone="79163333333", status=1, send_timestamp=now - 300)
    lookup = await fetcher.failed(1, account, 1)
    window = lookup.value
    assert [e.phone for e in window.entries] == ["79163333333", "79162222222"]
    assert window.complete and window.since == lookup.fetched_at - HOUR


async def test_one_user_may_cause_only_a_third_of_the_accounts_hour(
    sim: SimulatedSmsc, client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    fetcher = make_fetcher(client, storage, clock, budget=9)  # a share of 3
    numbers = [f"7916111110{n}" for n in range(5)]
    for n, phone in enumerate(numbers[:3]):
        await fetcher.history(1, account, phone, 5)
        clock.advance(60 + n)
    held = await fetcher.history(1, account, numbers[0], 5)  # held data: stale, with the reason
    assert held.origin is Origin.STALE and held.held_back is HeldBack.SHARE
    with pytest.raises(QuotaExhausted) as caught:
        await fetcher.history(1, account, numbers[3], 5)  # nothing held
    assert caught.value.reason is HeldBack.SHARE
    assert caught.value.fresh_possible_at == held.fresh_possible_at
    assert sim.count("get") == 3
    colleague = await fetcher.history(2, account, numbers[4], 5)  # the team still asks
    assert colleague.origin is Origin.FRESH and sim.count("get") == 4
    clock.advance(HOUR - 60)  # the user's first request leaves their sliding hour
    again = await fetcher.history(1, account, numbers[3], 5)
    assert again.origin is Origin.FRESH and sim.count("get") == 5


async def test_key_checks_pause_after_three_refused_keys_in_half_an_hour(
    sim: SimulatedSmsc, fetcher: Fetcher, clock: FakeClock
) -> None:
    for n in range(3):
        with pytest.raises(SmscBadCredentials):
            await fetcher.check_key(10 + n, f"wrong-key-{n}")
        clock.advance(60)
    with pytest.raises(KeyChecksPaused) as caught:
        await fetcher.check_key(20, API_KEY)  # even a good key: SMS Center is not asked
    assert sim.count("balance") == 3
    assert caught.value.resume_at == clock() - 180 + 30 * 60
    clock.advance(30 * 60 - 180)  # the first refusal leaves the window
    assert await fetcher.check_key(20, API_KEY) > 0
    assert sim.count("balance") == 4


async def test_at_most_max_in_flight_requests_per_account_reach_smsc_at_once(
    sim: FaultySmsc, client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    """SMS Center refuses a fifth simultaneous status request; the fetch layer queues them."""
    ids = [int(sim.add_message(API_KEY, phone=PHONE, status=1)["id"]) for _ in range(6)]
    sim.faults.delay = 0.3  # each request stays in flight while the others are asked
    for max_in_flight, refused in ((2, False), (6, True)):
        fetcher = Fetcher(
            client,
            storage,
            cache_ttl=60.0,
            user_limit=(1000, 60.0),
            hourly_budget=30,
            tz=MOSCOW,
            clock=clock,
            max_in_flight=max_in_flight,
        )
        results = await asyncio.gather(
            *(fetcher.status(1, account, PHONE, message_id) for message_id in ids),
            return_exceptions=True,
        )
        assert any(isinstance(r, SmscRateLimited) for r in results) is refused, max_in_flight
        clock.advance(HOUR)  # past the back-off the refusals started


class MemoryLedger:
    """A ``QuotaLedger`` in a list."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float]] = []

    async def record_upstream(self, key_id: str, at: float) -> None:
        self.rows.append((key_id, at))

    async def upstream_since(self, key_id: str, since: float) -> list[float]:
        return [at for key, at in self.rows if key == key_id and at > since]


async def test_warm_refreshes_spend_a_saved_burst_then_one_per_interval_and_keep_the_reserve(
    clock: FakeClock,
) -> None:
    budget = AccountBudget(MemoryLedger(), 30, clock=clock)
    assert (budget.reserve, budget.warm_burst) == (3, 5)
    interval = budget.warm_interval
    assert interval == pytest.approx(HOUR / 22)  # 27 paced an hour: 5 saved and 22 more
    assert all([await budget.try_spend("k", cold=False) for _ in range(5)])
    assert not await budget.try_spend("k", cold=False)
    assert await budget.next_request_at("k", cold=False) == pytest.approx(clock() + interval)
    assert await budget.saved_at("k", 2) == pytest.approx(clock() + 2 * interval)  # two saved
    assert await budget.saved_at("k", 6) == float("inf")  # more than the bucket holds: never
    assert await budget.try_spend("k", cold=True)  # a single cold request is not paced
    clock.advance(interval)
    assert await budget.try_spend("k", cold=False)
    assert not await budget.try_spend("k", cold=False)
    # Refreshes asked every 10 s for two hours never take the reserve for cold questions.
    admitted: list[float] = []
    for _ in range(720):
        clock.advance(10)
        if await budget.try_spend("k", cold=False):
            admitted.append(clock())
        assert await budget.remaining("k") >= budget.reserve
    assert all(sum(1 for t in admitted if s <= t < s + HOUR) <= 27 for s in admitted)


async def test_back_off_doubles_for_rate_limits_and_waits_fixed_times_for_blocks(
    clock: FakeClock,
) -> None:
    budget = AccountBudget(MemoryLedger(), 30, clock=clock)
    too_many = SmscRateLimited("get", 9, "too many requests")
    waits = [await budget.backoff("k", too_many) for _ in range(8)]
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    await budget.clear_backoff("k")
    assert await budget.backoff("k", too_many) == 60  # a success starts the doubling anew
    blocked = SmscIPBlocked("get", 4, "blocked")
    assert await budget.backoff("k", blocked) == 30 * 60
    # Error 4 blocks the host's IP: every account waits it out, not only the one refused.
    assert await budget.backoff_error("other") is blocked
    assert await budget.next_request_at("other") == clock() + 30 * 60
    budget = AccountBudget(MemoryLedger(), 30, clock=clock)
    wrong_key = SmscBadCredentials("get", 2, "wrong key")
    assert await budget.backoff("k", wrong_key) == 5 * 60
    assert await budget.backoff_error("other") is None  # a wrong key pauses its account only
    assert await budget.backoff_error("k") is wrong_key
    assert not await budget.try_spend("k", cold=True)
    assert await budget.next_request_at("k") == clock() + 5 * 60
    clock.advance(5 * 60)
    assert await budget.backoff_error("k") is None
    assert await budget.try_spend("k", cold=True)


async def test_lookups_leave_one_request_for_failed_once_its_window_is_five_minutes_old(
    clock: FakeClock,
) -> None:
    budget = AccountBudget(MemoryLedger(), 30, clock=clock)
    minimum = budget.minimum(Purpose.ACCOUNT)
    for _ in range(minimum):
        assert await budget.try_spend("k", cold=True, purpose=Purpose.ACCOUNT)
    clock.advance(ACCOUNT_FRESH)
    lookups = 0
    while await budget.try_spend("k", cold=True, purpose=Purpose.LOOKUP):
        lookups += 1
    assert lookups == 30 - minimum - 1  # one kept for /failed, in demand and five minutes old
    assert await budget.try_spend("k", cold=True, purpose=Purpose.ACCOUNT)
    assert not await budget.try_spend("k", cold=True, purpose=Purpose.ACCOUNT)


async def test_the_watches_keep_watch_budget_of_the_hour_while_they_are_in_demand(
    clock: FakeClock,
) -> None:
    budget = AccountBudget(MemoryLedger(), 30, clock=clock, watch_share=4)
    assert budget.minimum(Purpose.WATCH) == 4
    assert AccountBudget(MemoryLedger(), 30, clock=clock).minimum(Purpose.WATCH) == 6
    # Nobody watching: lookups may take the whole hour.
    idle = AccountBudget(MemoryLedger(), 30, clock=clock, watch_share=4)
    taken = 0
    while await idle.try_spend("k", cold=True, purpose=Purpose.LOOKUP):
        taken += 1
    assert taken == 30
    # A watch fetched: its share stays free of lookups for the hour.
    assert await budget.try_spend("k", cold=True, purpose=Purpose.WATCH)
    lookups = 0
    while await budget.try_spend("k", cold=True, purpose=Purpose.LOOKUP):
        lookups += 1
    assert lookups == 30 - 4
    for _ in range(3):
        assert await budget.try_spend("k", cold=True, purpose=Purpose.WATCH)
    assert not await budget.try_spend("k", cold=True, purpose=Purpose.WATCH)


async def test_a_number_no_answer_reached_is_said_so_not_called_a_malformed_answer(
    client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    # Its batches landed (three in a row, filled by busier numbers) and nothing is held.
    fetcher = make_fetcher(client, storage, clock)
    landed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    landed.set_result(None)
    with pytest.raises(NumberNotReached):
        await fetcher._newest_when_asked(landed, account, "79160000000", None)
