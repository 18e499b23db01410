"""The watch's data without status pushes (PRODUCT.md §10, issue 14 item 3) and why it is
blind: the real Dispatcher and Bot against the fake Telegram, the simulator counting requests,
the runner looking on the fake clock.

Without pushes an account's watches fetch its newest messages (the account-wide window, into
the picture) at most ``WATCH_BUDGET`` times an hour, one every ``HOUR / WATCH_BUDGET``, and that
data answers ``/last`` too; a fetch that fails makes the watch say why it is blind.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

from bot.chat.alerts import AlertSender
from bot.fetch.budget import Purpose
from bot.watch.runner import WatchRunner
from tests.fakes.clock import FakeClock
from tests.fakes.smsc_faults import Faults, FaultySmsc
from tests.harness import API_KEY, Harness, running_bot

CHAT = -4242
GROUP: dict[str, Any] = {"chat_id": CHAT, "chat_type": "supergroup"}


def runner_of(harness: Harness, clock: FakeClock) -> WatchRunner:
    runner: WatchRunner = harness.dispatcher["watch_runner"]
    runner.notify = AlertSender(harness.bot, harness.settings, clock, runner.store)
    return runner


def chat_texts(harness: Harness, after: int = 0) -> list[str]:
    # An alert is a photo (its chart) with the alert as its caption.
    return [
        m.get("text") or m.get("caption") or "" for m in harness.telegram.messages_in(CHAT)[after:]
    ]


async def test_without_pushes_an_hour_spends_at_most_watch_budget_history_requests(
    harness: Harness, sim: FaultySmsc, clock: FakeClock
) -> None:
    await harness.grant()
    sim.add_message(API_KEY, phone="79161234567", status=1)
    await harness.say("/watch 20 1", **GROUP)
    await harness.say("/watch 30 5", chat_id=-5555, chat_type="supergroup")  # same account
    runner = runner_of(harness, clock)
    before, told = sim.count("get"), len(chat_texts(harness))
    fetched_at: list[float] = []
    for _ in range(120):  # an hour, a look every 30 s
        count = sim.count("get")
        await runner.tick()
        if sim.count("get") > count:
            fetched_at.append(clock())
        clock.advance(30)
    budget = harness.settings.watch_budget
    assert budget == 6
    assert sim.count("get") - before == budget  # both watches together
    gaps = {round(b - a) for a, b in pairwise(fetched_at)}
    assert gaps == {3600 // budget}  # spread evenly
    (watch, _) = await runner.store.all_watches()
    spent = await harness.services.fetcher.budget.spent(watch.key_id, Purpose.WATCH)
    assert spent == budget - 1  # the sliding hour now starts just after the first
    assert chat_texts(harness, told) == []  # never blind between two fetches
    assert runner.current(watch)


async def test_what_the_watch_fetched_answers_last_without_another_request(
    harness: Harness, sim: FaultySmsc, clock: FakeClock
) -> None:
    await harness.grant()
    sim.add_message(API_KEY, phone="79161234567", status=20, err=255)
    await harness.say("/watch", **GROUP)
    await runner_of(harness, clock).tick()
    fetched = sim.count("get")
    assert fetched == 1
    clock.advance(5)
    answer = await harness.say("/last +79161234567")
    assert answer.startswith("📱 <b>+7 916 123-45-67</b>\n❌ <b>impossible to deliver</b>")
    assert answer.endswith("· from cache</i>")  # the picture the watch filled
    assert sim.count("get") == fetched


async def test_watch_budget_zero_lives_on_pushes_alone_and_says_it_is_blind(
    tmp_path: Path, sim: FaultySmsc, clock: FakeClock
) -> None:
    async with running_bot(tmp_path, sim, clock, watch_budget=0) as harness:
        await harness.grant()
        await harness.say("/watch 20 1", **GROUP)
        runner = runner_of(harness, clock)
        before = len(chat_texts(harness))
        for _ in range(10):
            await runner.tick()
            clock.advance(30)
        assert sim.count("get") == 0
        (blind,) = chat_texts(harness, before)
        assert blind.startswith("👁 The watch of main is blind since ")
        assert "no status pushes came and nothing newer was fetched" in blind


async def blind_after(harness: Harness, runner: WatchRunner, clock: FakeClock) -> list[str]:
    """Looks for a quarter of an hour (past the spacing of the fetches); what the chat got."""
    before = len(chat_texts(harness))
    for _ in range(30):
        await runner.tick()
        clock.advance(30)
    return chat_texts(harness, before)


async def test_blind_because_sms_center_is_unreachable_then_sees_again(
    harness: Harness, sim: FaultySmsc, clock: FakeClock
) -> None:
    await harness.grant()
    await harness.say("/watch 20 1", **GROUP)
    runner = runner_of(harness, clock)
    await sim.refuse()
    (blind,) = await blind_after(harness, runner, clock)
    assert blind.startswith("👁 The watch of main is blind since ")
    assert "since" in blind and ": SMS Center does not answer" in blind
    await sim.resume()
    (seeing,) = await blind_after(harness, runner, clock)
    assert "sees again" in seeing


async def test_blind_because_the_key_is_refused(
    harness: Harness, sim: FaultySmsc, clock: FakeClock
) -> None:
    await harness.grant()
    await harness.say("/watch 20 1", **GROUP)
    sim.faults = Faults(error_code=2, only="get")
    runner = runner_of(harness, clock)
    (blind,) = await blind_after(harness, runner, clock)
    assert "SMS Center refused the account's key" in blind
    assert "does not answer" not in blind
    (watch,) = await runner.store.all_watches()
    assert not runner.current(watch)  # what /healthz says of it


async def test_blind_because_sms_center_asks_to_slow_down(
    harness: Harness, sim: FaultySmsc, clock: FakeClock
) -> None:
    await harness.grant()
    await harness.say("/watch 20 1", **GROUP)
    sim.faults = Faults(error_code=9, only="get")
    runner = runner_of(harness, clock)
    (blind,) = await blind_after(harness, runner, clock)
    assert "SMS Center asked the bot to slow down" in blind
    assert "does not answer" not in blind


async def test_on_a_busy_account_the_alert_says_which_part_of_the_period_it_counts(
    harness: Harness, sim: FaultySmsc, clock: FakeClock
) -> None:
    await harness.grant()
    await harness.say("/watch 20 15", **GROUP)
    for n in range(1200):  # 1200 messages in 10 minutes: the newest 1000 reach back 8.3 min
        status = 20 if n % 3 == 0 else 1
        sim.add_message(API_KEY, phone=f"7916{n:07d}", status=status, err=255 if status else 0)
        clock.advance(0.5)
    runner = runner_of(harness, clock)
    before = len(chat_texts(harness))
    assert await runner.tick() == 1
    assert sim.count("get") == 1  # one window, within the watches' pace
    (alert,) = chat_texts(harness, before)
    assert alert.startswith("⚠️ SMS failures 33 % (")
    assert ", 8 of the 15 min: the newest messages the watch could fetch reach back" in alert
