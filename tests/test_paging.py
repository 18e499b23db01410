"""``/failed`` covers what it says (PRODUCT.md §7): it pages back with ``prev_id`` past the
account-wide window until the asked hours are held or its share is spent, reuses the pages the
picture holds, and says which part it covers. Against the simulated SMS Center on the fake
clock."""

from __future__ import annotations

import asyncio

from bot.fetch import HOUR, Origin
from bot.fetch.budget import ACCOUNT_FRESH, Purpose
from bot.fetch.paging import page_back
from bot.fetch.picture import AccountPicture
from bot.smsc import HistoryEntry, SmscClient
from bot.smsc.simulator import SimulatedSmsc
from bot.store import Account, Storage
from bot.text.phrases import Lang
from bot.text.render import render_failed
from bot.text.view import View
from tests.conftest import API_KEY, MOSCOW, make_fetcher
from tests.fakes.clock import FakeClock


def history_requests(sim: SimulatedSmsc) -> list[dict[str, str]]:
    return [r.params for r in sim.requests if r.script == "get"]


def busy_account(sim: SimulatedSmsc, clock: FakeClock, count: int, every: float) -> list[float]:
    """``count`` messages, one every ``every`` seconds up to now, every tenth failed; their send
    times, oldest first."""
    times = [clock() - (count - n) * every for n in range(count)]
    for n, at in enumerate(times):
        status, err = (20, 6) if n % 10 == 0 else (1, 0)
        sim.add_message(
            API_KEY,
            phone=f"7916{n:07d}",
            status=status,
            err=err,
            send_timestamp=int(at),
            last_timestamp=int(at) + 5,
        )
    return times


async def test_failed_1_on_a_busy_account_pages_back_past_the_window_and_reuses_held_pages(
    sim: SimulatedSmsc, client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    # 1 500 messages, one every 2.4 s: the newest 1000 reach back 40 minutes, not the hour.
    times = busy_account(sim, clock, 1500, 2.4)
    fetcher = make_fetcher(client, storage, clock)
    lookup = await fetcher.failed(1, account, 1)
    window = lookup.value
    asked = history_requests(sim)
    assert len(asked) == 2 and "prev_id" not in asked[0] and "prev_id" in asked[1]
    assert window.complete and window.covered_since == window.since
    in_hour = [t for t in times if t >= clock() - HOUR]
    assert len(window.entries) == len(in_hour)
    assert sum(1 for e in window.entries if e.status == 20) == sum(
        1 for n, t in enumerate(times) if t >= clock() - HOUR and n % 10 == 0
    )
    # A minute later: a new window, which meets the page held — no page is asked again.
    clock.advance(61)
    again = await fetcher.failed(1, account, 1)
    assert len(history_requests(sim)) == 3
    assert "prev_id" not in history_requests(sim)[2]
    assert again.value.complete
    await fetcher.close()


async def test_failed_24_pages_back_until_its_share_is_spent_and_says_what_it_covers(
    sim: SimulatedSmsc, client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    # 4 000 messages over 4 hours; a budget of 6 gives one user 2 requests: the window and one
    # page back, 2 000 messages, about two hours.
    times = busy_account(sim, clock, 4000, 3.6)
    fetcher = make_fetcher(client, storage, clock, budget=6)
    lookup = await fetcher.failed(1, account, 24)
    window = lookup.value
    assert len(history_requests(sim)) == 2
    assert not window.complete
    assert window.covered_since == times[-2000]
    assert len(window.entries) == 2000
    answer = render_failed(lookup, 24, View(lang=Lang.EN, tz=MOSCOW, now=clock(), mask_codes=False))
    assert "⚠️ Only messages sent since" in answer
    await fetcher.close()


async def test_a_page_that_does_not_reach_further_back_ends_the_paging() -> None:
    picture = AccountPicture()
    now = 1_790_000_000.0
    newest = [
        HistoryEntry(phone="79160000001", id=n, int_id=n, send_timestamp=int(now - 1000 + n))
        for n in range(1000, 0, -1)
    ]
    picture.learn_history(newest, at=now, since=now - 2 * 86400, cnt=1000)
    asked: list[int] = []

    async def same_page(anchor: int) -> tuple[list[HistoryEntry], float]:
        asked.append(anchor)
        return newest, now  # an overlapping answer: the same messages again

    pages = await page_back(picture, now - 3 * HOUR, same_page, start=now - 2 * 86400)
    assert pages == 1 and asked == [1]


async def test_past_its_minimum_share_failed_refreshes_its_window_every_five_minutes(
    sim: SimulatedSmsc, client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    busy_account(sim, clock, 100, 30.0)
    fetcher = make_fetcher(client, storage, clock)
    minimum = fetcher.budget.minimum(Purpose.ACCOUNT)
    for _ in range(minimum):  # within its minimum share: fresh once CACHE_TTL has passed
        assert (await fetcher.failed(1, account, 1)).origin is Origin.FRESH
        clock.advance(61)
    asked = len(history_requests(sim))
    assert asked == minimum
    held = await fetcher.failed(1, account, 1)  # past it: the window held 61 s ago is served
    assert held.origin is Origin.CACHE and len(history_requests(sim)) == asked
    clock.advance(ACCOUNT_FRESH - 61)
    assert (await fetcher.failed(1, account, 1)).origin is Origin.FRESH  # five minutes: asked
    assert len(history_requests(sim)) == asked + 1
    await fetcher.close()


async def test_a_window_that_holds_a_waiting_number_answers_it_without_its_batch(
    sim: SimulatedSmsc, client: SmscClient, storage: Storage, account: Account, clock: FakeClock
) -> None:
    sim.add_message(API_KEY, phone="79161234567", send_timestamp=int(clock() - 10))
    fetcher = make_fetcher(client, storage, clock)
    while await fetcher.budget.try_spend(account.key_id, cold=False):
        pass  # the batches' saved requests are spent: the next batch is minutes away
    answer = await fetcher.ask_last(1, account, "79161234567")
    assert answer.final is not None and answer.due is not None and answer.due > clock() + 60
    await fetcher.failed(2, account, 1)  # a colleague's /failed fetches the account's window
    final = await asyncio.wait_for(answer.final, 1)
    assert final.value is not None and final.value.phone.endswith("79161234567")
    assert len(history_requests(sim)) == 1  # the window only: no batch was needed
    await fetcher.close()
