"""The per-chat bound on the bot's own messages in a group, and the per-user guard that counts
only lookups that would ask SMS Center (PRODUCT.md §7), through the real Dispatcher."""

from __future__ import annotations

from bot.chat.chat_bound import CHAT_COUNT, CHAT_WINDOW
from bot.smsc.simulator import SimulatedSmsc
from tests.conftest import API_KEY
from tests.harness import AGENT, Harness

PHONE = "79161234567"
GROUP = -4242


async def test_held_answers_in_private_do_not_count_against_the_per_user_guard(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone=PHONE)
    await harness.grant(AGENT)
    answers = [await harness.say(f"/last {PHONE}") for _ in range(12)]  # the guard: 6 a minute
    assert harness.smsc_requests() == 1
    assert all("+7 916 123-45-67" in answer for answer in answers)
    assert not any("try again" in answer for answer in answers)


async def test_one_person_cannot_flood_a_group_with_held_answers(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone=PHONE)
    await harness.grant(AGENT)
    answers = [
        await harness.say(f"/last {PHONE}", chat_id=GROUP, chat_type="group")
        for _ in range(CHAT_COUNT + 10)
    ]
    answered = [a for a in answers if "+7 916 123-45-67" in a]
    assert len(answered) == CHAT_COUNT
    told = [a for a in answers if "Too many questions in this chat" in a]
    assert len(told) == 1  # told once, then silent
    assert all(a == "" for a in answers[CHAT_COUNT + 1 :])
    # In private, the same person is still answered; in the group, after the window.
    assert "+7 916 123-45-67" in await harness.say(f"/last {PHONE}")
    harness.clock.advance(CHAT_WINDOW)
    again = await harness.say(f"/last {PHONE}", chat_id=GROUP, chat_type="group")
    assert "+7 916 123-45-67" in again


async def test_whoami_shows_what_is_left_for_the_account_and_for_the_asker(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone=PHONE)
    await harness.grant(AGENT)
    await harness.say(f"/history {PHONE} 3")  # one single request of the asker's share
    answer = await harness.say("/whoami")
    assert "history requests left this hour: 29 of 30" in answer
    assert "Yours of them: 9 of 10" in answer
    ru = await harness.say("/whoami", language_code="ru")
    assert "Из них ваших: 9 из 10" in ru


async def test_a_lone_user_may_spend_more_than_a_third_of_the_hour(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    # Cold numbers one after another, a minute apart (the per-user guard is 6 a minute): their
    # batches are not the asker's share, so one person alone gets far more than 10 requests.
    await harness.grant(AGENT)
    for n in range(20):
        await harness.say(f"/last 7916000{n:04d}")
        await harness.settle(200)  # past the batches' pace, so each number gets its request
    assert harness.smsc_requests() > 30 // 3
