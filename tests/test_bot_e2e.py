"""The Telegram bot end to end: the real Dispatcher and Bot, the fake Telegram (in-process) and
the simulated SMS Center, one command or conversation per test.

How each failure of SMS Center, Telegram or the database is answered is the fault matrix's
(tests/test_faults.py), not repeated here.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.smsc.simulator import SimulatedSmsc
from tests.conftest import API_KEY
from tests.fakes.clock import FakeClock
from tests.fakes.smsc_faults import FaultySmsc
from tests.harness import ADMIN, AGENT, STRANGER, Harness, running_bot

PHONE = "79161234567"


async def test_stranger_is_refused_then_granted_user_gets_status_and_explanation(
    harness: Harness, sim: SimulatedSmsc, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sim.add_message(API_KEY, phone=PHONE, status=20, err=6, message="Ваш код 4821")
    refused = await harness.say(f"/last {PHONE}")
    assert "no access" in refused and str(AGENT) in refused
    assert harness.smsc_requests() == 0

    await harness.say(f"/addkey main {API_KEY}", user_id=ADMIN)
    # The admin's message with the key was deleted, the key was never echoed or logged.
    assert harness.telegram.calls_of("deleteMessage")
    await harness.say(f"/grant {AGENT} main", user_id=ADMIN)
    answer = await harness.say("/last +7 (916) 123-45-67")
    assert "(20)" in answer and "offline" in answer
    assert harness.smsc_requests() == 1
    everything = "\n".join(harness.telegram.sent_texts()) + caplog.text
    assert API_KEY not in everything
    assert API_KEY not in json.dumps([c.params for c in harness.telegram.calls])


async def test_russian_user_gets_russian_answer(harness: Harness, sim: SimulatedSmsc) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=1)
    await harness.grant()
    answer = await harness.say(f"/last {PHONE}", language_code="ru")
    assert "доставлено" in answer.lower()


async def test_last_with_botname_in_a_group_answers_in_the_group(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=1, message="Код 123456")
    await harness.grant()
    group = -4242
    answer = await harness.say(
        f"/last@{harness.telegram.bot_username} {PHONE}", chat_id=group, chat_type="supergroup"
    )
    sent = harness.telegram.calls_of("sendMessage")[-1]
    assert sent.int_param("chat_id") == group
    assert "123456" not in answer  # one-time codes are masked in groups
    before = harness.smsc_requests()
    refusal = await harness.say(
        f"/last {PHONE}", user_id=STRANGER, chat_id=group, chat_type="supergroup"
    )
    assert "no access" in refusal
    assert harness.smsc_requests() == before
    # A stranger spamming the group gets one refusal a minute, not one per message.
    again = await harness.say(
        f"/last {PHONE}", user_id=STRANGER, chat_id=group, chat_type="supergroup"
    )
    assert again == ""


async def test_forged_callback_from_a_stranger_makes_no_request(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone=PHONE)
    await harness.grant()
    await harness.say(f"/last {PHONE}")
    requests = harness.smsc_requests()
    sent = harness.telegram.messages_in(AGENT)[-1]
    data = harness.last_markup()["inline_keyboard"][0][0]["callback_data"]
    harness.clock.advance(120)  # past the cache: a real press would ask SMS Center
    await harness.press(data, message_id=sent["message_id"], user_id=STRANGER, chat_id=AGENT)
    await harness.press("q:garbage", message_id=sent["message_id"], user_id=STRANGER, chat_id=AGENT)
    assert harness.smsc_requests() == requests
    # The owner's own press refreshes, through cache and quota.
    await harness.press(data, message_id=sent["message_id"], user_id=AGENT, chat_id=AGENT)
    assert harness.smsc_requests() == requests + 1
    assert harness.telegram.calls_of("editMessageText")


async def test_smsc_text_is_escaped(harness: Harness, sim: SimulatedSmsc) -> None:
    sim.add_message(
        API_KEY, phone=PHONE, message="<b>bold</b> & <script>alert(1)</script>", sender="A&B"
    )
    await harness.grant()
    await harness.say(f"/last {PHONE}")
    call = harness.telegram.calls_of("sendMessage")[-1]
    assert call.status == 200  # Telegram's own HTML parser accepted it
    assert "&lt;script&gt;" in call.params["text"]
    plain = str(harness.telegram.messages_in(AGENT)[-1].get("text", ""))
    assert "<script>alert(1)</script>" in plain and "A&B" in plain


async def test_twenty_long_messages_never_exceed_telegram_limit(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    for n in range(25):
        sim.add_message(API_KEY, phone=PHONE, message=f"{n} " + "<&>x" * 1000)
    await harness.grant()
    await harness.say(f"/history {PHONE} 20")
    call = harness.telegram.calls_of("sendMessage")[-1]
    assert call.status == 200 and len(call.params["text"]) <= 4096
    assert "Older" in json.dumps(call.params["reply_markup"], ensure_ascii=False)


async def test_older_button_pages_back(harness: Harness, sim: SimulatedSmsc) -> None:
    for n in range(8):
        sim.add_message(API_KEY, phone=PHONE, message=f"message number {n}")
        harness.clock.advance(5)
    await harness.grant()
    first = await harness.say(f"/history {PHONE} 3")
    assert "message number 7" in first and "message number 4" not in first
    buttons = harness.last_markup()["inline_keyboard"][0]
    older = next(b for b in buttons if "Older" in b["text"])["callback_data"]
    sent = harness.telegram.messages_in(AGENT)[-1]
    before = len(harness.telegram.sent_texts())
    await harness.press(older, message_id=sent["message_id"], chat_id=AGENT)
    page = "\n".join(harness.telegram.sent_texts()[before:])
    assert "message number 4" in page and "message number 7" not in page


async def test_older_after_an_exactly_full_last_page_says_no_older_without_a_request(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    for n in range(6):  # two full pages of 3
        sim.add_message(API_KEY, phone=PHONE, message=f"message number {n}")
        harness.clock.advance(5)
    await harness.grant()
    await harness.say(f"/history {PHONE} 3")
    asked = harness.smsc_requests()
    for _ in range(2):  # the second page is full too, so it has an "Older" button
        buttons = harness.last_markup()["inline_keyboard"][0]
        older = next(b for b in buttons if "Older" in b["text"])["callback_data"]
        sent = harness.telegram.messages_in(AGENT)[-1]
        before = len(harness.telegram.sent_texts())
        await harness.press(older, message_id=sent["message_id"], chat_id=AGENT)
    last = "\n".join(harness.telegram.sent_texts()[before:])
    assert "No older messages to <b>+7 916 123-45-67</b>." in last
    assert "six months" not in last
    assert harness.smsc_requests() == asked  # the pages were held: no request to learn it


async def test_grants_survive_a_restart(
    tmp_path: Path, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=1)
    async with running_bot(tmp_path, sim, clock) as first:
        await first.grant()
    async with running_bot(tmp_path, sim, clock) as second:
        answer = await second.say(f"/last {PHONE}")
        assert "(1)" in answer
        assert "member" in await second.say("/whoami")


async def test_bad_arguments_get_one_line_with_an_example_and_no_request(
    harness: Harness,
) -> None:
    await harness.grant()
    cases = {
        "/last": "Example",
        "/last hello": "no letters",
        "/last 12": "Too few digits",
        "/last 12+": "not a phone number",
        "/history": "/history",
        f"/history {PHONE} 99": "1 to 20",
        "/recent 0": "1 to 50",
        "/recent many": "1 to 50",
        "/failed 25": "1 to 24",
        "/status abc 79161234567": "/status ID",
        "/status 12": "/status ID",
    }
    for command, expected in cases.items():
        answer = await harness.say(command)
        assert expected in answer, command
    assert harness.smsc_requests() == 0


async def test_a_bare_number_in_private_works_like_last(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=1)
    await harness.grant()
    answer = await harness.say("8 916 123-45-67")
    assert "(1)" in answer


async def test_failed_groups_by_reason_and_operator(
    harness: Harness, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    now = int(clock())
    for n in range(3):
        sim.add_message(API_KEY, phone=f"7916000000{n}", status=20, err=6, send_timestamp=now - 60)
    sim.add_message(API_KEY, phone="79160000009", status=22, err=249, send_timestamp=now - 60)
    sim.add_message(API_KEY, phone="79160000008", status=1, send_timestamp=now - 60)
    await harness.grant()
    answer = await harness.say("/failed")
    assert "Undelivered in the last 1 h: 4 of 5 sent" in answer
    assert "impossible to deliver (20) · subscriber offline (6) — <b>3</b>" in answer
    assert "wrong number (22) · wrong number format (249) — <b>1</b>" in answer
    assert "МТС — <b>4</b> of 5" in answer


async def test_status_command(harness: Harness, sim: SimulatedSmsc) -> None:
    sent = sim.add_message(API_KEY, phone=PHONE, status=1)
    await harness.grant()
    answer = await harness.say(f"/status {sent['id']} {PHONE}")
    assert "(1)" in answer
    unknown = await harness.say(f"/status 999999 {PHONE}")
    assert unknown and harness.smsc_requests("status") == 2


async def test_login_in_private_validates_stores_and_deletes_the_key(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = await harness.say(f"/login {API_KEY}", user_id=STRANGER)
    assert "Done" in answer
    assert harness.telegram.calls_of("deleteMessage")
    assert harness.smsc_requests("balance") == 1
    assert "member" in await harness.say("/whoami", user_id=STRANGER)
    refused = await harness.say("/login wrong-key", user_id=AGENT)
    assert "did not accept" in refused
    assert API_KEY not in "\n".join(harness.telegram.sent_texts()) + caplog.text


async def test_a_key_sent_in_a_group_is_burnt_not_used(harness: Harness) -> None:
    answer = await harness.say(f"/login {API_KEY}", chat_id=-99, chat_type="group")
    assert "Revoke" in answer
    assert harness.smsc_requests("balance") == 0
    assert harness.telegram.calls_of("deleteMessage")
    assert await harness.services.storage.get_member(AGENT) is None


async def test_admin_commands_are_refused_to_members(harness: Harness) -> None:
    await harness.grant()
    for command in ("/keys", "/users", "/audit", f"/grant {STRANGER} main", "/delkey main"):
        assert "admins only" in await harness.say(command)


async def test_admin_views_and_delkey(harness: Harness, sim: SimulatedSmsc) -> None:
    sim.add_message(API_KEY, phone=PHONE)
    await harness.grant()
    await harness.say(f"/last {PHONE}")
    keys = await harness.say("/keys", user_id=ADMIN)
    assert "main" in keys and "1 member" in keys and API_KEY[:8] not in keys
    assert str(AGENT) in await harness.say("/users", user_id=ADMIN)
    audit = await harness.say("/audit", user_id=ADMIN)
    assert "/last" in audit and PHONE in audit
    assert "1 member" in await harness.say("/delkey main", user_id=ADMIN)
    assert "no access" in await harness.say(f"/last {PHONE}")


async def test_typing_is_shown_while_smsc_is_slow(harness: Harness, sim: FaultySmsc) -> None:
    sim.add_message(API_KEY, phone=PHONE)
    await harness.grant()
    sim.faults.delay = 0.6
    await harness.say(f"/last {PHONE}")
    actions = harness.telegram.calls_of("sendChatAction")
    assert actions and actions[0].params["action"] == "typing"


async def test_a_malformed_or_refused_login_still_deletes_the_key_message(harness: Harness) -> None:
    await harness.say("/login two words", user_id=STRANGER)
    assert len(harness.telegram.calls_of("deleteMessage")) == 1
    assert harness.smsc_requests("balance") == 0


async def test_login_disabled_still_deletes_the_key_message(
    tmp_path: Path, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    async with running_bot(tmp_path, sim, clock, allow_self_login=False) as h:
        answer = await h.say(f"/login {API_KEY}", user_id=STRANGER)
        assert "turned off" in answer
        assert len(h.telegram.calls_of("deleteMessage")) == 1
        assert h.smsc_requests("balance") == 0


# --- hints instead of silence (issue 15, item 8) ---------------------------------------------


async def test_private_chat_answers_every_message_with_a_one_line_hint(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=1)
    await harness.grant()
    before = len(harness.telegram.sent_texts())
    assert "Send me a phone number" in await harness.say("hello?")
    assert "I don't know /frobnicate" in await harness.say("/frobnicate 5")
    assert "lowercase: /help" in await harness.say("/HELP")
    assert "Пришлите мне номер телефона" in await harness.say("привет", language_code="ru")
    assert "Команды /чтото я не знаю" in await harness.say("/чтото", language_code="ru")
    for answer in harness.telegram.sent_texts()[before:]:
        assert "\n" not in answer  # one line each
    assert harness.smsc_requests() == 0
    # Lookup commands do not care about case.
    assert "(1)" in await harness.say(f"/LAST {PHONE}")
    assert "(1)" in await harness.say(f"/History {PHONE} 2")


async def test_a_number_inside_a_sentence_offers_a_button_that_asks_only_when_pressed(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone="79031112233", status=20, err=6)
    await harness.grant()
    hint = await harness.say("клиент 79031112233 не получил код", language_code="ru")
    assert "отдельно" in hint
    button = harness.last_markup()["inline_keyboard"][0][0]
    assert button["text"] == "🔎 Проверить +7 903 111-22-33?"
    assert harness.smsc_requests() == 0  # nothing asked until pressed
    sent = harness.telegram.messages_in(AGENT)[-1]
    await harness.press(button["callback_data"], message_id=sent["message_id"], language_code="ru")
    assert harness.smsc_requests() == 1
    answer = harness.telegram.sent_texts()[-1]
    assert "+7 903 111-22-33" in answer and "(20)" in answer
    # The same in English; two numbers in one sentence: no guess, the plain hint.
    await harness.say("customer +7 (903) 111-22-33 got no code")
    offered = harness.telegram.calls_of("sendMessage")[-1].params["reply_markup"]
    assert "Look up +7 903 111-22-33?" in str(offered)
    both = await harness.say("79031112233 and 79095550011 got nothing")
    assert "Send me a phone number" in both
    assert harness.smsc_requests() == 1


async def test_a_stranger_gets_the_hint_without_a_button(harness: Harness) -> None:
    answer = await harness.say("клиент 79031112233 не получил код", user_id=STRANGER)
    assert "Send me a phone number" in answer
    assert not harness.last_markup()


async def test_groups_stay_silent_for_plain_text_and_other_bots_commands(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    await harness.grant()
    group: dict[str, Any] = {"chat_id": -4242, "chat_type": "supergroup"}
    before = len(harness.telegram.calls_of("sendMessage"))
    assert await harness.say("hello everyone", **group) == ""
    assert await harness.say("клиент 79031112233 не получил код", **group) == ""
    assert await harness.say("/frobnicate", **group) == ""  # maybe another bot's
    assert await harness.say("/frobnicate@other_bot", **group) == ""
    assert len(harness.telegram.calls_of("sendMessage")) == before
    mine = await harness.say(f"/frobnicate@{harness.telegram.bot_username}", **group)
    assert "I don't know /frobnicate" in mine
    assert harness.smsc_requests() == 0


# --- which messages a page shows, and the ids /status needs (issue 15, items 10, 15) --------


async def _press_older(harness: Harness, **kw: Any) -> str:
    buttons = harness.last_markup()["inline_keyboard"][0]
    older = next(b for b in buttons if b["text"] in ("⬅️ Older", "⬅️ Раньше"))["callback_data"]
    sent = harness.telegram.messages_in(AGENT)[-1]
    before = len(harness.telegram.sent_texts())
    await harness.press(older, message_id=sent["message_id"], chat_id=AGENT, **kw)
    return "\n".join(harness.telegram.sent_texts()[before:])


async def test_history_pages_say_which_messages_they_show(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    for n in range(25):
        sim.add_message(API_KEY, phone=PHONE, message=f"message number {n}")
        harness.clock.advance(5)
    await harness.grant()
    first = await harness.say(f"/history {PHONE} 10")
    assert "The last 10 messages, newest first" in first
    second = await _press_older(harness)
    assert "Messages 11–20 counting from the newest, newest first" in second
    assert "Last" not in second and "last 10" not in second
    third = await _press_older(harness, language_code="ru")
    assert "Сообщения 21–25, считая от последнего, сначала новые" in third
    assert "message number 0" in third and "message number 5" not in third
    # Refreshing the third page keeps saying which messages these are.
    refresh = harness.last_markup()["inline_keyboard"][0][0]["callback_data"]
    sent = harness.telegram.messages_in(AGENT)[-1]
    harness.clock.advance(120)
    await harness.press(refresh, message_id=sent["message_id"], chat_id=AGENT)
    assert "Messages 21–25 counting from the newest" in harness.telegram.sent_texts()[-1]


async def test_history_and_recent_show_the_ids_status_needs(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sent = sim.add_message(API_KEY, phone=PHONE, status=20, err=6)
    sim.add_message(API_KEY, phone="79031112233", status=1)
    await harness.grant()
    message_id = str(sent["id"])
    history = await harness.say(f"/history {PHONE} 2")
    recent = await harness.say("/recent 5")
    shown = f"id <code>{message_id}</code>"
    assert shown in history and shown in recent
    answer = await harness.say(f"/status {message_id} {PHONE}")
    assert "(20)" in answer and "offline" in answer


async def test_status_usage_and_every_refusal_show_the_same_example(harness: Harness) -> None:
    await harness.grant()
    usage = await harness.say("/status")
    example = "/status 1234 +7 999 123-45-67"
    assert "Usage: <code>/status ID PHONE</code>" in usage and example in usage
    for wrong in (
        "/status 1234 abc",
        "/status 1234 +7 999",
        "/status 1234 79991234567,79991234568",
    ):
        assert example in await harness.say(wrong), wrong
    assert "/last +7 999 123-45-67" in await harness.say("/last +7 999")
    assert "/history +7 999 123-45-67 10" in await harness.say("/history +7 999 12 5")
    # The example itself is accepted as the usage says.
    assert "Usage" not in await harness.say(example) and "Example" not in await harness.say(example)


async def test_balance_and_cost_have_a_decimal_comma_in_russian(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.set_balance(API_KEY, "1234.5")
    added = await harness.say(f"/addkey main {API_KEY}", user_id=ADMIN, language_code="ru")
    assert "баланс 1234,50" in added
    await harness.say(f"/grant {AGENT} main", user_id=ADMIN)
    sim.add_message(API_KEY, phone=PHONE, status=1, cost="2.75")
    answer = await harness.say(f"/last {PHONE}", language_code="ru")
    assert "Стоимость: 2,75" in answer and "данные на" in answer and "MSK" in answer
    english = await harness.say(f"/last {PHONE}")
    assert "Cost: 2.75" in english


async def test_groups_see_codes_masked_but_order_numbers_and_links_readable(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    """Issue 15, item 17: masking hides what looks like a code, not every digit run."""
    sim.add_message(API_KEY, phone=PHONE, message="Ваш код подтверждения: 3922")
    sim.add_message(
        API_KEY, phone=PHONE, message="Заказ №12345678 оформлен: https://shop.example/o/12345678"
    )
    sim.add_message(API_KEY, phone=PHONE, message="Your verification code is 482913")
    await harness.grant()
    group: dict[str, Any] = {"chat_id": -4242, "chat_type": "supergroup"}
    answer = await harness.say(f"/history@{harness.telegram.bot_username} {PHONE} 3", **group)
    assert "3922" not in answer and "482913" not in answer
    assert "Ваш код подтверждения: ••••" in answer and "code is ••••••" in answer
    assert "Заказ №12345678 оформлен: https://shop.example/o/12345678" in answer
    private = await harness.say(f"/history {PHONE} 3")
    assert "3922" in private and "482913" in private


async def test_recent_fifty_shows_the_fifty_it_announces(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    """Issue 15, item 7: no "… 18 more" with no way to see them."""
    for n in range(60):
        sim.add_message(
            API_KEY, phone=f"7916{n:07d}", status=20, err=6, message="Ваш код подтверждения: 4821"
        )
        harness.clock.advance(30)
    await harness.grant()
    answer = await harness.say("/recent 50", language_code="ru")
    call = harness.telegram.calls_of("sendMessage")[-1]
    assert call.status == 200 and len(call.params["text"]) <= 4096
    assert answer.startswith("<b>Последние 50 сообщений аккаунта</b>")
    assert answer.count(" · id ") == 50 and "ещё" not in answer
    assert answer.count("невозможно доставить (20/6)") == 50  # still in words
