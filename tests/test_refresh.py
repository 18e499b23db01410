"""Status refresh off the history budget (PRODUCT.md §7), on the fake clock against the simulated
SMS Center: ``status.php`` for a held message whose status can change, within its published
limits; error 4 pauses every account of the host."""

from __future__ import annotations

import asyncio

from bot.fetch import Fetcher, HeldBack, Lookup, Origin
from bot.fetch.budget import AccountBudget
from bot.fetch.refresh import MULTI_INTERVAL
from bot.smsc import HistoryEntry, SmscClient
from bot.smsc.records import SETTLE
from bot.smsc.simulator import SimulatedSmsc
from bot.store import Account, Storage
from tests.conftest import API_KEY, make_fetcher
from tests.fakes.clock import FakeClock
from tests.fakes.smsc_faults import Faults, FaultySmsc

PHONE = "79161234567"
OTHER = "79167654321"


def requests(sim: SimulatedSmsc, script: str) -> int:
    return sum(1 for request in sim.requests if request.script == script)


async def held_with_the_hour_spent(
    fetcher: Fetcher, account: Account, *phones: str
) -> list[Lookup[HistoryEntry | None]]:
    """Ask for ``phones`` (one batch) and wait for their answers, then spend the rest of the
    hour, so that the next batch waits for the hour: the numbers are held, their batch far."""
    answers = [await fetcher.ask_last(1, account, phone) for phone in phones]
    finals = [answer.final for answer in answers]
    assert all(final is not None for final in finals)
    landed = await asyncio.wait_for(asyncio.gather(*(f for f in finals if f is not None)), 5)
    await spend_the_hour(fetcher.budget, account.key_id)
    return list(landed)


async def spend_the_hour(budget: AccountBudget, key_id: str) -> None:
    """Count the rest of the hour as spent, so that the next batch waits for the hour."""
    while await budget.try_spend(key_id, cold=True):
        pass


async def test_a_held_number_passed_to_the_operator_gets_one_status_request_then_its_batch(
    sim: FaultySmsc, client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    sent = clock() - 600
    sim.add_message(
        API_KEY, phone=PHONE, status=0, send_timestamp=int(sent), **{SETTLE: (clock() + 30, 1, 0)}
    )
    fetcher = make_fetcher(client, storage, clock)
    (landed,) = await held_with_the_hour_spent(fetcher, account, PHONE)
    assert landed.value is not None and landed.value.status == 0
    assert (requests(sim, "get"), requests(sim, "status")) == (1, 0)

    clock.advance(61)  # past CACHE_TTL: delivered meanwhile
    again = await fetcher.ask_last(2, account, PHONE)
    # Inside its batch period (the hour is spent): one status.php request, no history request.
    assert (requests(sim, "get"), requests(sim, "status")) == (1, 1)
    # One message goes in the single form: the trailing-comma form would count as multi.
    status = next(r.params for r in sim.requests if r.script == "status")
    assert (status["phone"], status["id"]) == (PHONE, str(landed.value.id))
    assert again.now is not None and again.now.value is not None
    assert again.now.value.status == 1
    assert again.now.origin is Origin.STALE and again.now.held_back is HeldBack.BUDGET
    assert again.now.fetched_at == landed.fetched_at  # the newest message is known as of then
    assert again.now.status_at == clock()  # its status as of now
    # Asked again at once: the status was just seen, so no second status request.
    third = await fetcher.ask_last(3, account, PHONE)
    assert requests(sim, "status") == 1
    assert third.final is not None and again.final is not None

    # Held longer than CACHE_TTL, it also joined the batch: the history request comes when the
    # hour allows, and the final answer is fresh.
    for _ in range(20):
        await asyncio.sleep(0)
    clock.advance(3600)
    final = await asyncio.wait_for(again.final, 5)
    assert requests(sim, "get") == 2
    assert final.origin is Origin.FRESH and final.value is not None and final.value.status == 1
    await fetcher.close()


async def test_a_final_status_is_never_refreshed(
    sim: FaultySmsc, client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=1, send_timestamp=int(clock() - 600))
    fetcher = make_fetcher(client, storage, clock)
    await held_with_the_hour_spent(fetcher, account, PHONE)
    clock.advance(61)
    again = await fetcher.ask_last(2, account, PHONE)
    assert again.now is not None and again.now.status_at is None
    assert requests(sim, "status") == 0
    await fetcher.close()


async def test_several_held_numbers_share_one_multi_message_request_a_minute(
    sim: FaultySmsc, client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    phones = [f"7916555000{n}" for n in range(4)]
    for phone in phones:
        sim.add_message(API_KEY, phone=phone, status=0, send_timestamp=int(clock() - 600))
    fetcher = make_fetcher(client, storage, clock)
    await held_with_the_hour_spent(fetcher, account, *phones)
    clock.advance(61)
    refresher = fetcher.refresher
    picture = fetcher.batches.picture(account.key_id)
    start = clock() - 180 * 86400
    futures = []
    for phone in phones:
        newest = picture.newest(phone, start=start)
        assert newest is not None and newest.held is not None
        assert refresher.due(account.key_id, newest.held)
        future, _ = refresher.refresh(account, newest.held)
        futures.append(future)
    await asyncio.wait_for(asyncio.gather(*futures), timeout=5)
    status = [r.params for r in sim.requests if r.script == "status"]
    assert len(status) == 1 and sorted(status[0]["phone"].split(",")) == sorted(phones)
    # A second round within the minute waits for it: never two multi-message requests a minute.
    clock.advance(1)
    pending = []
    for phone in phones[:2]:
        newest = picture.newest(phone, start=start)
        assert newest is not None and newest.held is not None
        pending.append(refresher.refresh(account, newest.held))
    assert pending[-1][1] == clock() + MULTI_INTERVAL - 1  # two waiting: a multi-message one
    for _ in range(20):
        await asyncio.sleep(0)
    assert requests(sim, "status") == 1
    clock.advance(MULTI_INTERVAL)
    await asyncio.wait_for(asyncio.gather(*(f for f, _ in pending)), timeout=5)
    assert requests(sim, "status") == 2
    # A single-message refresh right after a multi-message one is within the limits too.
    clock.advance(1)
    newest = picture.newest(phones[3], start=start)
    assert newest is not None and newest.held is not None
    future, at = refresher.refresh(account, newest.held)
    assert at == clock()
    await asyncio.wait_for(future, timeout=5)
    assert requests(sim, "status") == 3
    assert sim.refused[("status", 9)] == 0
    await fetcher.close()


async def test_error_4_from_status_php_pauses_every_account(
    sim: FaultySmsc,
    client: SmscClient,
    storage: Storage,
    account: Account,
    clock: FakeClock,
) -> None:
    other = await storage.add_account("other", "other0key0" + "0" * 22, added_by=1, now=clock())
    sim.add_account("other0key0" + "0" * 22)
    sim.add_message(API_KEY, phone=PHONE, status=0, send_timestamp=int(clock() - 600))
    fetcher = make_fetcher(client, storage, clock)
    await held_with_the_hour_spent(fetcher, account, PHONE)
    clock.advance(61)
    sim.faults = Faults(error_code=4, only="status")
    again = await fetcher.ask_last(1, account, PHONE)
    assert requests(sim, "status") == 1
    assert again.now is not None and again.now.status_at is None  # nothing learnt: as it was
    sim.faults = Faults()
    # The other account's question waits out the block: no request of any kind.
    before = len(sim.requests)
    elsewhere = await fetcher.ask_last(5, other, OTHER)
    assert len(sim.requests) == before
    assert elsewhere.now is None and elsewhere.due is not None
    assert elsewhere.due >= clock() + 29 * 60
    await fetcher.close()


async def test_status_minus_3_for_a_held_message_changes_nothing_and_is_not_asked_again(
    sim: FaultySmsc, client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=0, send_timestamp=int(clock() - 600))
    fetcher = make_fetcher(client, storage, clock)
    await held_with_the_hour_spent(fetcher, account, PHONE)
    sim.add_account(API_KEY)  # SMS Center no longer knows the message: status -3
    clock.advance(61)
    again = await fetcher.ask_last(2, account, PHONE)
    assert requests(sim, "status") == 1
    assert again.now is not None and again.now.value is not None
    assert again.now.value.status == 0 and again.now.status_at is None  # as it was, with its age
    clock.advance(10)
    await fetcher.ask_last(3, account, PHONE)
    assert requests(sim, "status") == 1  # not asked again within CACHE_TTL
    await fetcher.close()


async def test_error_9_from_status_php_pauses_this_accounts_refreshes_and_spends_nothing(
    sim: FaultySmsc, client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    for phone in (PHONE, OTHER):
        sim.add_message(API_KEY, phone=phone, status=0, send_timestamp=int(clock() - 600))
    fetcher = make_fetcher(client, storage, clock)
    await held_with_the_hour_spent(fetcher, account, PHONE, OTHER)
    left = await fetcher.quota_left(account)
    clock.advance(61)
    sim.faults = Faults(error_code=9, only="status")
    again = await fetcher.ask_last(2, account, PHONE)
    assert requests(sim, "status") == 1
    assert again.now is not None and again.now.status_at is None  # as it was, with its age
    sim.faults = Faults()
    clock.advance(30)  # the other number's status is due, but refreshes pause for a minute
    other = await fetcher.ask_last(3, account, OTHER)
    for _ in range(20):
        await asyncio.sleep(0)
    assert requests(sim, "status") == 1  # nothing asked while paused: no loop re-asks
    assert other.now is not None and other.now.status_at is None
    assert await fetcher.quota_left(account) == left  # status.php spends no history request
    assert await fetcher.budget.backoff_error(account.key_id) is None  # history is not paused
    clock.advance(30)  # the pause is over: the waiting refresh goes
    for _ in range(50):
        await asyncio.sleep(0.01)
        if requests(sim, "status") == 2:
            break
    assert requests(sim, "status") == 2
    await fetcher.close()
