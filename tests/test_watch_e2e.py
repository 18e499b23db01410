"""The on-call watch end to end (PRODUCT.md §10): the real Dispatcher and Bot against the fake
Telegram, status pushes posted to the bot's own endpoint, the runner looking on the fake clock.

``/watch 20 1`` in a group, a burst of pushed failures → one alert with its buttons; more
failures short of double → no second alert; then the quiet → one "resolved"; "Silence 1 h"
by a member silences, by a stranger is refused; "Details" reports the incident.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.chat.alerts import AlertSender
from bot.fetch.picture import AccountPicture
from bot.smsc.push import signed_fields, split_handler_url
from bot.store import PushStore, WatchStore
from bot.watch.runner import WatchRunner
from bot.web.pushes import PushedIndex
from tests.fakes.clock import FakeClock
from tests.fakes.smsc_faults import FaultySmsc
from tests.fakes.updates import bot_user_json, next_message_id, next_update_id, user_json
from tests.harness import (
    ADMIN,
    AGENT,
    API_KEY,
    STRANGER,
    Harness,
    free_listen,
    running_bot,
    serving,
)

CHAT = -4242
GROUP: dict[str, Any] = {"chat_id": CHAT, "chat_type": "supergroup"}
URL_PATTERN = re.compile(r"<code>(http://[^<]+)</code>")


class Pushes:
    """SMS Center's status pushes for account "main", signed with its secret."""

    def __init__(self, handler_url: str, clock: FakeClock) -> None:
        self.url, self.secret, self.algorithm = split_handler_url(handler_url)
        self.clock = clock
        self.next_id = 1000

    async def send(self, n: int, *, status: int, err: int = 0) -> None:
        async with aiohttp.ClientSession() as client:
            for _ in range(n):
                self.next_id += 1
                fields = {
                    "id": str(self.next_id),
                    "phone": f"7916{self.next_id:07d}",
                    "status": str(status),
                    "err": str(err),
                    "ts": str(int(self.clock())),
                }
                data = signed_fields(fields, self.secret, self.algorithm)
                async with client.post(self.url, data=data) as response:
                    assert response.status == 200


@pytest.fixture
async def watched(
    tmp_path: Path, sim: FaultySmsc, clock: FakeClock
) -> AsyncIterator[tuple[Harness, Pushes, WatchRunner]]:
    """A bot with its push endpoint on a free port, account "main" granted to AGENT with
    pushes on, and its watch runner sending with the harness's Bot (looked at by hand)."""
    sock, listen = free_listen()
    base = f"http://{listen}"
    async with running_bot(tmp_path, sim, clock, public_url=base, http_listen=listen) as harness:
        await harness.grant()
        async with serving(harness, sock=sock):
            found = URL_PATTERN.search(await harness.say("/push main", user_id=ADMIN))
            assert found is not None
            pushes = Pushes(found.group(1).replace("&amp;", "&"), clock)
            runner: WatchRunner = harness.dispatcher["watch_runner"]
            runner.notify = AlertSender(harness.bot, harness.settings, clock, runner.store)
            yield harness, pushes, runner


def group_messages(harness: Harness) -> list[dict[str, Any]]:
    return harness.telegram.messages_in(CHAT)


def bot_texts(harness: Harness, after: int) -> list[str]:
    # An alert is a photo (its chart) with the alert as its caption.
    return [m.get("text") or m.get("caption") or "" for m in group_messages(harness)[after:]]


async def test_one_alert_per_incident_then_one_resolved(
    watched: tuple[Harness, Pushes, WatchRunner], clock: FakeClock
) -> None:
    harness, pushes, runner = watched
    assert "👁" in await harness.say("/watch 20 1", language_code="ru", **GROUP)
    assert (await harness.say("/watches", **GROUP)).endswith(" · data current")  # pushes on
    before = len(group_messages(harness))

    await pushes.send(6, status=20, err=255)
    await pushes.send(4, status=1)
    assert await runner.tick() == 1
    (alert,) = bot_texts(harness, before)
    # In the language of the member who set the watch; the pushed messages' operator unknown.
    assert alert.startswith("⚠️ Недоставки SMS 60 % (6 из 10) за 1 мин · ошибка 255\n")
    assert "• оператор неизвестен — 6" in alert
    (photo,) = harness.telegram.calls_of("sendPhoto")  # the alert carries its chart
    assert photo.params["photo"].startswith(b"\x89PNG\r\n\x1a\n")
    markup = photo.params["reply_markup"]
    buttons = [button["text"] for button in markup["inline_keyboard"][0]]
    assert buttons == ["🔕 Тишина 1 ч", "📋 Подробнее"]

    clock.advance(10)
    await pushes.send(5, status=20, err=255)  # 11 failures: short of double
    assert await runner.tick() == 0
    assert len(bot_texts(harness, before)) == 1

    await pushes.send(100, status=1)
    sent: list[str] = []
    for _ in range(6):  # three minutes, a look every 30 s
        clock.advance(30)
        await runner.tick()
    sent = bot_texts(harness, before)[1:]
    assert len(sent) == 1 and sent[0].startswith("✅ Отбой: недоставки SMS аккаунта main")
    (watch,) = await WatchStore(harness.services.storage).all_watches()
    assert await WatchStore(harness.services.storage).open_incident(watch.id) is None
    assert "🔥" not in await harness.say("/watches", **GROUP)


async def test_silence_by_a_member_and_refused_to_a_stranger(
    watched: tuple[Harness, Pushes, WatchRunner], clock: FakeClock
) -> None:
    harness, pushes, runner = watched
    await harness.say("/watch 20 1", **GROUP)
    await pushes.send(6, status=20, err=6)
    assert await runner.tick() == 1
    alert = group_messages(harness)[-1]
    silence, details = (b["callback_data"] for b in alert["reply_markup"]["inline_keyboard"][0])
    store = WatchStore(harness.services.storage)

    await harness.press(silence, message_id=alert["message_id"], user_id=STRANGER, **GROUP)
    refusal = harness.telegram.calls_of("answerCallbackQuery")[-1].params
    assert refusal.get("show_alert") is True and "no access" in refusal["text"]
    (watch,) = await store.all_watches()
    assert watch.silenced_until is None

    await harness.press(silence, message_id=alert["message_id"], user_id=AGENT, **GROUP)
    (watch,) = await store.all_watches()
    assert watch.silenced_until == clock() + 3600
    assert group_messages(harness)[-1]["text"].startswith(
        "🔕 Alerts of main in this chat silenced until"
    )
    # Silenced: failures doubling bring no repeat.
    clock.advance(10)
    await pushes.send(20, status=20, err=6)
    assert await runner.tick() == 0

    await harness.press(details, message_id=alert["message_id"], user_id=AGENT, **GROUP)
    report = group_messages(harness)[-1]["text"]
    assert report.startswith("📋 main since ") and "26 failed of 26 final (100 %)" in report
    listed = await harness.say("/watches", **GROUP)
    assert "· 🔥 failing since " in listed and "· silenced until " in listed


async def test_a_restart_sends_no_second_alert_and_still_resolves(
    watched: tuple[Harness, Pushes, WatchRunner], clock: FakeClock
) -> None:
    harness, pushes, runner = watched
    await harness.say("/watch 20 1", **GROUP)
    await pushes.send(8, status=20, err=255)
    assert await runner.tick() == 1
    before = len(group_messages(harness))

    # What a restart keeps: the database. The pushed statuses are read back from it, the
    # incident too; nothing held in memory survives.
    services = harness.services
    await services.push_writer.flush()
    reloaded = PushedIndex()
    assert await reloaded.load(PushStore(services.storage), now=clock()) == 8
    restarted = WatchRunner(
        WatchStore(services.storage),
        lambda key_id: AccountPicture(),
        reloaded,
        lambda account: True,
        clock=clock,
    )
    restarted.notify = AlertSender(harness.bot, harness.settings, clock, restarted.store)
    clock.advance(30)
    assert await restarted.tick() == 0  # the same incident: no second alert
    for _ in range(6):
        clock.advance(30)
        await restarted.tick()
    texts = bot_texts(harness, before)
    assert len(texts) == 1 and texts[0].startswith("✅ Resolved: SMS failures of main")


def _bot_left(chat_id: int, *, status: str, old: str, by: int = AGENT) -> dict[str, Any]:
    bot_user = bot_user_json()

    def member(kind: str) -> dict[str, Any]:
        found: dict[str, Any] = {"status": kind, "user": bot_user}
        if kind == "kicked":
            found["until_date"] = 0
        return found

    return {
        "update_id": next_update_id(),
        "my_chat_member": {
            "chat": {"id": chat_id, "type": "supergroup", "title": "On-call"},
            "from": user_json(by),
            "date": 1_790_000_000,
            "old_chat_member": member(old),
            "new_chat_member": member(status),
        },
    }


async def test_a_group_upgraded_to_a_supergroup_keeps_its_watch(harness: Harness) -> None:
    await harness.grant()
    await harness.say("/watch 30 10", chat_id=-4242, chat_type="group")
    supergroup = -1_000_000_004_242
    await harness.feed(
        {
            "update_id": next_update_id(),
            "message": {
                "message_id": next_message_id(),
                "from": user_json(AGENT),
                "chat": {"id": -4242, "type": "group", "title": "On-call"},
                "date": 1_790_000_000,
                "migrate_to_chat_id": supergroup,
            },
        }
    )
    listed = await harness.say("/watches", chat_id=supergroup, chat_type="supergroup")
    assert "• <b>main</b>: 30 % in 10 min" in listed
    assert "no account" in await harness.say("/watches", chat_id=-4242, chat_type="group")


async def test_removed_from_a_chat_its_watches_pause_and_the_setter_is_told_once(
    harness: Harness, sim: FaultySmsc, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await harness.grant(AGENT, ADMIN)
    await harness.say("/watch", **GROUP)
    await harness.say("/watch", user_id=ADMIN, chat_id=-5555, chat_type="supergroup")
    await harness.feed(_bot_left(CHAT, status="kicked", old="member"))
    await harness.feed(_bot_left(CHAT, status="left", old="kicked"))  # no second notice
    told = [m["text"] for m in harness.telegram.messages_in(AGENT) if "⏸" in m.get("text", "")]
    assert told == [
        "⏸ I can no longer write to the chat “On-call”, so its watch of main is "
        "paused. Add me back there to resume it."
    ]
    store = WatchStore(harness.services.storage)
    paused = {w.chat_id: w.paused_at for w in await store.all_watches()}
    assert paused == {CHAT: clock(), -5555: None}
    assert "paused since" in await harness.say("/watches", **GROUP)

    # A paused watch is not looked at: no blind notice for a chat the bot cannot write to.
    runner: WatchRunner = harness.dispatcher["watch_runner"]
    runner.notify = AlertSender(harness.bot, harness.settings, clock, runner.store)
    await sim.refuse()  # the watch still looked at cannot fetch: it says it is blind
    clock.advance(3600)
    sent = len(harness.telegram.calls_of("sendMessage"))
    await runner.tick()
    targets = [c.params["chat_id"] for c in harness.telegram.calls_of("sendMessage")[sent:]]
    assert CHAT not in targets and -5555 in targets  # the other chat's watch went blind

    # The setter cannot be reached in private: logged, nothing else breaks.
    harness.telegram.fail_next("sendMessage", status=403)
    with caplog.at_level("WARNING"):
        await harness.feed(_bot_left(-5555, status="left", old="member", by=ADMIN))
    assert "its setter cannot be told" in caplog.text

    await harness.feed(_bot_left(CHAT, status="member", old="left"))
    (watch,) = [w for w in await store.all_watches() if w.chat_id == CHAT]
    assert watch.paused_at is None


async def test_a_chat_that_answers_403_pauses_its_watch(
    watched: tuple[Harness, Pushes, WatchRunner], clock: FakeClock
) -> None:
    harness, pushes, runner = watched
    await harness.say("/watch 20 1", **GROUP)
    await pushes.send(6, status=20, err=255)
    harness.telegram.fail_next("sendPhoto", status=403)  # the alert, with its chart
    await runner.tick()
    (watch,) = await WatchStore(harness.services.storage).all_watches()
    assert watch.paused_at == clock()


async def test_without_pushes_a_watch_sees_what_failed_fetched_with_its_operators(
    harness: Harness, sim: FaultySmsc, clock: FakeClock
) -> None:
    await harness.grant()
    await harness.say("/watch 20 15", **GROUP)
    for n in range(6):
        sim.add_message(API_KEY, phone=f"7916123450{n}", status=20, err=255, operator="МТС")
    for n in range(4):
        sim.add_message(API_KEY, phone=f"7903123450{n}", status=1, operator="Билайн")
    runner: WatchRunner = harness.dispatcher["watch_runner"]
    runner.notify = AlertSender(harness.bot, harness.settings, clock, runner.store)
    assert await runner.tick() == 1  # the watch fetched the window itself (no pushes)
    fetched = sim.count("get")
    alert = group_messages(harness)[-1]["caption"]
    # What the watch fetched answers /failed too, without another request.
    assert "6 of 10" in await harness.say("/failed", chat_type="private")
    assert sim.count("get") == fetched
    assert alert.startswith("⚠️ SMS failures 60 % (6 of 10) in 15 min · МТС 6 · err 255")
    assert "• Билайн" not in alert  # operators of failures only
    assert "Counted only" not in alert  # the window reaches back the whole period


async def test_with_pushes_an_hour_of_watching_makes_no_history_request(
    watched: tuple[Harness, Pushes, WatchRunner], sim: FaultySmsc, clock: FakeClock
) -> None:
    harness, pushes, runner = watched
    await harness.say("/watch 20 1", **GROUP)
    before = sim.count("get")
    for _ in range(120):  # an hour, a look every 30 s, a push now and then
        if _ % 10 == 0:
            await pushes.send(1, status=1)
        await runner.tick()
        clock.advance(30)
    assert sim.count("get") == before
    assert not any("blind" in text for text in bot_texts(harness, 0))


async def test_metrics_and_healthz_show_the_watches(
    watched: tuple[Harness, Pushes, WatchRunner], clock: FakeClock
) -> None:
    harness, pushes, runner = watched
    await harness.say("/watch 20 1", **GROUP)
    await harness.say("/watch 50 5", chat_id=-5555, chat_type="supergroup")
    await pushes.send(6, status=20, err=255)
    assert await runner.tick() == 2
    base = f"http://{harness.settings.http_listen}"
    async with aiohttp.ClientSession() as client:
        async with client.get(base + "/metrics") as response:
            metrics = await response.text()
        async with client.get(base + "/healthz") as response:
            health = await response.json()
    assert 'smsbot_watches{account="main"} 2.0' in metrics
    assert 'smsbot_incidents_open{account="main"} 2.0' in metrics
    assert 'smsbot_watch_messages_total{account="main",kind="alert"} 2.0' in metrics
    assert API_KEY not in metrics
    watches = sorted(health["watches"], key=lambda w: w["every"])
    assert [(w["account"], w["every"], w["current"]) for w in watches] == [
        ("main", "20 % in 1 min", True),
        ("main", "50 % in 5 min", True),
    ]
    assert watches[0]["blind_since"] is None and watches[0]["data_as_of"] is not None
