"""Charts end to end: /failed's "📈 Chart" button through the real Dispatcher sends a PNG with
sendPhoto to the fake Bot API; only the asker's press draws it, a forged one is refused."""

from __future__ import annotations

import io
import json

import pytest
from matplotlib.image import imread

from bot.smsc.simulator import SimulatedSmsc
from tests.conftest import API_KEY
from tests.fakes.clock import FakeClock
from tests.harness import ADMIN, AGENT, STRANGER, Harness

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def chart_button(harness: Harness) -> str | None:
    """The callback data of the newest answer's Chart button, if it has one."""
    for row in harness.last_markup().get("inline_keyboard", []):
        for button in row:
            if "Chart" in button["text"] or "График" in button["text"]:
                data: str = button["callback_data"]
                return data
    return None


def add_failures(sim: SimulatedSmsc, now: int) -> None:
    for n in range(3):
        sim.add_message(API_KEY, phone=f"7916000000{n}", status=20, err=6, send_timestamp=now - 60)
    sim.add_message(API_KEY, phone="79160000009", status=22, err=249, send_timestamp=now - 1900)
    sim.add_message(API_KEY, phone="79160000008", status=1, send_timestamp=now - 60)


@pytest.mark.parametrize("language_code", ["en", "ru"])
async def test_the_chart_button_sends_a_png_of_what_failed_counts(
    harness: Harness, sim: SimulatedSmsc, clock: FakeClock, language_code: str
) -> None:
    add_failures(sim, int(clock()))
    await harness.grant()
    answer = await harness.say("/failed", language_code=language_code)
    assert "4" in answer
    data = chart_button(harness)
    assert data is not None
    sent = harness.telegram.messages_in(AGENT)[-1]
    requests = harness.smsc_requests()

    await harness.press(
        data, message_id=sent["message_id"], chat_id=AGENT, language_code=language_code
    )

    (toast,) = harness.telegram.calls_of("answerCallbackQuery")
    assert toast.params.get("show_alert") is not True
    (photo,) = harness.telegram.calls_of("sendPhoto")
    assert photo.int_param("chat_id") == AGENT
    png = photo.params["photo"]
    assert isinstance(png, bytes) and png.startswith(PNG_MAGIC) and len(png) > 1000
    assert imread(io.BytesIO(png), format="png").shape[:2] == (750, 800)
    caption = photo.params["caption"]
    assert len(caption) <= 1024
    head = "4 of 5 sent" if language_code == "en" else "4 из 5"
    assert head in caption
    assert harness.smsc_requests() == requests  # the window /failed just fetched


async def test_no_chart_button_without_failures(
    harness: Harness, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    sim.add_message(API_KEY, phone="79160000008", status=1, send_timestamp=int(clock()) - 60)
    await harness.grant()
    await harness.say("/failed")
    assert chart_button(harness) is None
    assert "Refresh" in json.dumps(harness.last_markup(), ensure_ascii=False)


async def test_a_strangers_or_forged_chart_press_draws_nothing(
    harness: Harness, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    add_failures(sim, int(clock()))
    await harness.grant()
    await harness.say("/failed")
    data = chart_button(harness)
    assert data is not None
    sent = harness.telegram.messages_in(AGENT)[-1]
    await harness.press(data, message_id=sent["message_id"], user_id=STRANGER, chat_id=AGENT)
    forged = data.replace("c:1:", "c:99:")
    assert forged != data
    await harness.press(forged, message_id=sent["message_id"], chat_id=AGENT)
    alerts = harness.telegram.calls_of("answerCallbackQuery")
    assert len(alerts) == 2 and all(a.params.get("show_alert") is True for a in alerts)
    assert not harness.telegram.calls_of("sendPhoto")


async def test_a_press_after_access_was_revoked_is_refused(
    harness: Harness, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    add_failures(sim, int(clock()))
    await harness.grant()
    await harness.say("/failed")
    data = chart_button(harness)
    assert data is not None
    sent = harness.telegram.messages_in(AGENT)[-1]
    await harness.say(f"/revoke {AGENT}", user_id=ADMIN)
    await harness.press(data, message_id=sent["message_id"], chat_id=AGENT)
    (refusal,) = harness.telegram.calls_of("answerCallbackQuery")
    assert refusal.params.get("show_alert") is True
    assert not harness.telegram.calls_of("sendPhoto")


async def test_a_press_when_nothing_fails_any_more_says_so(
    harness: Harness, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    add_failures(sim, int(clock()))
    await harness.grant()
    await harness.say("/failed")
    data = chart_button(harness)
    assert data is not None
    sent = harness.telegram.messages_in(AGENT)[-1]
    clock.advance(2 * 3600)  # the failures left the hour
    await harness.press(data, message_id=sent["message_id"], chat_id=AGENT)
    (alert,) = harness.telegram.calls_of("answerCallbackQuery")
    assert alert.params.get("show_alert") is True
    assert "Nothing failed in the last 1 h" in alert.params["text"]
    assert not harness.telegram.calls_of("sendPhoto")
