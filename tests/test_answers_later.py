"""Answer now, edit when the data lands (PRODUCT.md §7), through the real Dispatcher and Bot.

A /last the account picture cannot vouch for is answered at once — the held data with its age,
or "asking SMS Center, this message will be updated by 14:07" — and the answer is edited when
its batched request lands (a reply after a minute, since an edit does not notify). A button
press is answered before any fetch. At shutdown, waiting answers say the bot restarted.
"""

from __future__ import annotations

from pathlib import Path

from bot.smsc.simulator import SimulatedSmsc
from tests.conftest import API_KEY
from tests.fakes.clock import FakeClock
from tests.harness import AGENT, Harness, running_bot

PHONE = "79161234567"
OTHER = "79035550101"


async def spend_the_burst(h: Harness, *, next_in: float | None = None) -> None:
    """Spend the budget's saved burst, as a busy spell would, so the next batch waits its turn
    (``next_in`` seconds from now, when given: less than the whole interval)."""
    account = await h.services.storage.get_account("main")
    assert account is not None
    budget = h.services.fetcher.budget
    for _ in range(budget.warm_burst):
        assert await budget.try_spend(account.key_id, cold=False)
    if next_in is not None:
        h.clock.advance(budget.warm_interval - next_in)


async def test_a_held_back_last_is_answered_now_and_edited_when_the_data_lands(
    harness: Harness, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=0, message="code 1111")
    await harness.grant()
    await spend_the_burst(harness, next_in=30)
    asked = harness.smsc_requests()
    first = await harness.say(f"/last {PHONE}")
    assert "Asking SMS Center about <b>+7 916 123-45-67</b>" in first
    assert "will be updated by" in first
    assert harness.smsc_requests() == asked  # nothing asked yet: the budget sets the pace
    sent = harness.telegram.messages_in(AGENT)[-1]
    # The status changes while the question waits; the edit shows the final one.
    sim.add_message(API_KEY, phone=PHONE, status=1, message="code 2222")
    await harness.settle(50)  # within a minute: an edit, not a new message
    assert harness.smsc_requests() == asked + 1
    edit = harness.telegram.calls_of("editMessageText")[-1]
    assert edit.int_param("message_id") == sent["message_id"]
    assert edit.text is not None and "delivered" in edit.text and "code 2222" in edit.text


async def test_held_data_is_shown_with_its_age_while_the_fresh_answer_comes(
    harness: Harness, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=0)
    await harness.grant()
    assert "passed to operator" in await harness.say(f"/last {PHONE}")
    clock.advance(600)  # the picture's answer is now ten minutes old
    await spend_the_burst(harness)
    sim.add_message(API_KEY, phone=PHONE, status=20, err=6)
    first = await harness.say(f"/last {PHONE}")
    assert "passed to operator" in first and "10 minutes ago" in first
    assert "will be updated by" in first
    await harness.settle(harness.services.fetcher.budget.warm_interval)
    # Over a minute: the final answer is a reply to the first, so the phone notifies.
    reply = harness.telegram.calls_of("sendMessage")[-1]
    assert reply.text is not None and "(20)" in reply.text and "offline" in reply.text
    assert reply.params.get("reply_parameters", {}).get("message_id")


async def test_a_quick_answer_is_one_message_not_two(harness: Harness, sim: SimulatedSmsc) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=1)
    await harness.grant()
    before = len(harness.telegram.calls)
    answer = await harness.say(f"/last {PHONE}")
    assert "delivered" in answer and "Asking" not in answer
    sent = [c.method for c in harness.telegram.calls[before:] if c.method != "sendChatAction"]
    assert sent == ["sendMessage"]


async def test_a_refresh_press_is_answered_before_its_edit(
    harness: Harness, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=0)
    await harness.grant()
    await harness.say(f"/last {PHONE}")
    data = harness.last_markup()["inline_keyboard"][0][0]["callback_data"]
    message_id = harness.telegram.messages_in(AGENT)[-1]["message_id"]
    clock.advance(120)
    before = len(harness.telegram.calls)
    asked = len(sim.requests)
    await harness.press(data, message_id=message_id)
    methods = [c.method for c in harness.telegram.calls[before:] if c.method != "sendChatAction"]
    assert methods[0] == "answerCallbackQuery"  # the press first (within PRESS_ANSWER_WITHIN) ...
    assert methods[1:] == ["editMessageText"]  # ... then the refreshed answer
    assert len(sim.requests) == asked + 1


async def test_answers_still_waiting_at_shutdown_say_the_bot_restarted(
    tmp_path: Path, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    async with running_bot(tmp_path, sim, clock) as h:
        await h.grant()
        await spend_the_burst(h)
        waiting = await h.say(f"/last {OTHER}")
        assert "Asking SMS Center" in waiting
        await h.stop_waiting()
        edit = h.telegram.calls_of("editMessageText")[-1]
        assert (
            edit.text is not None and "restarted" in edit.text and "+7 903 555-01-01" in edit.text
        )
        assert len(h.followups) == 0


async def test_an_edit_telegram_refuses_is_logged_not_retried(
    harness: Harness, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    await harness.grant()
    await spend_the_burst(harness, next_in=30)
    await harness.say(f"/last {OTHER}")
    harness.telegram.fail_next(
        "editMessageText", status=400, description="Bad Request: message to edit not found"
    )
    await harness.settle(50)
    failed = [c for c in harness.telegram.failed_calls if c.method == "editMessageText"]
    assert len(failed) == 1 and not harness.telegram.calls_of("editMessageText")


async def test_a_refresh_that_finds_nothing_newer_says_so_in_its_toast(
    harness: Harness, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    """Issue 15, item 6: a press is never answered with nothing visible."""
    sim.add_message(API_KEY, phone=PHONE, status=1)
    await harness.grant()
    for lang, expected in (
        ("en", "No newer data · as of "),
        ("ru", "Новых данных нет · данные на "),
    ):
        await harness.say(f"/history {PHONE} 3", language_code=lang)
        data = harness.last_markup()["inline_keyboard"][0][0]["callback_data"]
        message_id = harness.telegram.messages_in(AGENT)[-1]["message_id"]
        clock.advance(5)  # within the cache: the data is what the answer shows
        asked = len(sim.requests)
        await harness.press(data, message_id=message_id, language_code=lang)
        toast = harness.telegram.calls_of("answerCallbackQuery")[-1].params
        assert str(toast.get("text", "")).startswith(expected) and "MSK" in toast["text"]
        assert not toast.get("show_alert")
        assert len(sim.requests) == asked
    # Newer data: the edit shows it, and the press needs no words.
    clock.advance(120)
    sim.add_message(API_KEY, phone=PHONE, status=20, err=6)
    message_id = harness.telegram.messages_in(AGENT)[-1]["message_id"]
    await harness.press(data, message_id=message_id)
    assert not harness.telegram.calls_of("answerCallbackQuery")[-1].params.get("text")
    assert "(20)" in harness.telegram.sent_texts()[-1]
