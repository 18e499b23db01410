"""Abuse (issue 5): one user or a stranger flooding the bot cannot spend what others need.

Through the real doors (real Dispatcher and ``Bot``, fake Telegram, simulated SMS Center), with
the production limits: ``USER_RATE_LIMIT=6/60`` and ``SMSC_HOURLY_BUDGET=30``. Updates of a
flood are fed concurrently, as polling hands them to the Dispatcher; assertions are about
counts and order of requests, never wall-clock time.

Tests marked ``xfail(strict=True)`` document a gap found here whose fix belongs to a file
outside these tests; each turns into a failure (XPASS) once fixed, so the mark is removed then.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

from bot.fetch.batch import BATCH_LIMIT
from bot.smsc.simulator import RecordedRequest, SimulatedSmsc
from tests.conftest import API_KEY
from tests.fakes.bot_api import ApiCall
from tests.fakes.clock import FakeClock
from tests.fakes.updates import BOT_USERNAME, callback_update, message_update
from tests.harness import AGENT, STRANGER, Harness, running_bot

GUARD = 6  # USER_RATE_LIMIT's count per minute
BUDGET = 30  # SMSC_HOURLY_BUDGET
FLOOD = 200
COLLEAGUE = 601
COLLEAGUE_PHONE = "79035550101"
GROUP = -1_000_000_005_151
IN_GROUP: dict[str, Any] = {"chat_id": GROUP, "chat_type": "supergroup"}
TRY_AGAIN = "Too many lookups in a row"
QUOTA_SPENT = "request limit for the hour is used up"


def answers_in(h: Harness, chat_id: int, since: int = 0) -> list[str]:
    """Texts the bot sent to ``chat_id`` among its calls from index ``since`` on."""
    return [
        call.text or ""
        for call in h.telegram.calls[since:]
        if call.method == "sendMessage" and call.int_param("chat_id") == chat_id
    ]


def add_colleagues_old_message(sim: SimulatedSmsc, clock: FakeClock) -> None:
    """The colleague's number was last sent to three days ago: outside the account-wide window,
    so their answer needs a request of its own."""
    sim.add_message(
        API_KEY, phone=COLLEAGUE_PHONE, status=1, send_timestamp=int(clock()) - 3 * 86400
    )


def asked_numbers(request: RecordedRequest) -> set[str]:
    """The numbers a history request named (a comma-separated list, or none)."""
    return {phone for phone in request.params.get("phone", "").split(",") if phone}


def flood_of_lookups(
    user_id: int, count: int, first: int = 100, **chat: Any
) -> list[dict[str, Any]]:
    """``count`` /last updates from ``user_id``, each for a different number."""
    return [
        message_update(f"/last 7916000{first + n:04d}", user_id=user_id, **chat)
        for n in range(count)
    ]


async def burst_with_a_colleague_in_the_middle(h: Harness) -> tuple[list[str], str, int]:
    """The agent floods /last for FLOOD distinct numbers; the colleague asks once, fed in the
    middle of the flood. Returns the agent's answers, the colleague's answer, and how many
    SMS Center requests were made before the colleague's own request."""
    flood = flood_of_lookups(AGENT, FLOOD)
    colleague = message_update(f"/last {COLLEAGUE_PHONE}", user_id=COLLEAGUE)
    updates = [*flood[: FLOOD // 2], colleague, *flood[FLOOD // 2 :]]
    await asyncio.gather(*(h.feed(update) for update in updates))
    lists = [asked_numbers(request) for request in h.smsc.requests if request.script == "get"]
    ahead = next((n for n, numbers in enumerate(lists) if COLLEAGUE_PHONE in numbers), len(lists))
    (answer,) = answers_in(h, COLLEAGUE)
    return answers_in(h, AGENT), answer, ahead


async def test_a_burst_from_one_user_is_stopped_by_the_guard_and_a_colleague_still_gets_data(
    harness: Harness, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    # The colleague's number was last sent to three days ago: outside the account-wide window,
    # so their answer needs a request of its own, in the same queue as the flood's.
    add_colleagues_old_message(sim, clock)
    await harness.grant(AGENT, COLLEAGUE)
    flood_answers, colleague_answer, ahead = await burst_with_a_colleague_in_the_middle(harness)

    assert len(flood_answers) == FLOOD  # every message is answered ...
    assert sum(TRY_AGAIN in text for text in flood_answers) == FLOOD - GUARD  # ... most refused
    flood_phones = {f"7916000{100 + n:04d}" for n in range(FLOOD)}
    flood_requests = [r for r in sim.requests if asked_numbers(r) & flood_phones]
    assert len(flood_requests) <= GUARD  # one per lookup the guard let through, at most
    assert sim.count("get") <= 1 + GUARD + 1  # the shared window, the flood's, the colleague's
    # The colleague waited behind at most what the guard let through, and got data, not a refusal.
    assert ahead <= 1 + GUARD
    assert "delivered" in colleague_answer and "(1)" in colleague_answer
    assert TRY_AGAIN not in colleague_answer and QUOTA_SPENT not in colleague_answer
    account = await harness.services.storage.get_account("main")
    assert account is not None
    left = await harness.services.fetcher.quota_left(account)
    assert left == BUDGET - sim.count("get") and left >= BUDGET - GUARD - 2


async def test_without_the_guard_a_flood_is_batched_and_a_colleague_goes_first_in_turn(
    tmp_path: Path, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    # The control for the test above (its request counts can fail): with no per-user guard,
    # the flood's numbers wait together (a gathering moment on the fake clock, so that all of
    # them are waiting when the first request goes) and go in comma-list requests of
    # BATCH_LIMIT numbers, taken round-robin by asker: a handful of requests answers every one
    # of them, and the colleague's one number is in the first, not behind the flood.
    add_colleagues_old_message(sim, clock)
    gather = 10.0
    async with running_bot(tmp_path, sim, clock, user_rate_limit="1000/60", gather=gather) as h:
        await h.grant(AGENT, COLLEAGUE)
        first_answers, _, _ = await burst_with_a_colleague_in_the_middle(h)
        assert all("Asking SMS Center" in text for text in first_answers)
        assert sim.count("get") == 0
        await h.settle(gather)
        lists = [asked_numbers(request) for request in sim.requests if request.script == "get"]
        finals = [
            call.text or ""
            for call in h.telegram.calls
            if call.method in ("sendMessage", "editMessageText")
        ]
    assert len(lists) == math.ceil((FLOOD + 1) / BATCH_LIMIT)
    assert COLLEAGUE_PHONE in lists[0]
    assert not any(TRY_AGAIN in text or QUOTA_SPENT in text for text in finals)
    assert sum("No messages to" in text for text in finals) == FLOOD  # every one answered
    assert sum("delivered" in text and "+7 903 555-01-01" in text for text in finals) == 1


async def test_hammering_refresh_makes_one_request_and_every_press_is_answered(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone="79161234567", status=1)
    await harness.grant(AGENT)
    await harness.say("/last 79161234567")
    data = harness.last_markup()["inline_keyboard"][0][0]["callback_data"]
    message_id = harness.telegram.messages_in(AGENT)[-1]["message_id"]
    before = sim.count("get")
    harness.clock.advance(120)  # past the cache: a press may ask SMS Center again
    presses = [callback_update(data, message_id=message_id, user_id=AGENT) for _ in range(50)]
    await asyncio.gather(*(harness.feed(press) for press in presses))
    assert sim.count("get") - before == 1  # single-flight, cache and guard: one request
    answered = harness.telegram.calls_of("answerCallbackQuery")
    assert len(answered) == 50
    alerts = [call for call in answered if call.params.get("text")]
    assert len(alerts) == 50 - GUARD  # the bucket refilled while the cache aged
    assert all(TRY_AGAIN in str(call.params["text"]) for call in alerts)
    not_modified = [
        c for c in harness.telegram.failed_calls if "not modified" in (c.description or "")
    ]
    assert len(harness.telegram.failed_calls) == len(not_modified)  # refreshes of the same data


# --- strangers in a group --------------------------------------------------------------------

STRANGERS = (STRANGER, STRANGER + 1, STRANGER + 2)
_AT = f"@{BOT_USERNAME}"
SPAM = [
    "/last 79161234567",
    f"/last{_AT} 79161234567",
    "/history 79161234567 20",
    "/recent 50",
    f"/failed{_AT} 24",
    "/status 1 79161234567",
    "/keys",
    "/users",
    f"/audit{_AT}",
    f"/grant {STRANGER} main",
    "/revoke 600",
    "/delkey main",
    "/addkey",
]


def group_spam(rounds: int) -> list[dict[str, Any]]:
    """Every stranger sends every SPAM command ``rounds`` times, interleaved."""
    return [
        message_update(text, user_id=user, **IN_GROUP)
        for _ in range(rounds)
        for text in SPAM
        for user in STRANGERS
    ]


def refusals(calls: list[ApiCall]) -> list[str]:
    return [
        call.text or ""
        for call in calls
        if call.method == "sendMessage" and call.int_param("chat_id") == GROUP
    ]


async def test_strangers_spamming_a_group_get_one_refusal_each_per_minute_and_no_request(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone="79161234567", status=1)
    await harness.grant(AGENT)
    start = len(harness.telegram.calls)
    member = message_update(f"/last{_AT} 79161234567", user_id=AGENT, **IN_GROUP)
    spam = group_spam(rounds=3)
    await asyncio.gather(*(harness.feed(u) for u in [*spam[:50], member, *spam[50:]]))
    sent = refusals(harness.telegram.calls[start:])
    # One answer for the member, one refusal per stranger: 117 commands, 4 messages.
    assert len(sent) == 1 + len(STRANGERS)
    assert sum("delivered" in text for text in sent) == 1
    assert sim.count("get") == 1 and sim.count("status") == 0  # the member's lookup only
    assert await harness.services.storage.get_account("main") is not None  # /delkey refused

    harness.clock.advance(30)  # still within the minute: silence
    start = len(harness.telegram.calls)
    await asyncio.gather(*(harness.feed(u) for u in group_spam(rounds=1)))
    assert refusals(harness.telegram.calls[start:]) == []

    harness.clock.advance(31)  # a minute after the first refusals: one more each
    start = len(harness.telegram.calls)
    await asyncio.gather(*(harness.feed(u) for u in group_spam(rounds=2)))
    again = refusals(harness.telegram.calls[start:])
    assert len(again) == len(STRANGERS)
    assert sim.count("get") == 1


async def test_a_stranger_refused_in_one_group_is_still_told_once_in_another(
    harness: Harness,
) -> None:
    await harness.grant(AGENT)
    for chat_id in (GROUP, GROUP - 1):
        start = len(harness.telegram.calls)
        for _ in range(5):
            await harness.feed(
                message_update(
                    "/last 79161234567", user_id=STRANGER, chat_id=chat_id, chat_type="supergroup"
                )
            )
        sent = [c for c in harness.telegram.calls[start:] if c.method == "sendMessage"]
        assert [c.int_param("chat_id") for c in sent] == [chat_id]
        assert "no access" in (sent[0].text or "")


# --- gaps found here, to be fixed outside the tests -------------------------------------------


async def test_strangers_sending_wrong_keys_cannot_get_the_bots_ip_blocked(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone="79161234567", status=1)
    await harness.grant(AGENT)
    for n in range(5):
        await harness.say(f"/login wrong-key-{n}", user_id=STRANGER + n)
    answer = await harness.say("/last 79161234567")
    assert "delivered" in answer


async def test_one_user_looking_up_new_numbers_at_the_guards_pace_cannot_spend_the_budget(
    harness: Harness, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    # Batches are paced: a saved burst, then one request per interval. Six new numbers a minute
    # for six minutes wait together instead of spending the hour, and a colleague asking next
    # is answered at once ("asking…") and by the next batch (the edit).
    add_colleagues_old_message(sim, clock)
    await harness.grant(AGENT, COLLEAGUE)
    for minute in range(6):
        for update in flood_of_lookups(AGENT, GUARD, first=100 + GUARD * minute):
            await harness.feed(update)
        harness.clock.advance(60)
    assert sim.count("get") <= 12  # the burst and a paced request or two, not 36
    answer = await harness.say(f"/last {COLLEAGUE_PHONE}", user_id=COLLEAGUE)
    assert "Asking SMS Center" in answer and QUOTA_SPENT not in answer
    await harness.settle(harness.services.fetcher.budget.warm_interval)
    # Over a minute later: a reply to the waiting answer, which notifies (an edit would not).
    *_, pending, final = answers_in(harness, COLLEAGUE)
    assert "Asking SMS Center" in pending
    assert "delivered" in final and "+7 903 555-01-01" in final
    account = await harness.services.storage.get_account("main")
    assert account is not None and await harness.services.fetcher.quota_left(account) > 0


async def test_a_stranger_spamming_login_in_a_group_gets_one_refusal_a_minute(
    harness: Harness,
) -> None:
    start = len(harness.telegram.calls)
    for _ in range(5):
        await harness.feed(message_update("/login", user_id=STRANGER, **IN_GROUP))
    assert len(refusals(harness.telegram.calls[start:])) == 1
