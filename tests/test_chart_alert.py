"""A watch's alert carries its chart: the failures the alert counts, drawn; one photo with the
alert as its caption when it fits 1024 characters, else the text and then the photo; an alert
whose chart cannot be drawn still goes out. (The whole path with pushes: tests/test_watch_e2e.py.)
"""

from __future__ import annotations

import html
from zoneinfo import ZoneInfo

import pytest

import bot.chat.alerts as alerts_module
from bot.chat.alerts import AlertSender
from bot.store import Watch, WatchStore
from bot.text import Lang, View
from bot.text.alerts import render_alert
from bot.text.chart import alert_chart, chart_data
from bot.text.render import reason_label
from bot.watch import Alert, Outcome, Rule, Sight, WatchState, evaluate
from tests.fakes.clock import FakeClock
from tests.harness import Harness

CHAT = -4242
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RULE = Rule(percent=20, minutes=15)
MOSCOW = ZoneInfo("Europe/Moscow")


def an_alert(now: float) -> Alert:
    """The evaluator's alert over 8 failures of three reasons, 4 deliveries and 2 in progress,
    with failures from before the period that it must not count."""
    outcomes = [
        *(Outcome(20, now - 60 * k, 6, "МТС") for k in range(4)),
        *(Outcome(22, now - 100 * k, 249, "Билайн") for k in range(3)),
        Outcome(23, now - 30, 253, ""),
        *(Outcome(20, now - 3600 - k, 6, "МТС") for k in range(5)),  # before the period
        *(Outcome(1, now - 20 * k) for k in range(4)),
        *(Outcome(0, now - 5) for _ in range(2)),
    ]
    verdict = evaluate(RULE, WatchState(), Sight(tuple(outcomes), as_of=now), now)
    (alert,) = verdict.events
    assert isinstance(alert, Alert)
    return alert


def test_an_alerts_chart_plots_the_counts_the_alert_says() -> None:
    now = 1_790_000_000.0
    alert = an_alert(now)
    view = View(Lang.EN, MOSCOW, now, mask_codes=True)
    data = alert_chart(alert, RULE, view)
    assert data.total == alert.tally.failed == 8
    expected = {
        html.unescape(reason_label(status, err, Lang.EN)): n
        for (status, err), n in alert.tally.reasons
    }
    assert data.by_label() == expected
    assert "15 min" in data.title
    assert data.edges[-1] == alert.tally.until and data.edges[0] <= alert.tally.since


async def _watch(harness: Harness, clock: FakeClock) -> tuple[Watch, AlertSender]:
    await harness.grant()
    await harness.say("/watch 20 15", chat_id=CHAT, chat_type="supergroup")
    store = WatchStore(harness.services.storage)
    (watch,) = await store.all_watches()
    return watch, AlertSender(harness.bot, harness.settings, clock, store)


async def test_an_alert_that_fits_a_caption_is_one_photo_with_its_buttons(
    harness: Harness, clock: FakeClock
) -> None:
    watch, sender = await _watch(harness, clock)
    before = len(harness.telegram.calls_of("sendMessage"))
    alert = an_alert(clock())
    await sender(watch, RULE, alert)
    assert len(harness.telegram.calls_of("sendMessage")) == before
    (photo,) = harness.telegram.calls_of("sendPhoto")
    assert photo.int_param("chat_id") == CHAT
    assert photo.params["photo"].startswith(PNG_MAGIC)
    view = View(Lang.EN, harness.settings.timezone, clock(), mask_codes=True)
    assert photo.params["caption"] == render_alert(alert, RULE, watch.account_name, view)
    buttons = [b["text"] for b in photo.params["reply_markup"]["inline_keyboard"][0]]
    assert len(buttons) == 2


async def test_an_alert_too_long_for_a_caption_is_its_text_then_its_photo(
    harness: Harness, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    watch, sender = await _watch(harness, clock)
    monkeypatch.setattr(alerts_module, "MAX_CAPTION", 40)  # any alert is longer than this
    before = len(harness.telegram.calls_of("sendMessage"))
    await sender(watch, RULE, an_alert(clock()))
    text = harness.telegram.calls_of("sendMessage")[before:]
    (photo,) = harness.telegram.calls_of("sendPhoto")
    assert len(text) == 1 and text[0].text is not None and text[0].text.startswith("<b>⚠️")
    assert "reply_markup" in text[0].params  # the buttons stay under the words
    assert "caption" not in photo.params and photo.params["photo"].startswith(PNG_MAGIC)
    assert photo.params.get("disable_notification") is True  # one alert, one notification
    order = [c.method for c in harness.telegram.calls if c.method in ("sendMessage", "sendPhoto")]
    assert order[-2:] == ["sendMessage", "sendPhoto"]


async def test_an_alert_whose_chart_cannot_be_drawn_still_goes_out(
    harness: Harness, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    watch, sender = await _watch(harness, clock)

    def broken(*_: object) -> bytes:
        raise RuntimeError("no fonts")

    monkeypatch.setattr(alerts_module, "render_png", broken)
    before = len(harness.telegram.calls_of("sendMessage"))
    await sender(watch, RULE, an_alert(clock()))
    (text,) = harness.telegram.calls_of("sendMessage")[before:]
    assert text.text is not None and text.text.startswith("<b>⚠️")
    assert not harness.telegram.calls_of("sendPhoto")


def test_an_empty_chart_has_no_bands() -> None:
    view = View(Lang.EN, MOSCOW, 0.0, mask_codes=True)
    assert chart_data([], -900.0, 0.0, view, span="15 min").series == ()
