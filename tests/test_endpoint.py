"""The HTTP endpoint in-process (PRODUCT.md §9): the webhook's secret and its shutdown, the port
in use, /healthz and /metrics, all over real HTTP on 127.0.0.1.

The whole process (``python -m bot`` in webhook mode, then polling after it, SIGTERM) is in
tests/test_endpoint_process.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from io import StringIO
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.filters import Command
from aiogram.types import Message
from prometheus_client.parser import text_string_to_metric_families

from bot.app import StartError, run_bot, run_shell
from bot.settings import load_settings
from bot.store import KeyCipher
from bot.web.server import HttpServer
from bot.web.webhook import TelegramWebhook
from tests.conftest import API_KEY
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.clock import FakeClock
from tests.fakes.smsc_faults import Faults, FaultySmsc
from tests.fakes.sqlite import DISK_FULL, open_failing
from tests.fakes.telegram import FakeTelegramServer
from tests.fakes.updates import message_update
from tests.harness import ADMIN, Harness, free_listen, running_bot, serving

PHONE = "79161234567"
SECRET = "s3cret-token_for-this-test"

OTHER_KEY = "other0account0key0" + "0" * 14  # a second simulator account, not a secret


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        return response.status, await response.text()


async def post(url: str, payload: Any, headers: dict[str, str] | None = None) -> int:
    async with (
        aiohttp.ClientSession() as client,
        client.post(url, json=payload, headers=headers or {}) as response,
    ):
        await response.read()
        return response.status


# -- webhook -----------------------------------------------------------------------------------


@pytest.mark.wire
async def test_webhook_answers_updates_with_its_secret_and_refuses_the_rest(
    harness: Harness,
) -> None:
    telegram = harness.telegram
    assert isinstance(telegram, FakeTelegramServer)
    async with serving(harness, webhook_secret=SECRET) as endpoint:
        url = endpoint.server.base_url + "/telegram"
        # Without the header, or with another secret: 401 and no handler runs.
        assert await post(url, message_update("/whoami", user_id=ADMIN)) == 401
        wrong = {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"}
        assert await post(url, message_update("/whoami", user_id=ADMIN), wrong) == 401
        assert await telegram.post_to_webhook(
            message_update("/whoami", user_id=ADMIN), url=url, without_secret=True
        ) == 401  # fmt: skip
        assert endpoint.webhook is not None
        assert await endpoint.webhook.drain(within=5) == 0  # nothing was started
        assert telegram.calls_of("sendMessage") == []
        updates = harness.services.metrics.updates
        assert updates.labels(outcome="handled")._value.get() == 0
    async with serving(harness, webhook_secret=SECRET) as endpoint:
        url = endpoint.server.base_url + "/telegram"
        status = await telegram.post_to_webhook(
            message_update("/whoami", user_id=ADMIN), url=url, secret_token=SECRET
        )
        assert status == 200
        (sent,) = await telegram.wait_for_call("sendMessage")
        assert "admin" in (sent.text or "")
        assert await post(url, {"not": "an update"}, {"X-Telegram-Bot-Api-Secret-Token": ""}) == 401


async def test_shutdown_waits_for_webhook_updates_in_flight_and_refuses_new_ones() -> None:
    # aiogram's handler answers 200 at once and runs the update in a task it does not wait
    # for; ours tracks those tasks, and drain() lets them end.
    release = asyncio.Event()
    handled: list[str] = []
    router = Router()

    @router.message(Command("slow"))
    async def slow(message: Message) -> None:
        await release.wait()
        handled.append("slow")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    telegram = FakeBotApi()
    bot = Bot(telegram.token, session=telegram.session())
    webhook = TelegramWebhook(dispatcher, bot, secret_token=SECRET)
    sock, _ = free_listen()
    server = HttpServer(sock)
    server.add_routes([webhook.route()])
    await server.start()
    url = server.base_url + "/telegram"
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    try:
        assert await post(url, message_update("/slow"), headers) == 200
        draining = asyncio.create_task(webhook.drain(within=10))
        for _ in range(20):
            await asyncio.sleep(0)
        assert not draining.done() and handled == []
        # Shutting down: a late update is refused (Telegram delivers it again later).
        assert await post(url, message_update("/slow"), headers) == 503
        release.set()
        assert await draining == 0
        assert handled == ["slow"]
    finally:
        await server.close()
        await bot.session.close()


# -- starting ----------------------------------------------------------------------------------


async def test_a_port_in_use_is_one_line_and_nothing_is_opened(tmp_path: Path) -> None:
    held, listen = free_listen()
    held.listen()
    try:
        settings = load_settings(
            None,
            bot_token="1:x",
            database_path=tmp_path / "data" / "bot.sqlite3",
            http_listen=listen,
        )
        with pytest.raises(StartError) as info:
            await run_bot(settings, handle_signals=False)
    finally:
        held.close()
    assert str(info.value) == f"HTTP_LISTEN: cannot listen on {listen}: Address already in use"
    assert not (tmp_path / "data").exists()


async def test_the_console_starts_no_server(tmp_path: Path) -> None:
    held, listen = free_listen()
    held.listen()  # were the console to bind HTTP_LISTEN, it would fail here
    try:
        settings = load_settings(None, database_path=tmp_path / "bot.sqlite3", http_listen=listen)
        out = StringIO()
        code = await run_shell(
            settings, user_id=ADMIN, demo=False, stdin=StringIO("/help\n"), stdout=out
        )
    finally:
        held.close()
    assert code == 0
    assert "/help" in out.getvalue() or "help" in out.getvalue().lower()


# -- /healthz ----------------------------------------------------------------------------------


async def test_healthz_reports_the_bot_and_its_accounts(harness: Harness, sim: FaultySmsc) -> None:
    await harness.grant()
    sim.add_message(API_KEY, phone=PHONE, status=1)
    await harness.say(f"/last {PHONE}")
    async with serving(harness) as endpoint:
        status, text = await get(endpoint.server.base_url + "/healthz")
    assert status == 200
    body = json.loads(text)
    assert body["status"] == "ok"
    assert body["database"] == {"writable": True}
    assert body["telegram"]["mode"] == "polling"
    assert body["telegram"]["last_contact"] is not None
    assert body["smsc"]["last_outcome"] == "ok"
    assert body["accounts"]["main"]["history_budget_left"] == 29
    assert body["accounts"]["main"]["backing_off"] is None
    assert body["accounts"]["main"]["last_smsc_outcome"] == "ok"
    assert body["accounts"]["main"]["last_smsc_answer"] is not None
    assert API_KEY not in text and PHONE not in text


async def test_healthz_says_each_accounts_last_sms_center_answer(
    harness: Harness, sim: FaultySmsc
) -> None:
    await harness.grant()
    sim.add_account(OTHER_KEY)
    await harness.grant(777, name="other", apikey=OTHER_KEY)
    sim.add_message(API_KEY, phone=PHONE, status=1)
    sim.faults = Faults(error_code=9)
    await harness.say(f"/last {PHONE}")  # the main account is refused
    sim.faults = Faults()
    async with serving(harness) as endpoint:
        status, text = await get(endpoint.server.base_url + "/healthz")
    accounts = json.loads(text)["accounts"]
    assert status == 200
    assert accounts["main"]["last_smsc_outcome"] == "error 9"
    assert accounts["main"]["backing_off"] == "SmscRateLimited"
    assert accounts["other"]["last_smsc_outcome"] is None  # never asked


async def test_healthz_is_503_when_the_database_cannot_be_written(
    tmp_path: Path, sim: FaultySmsc, clock: FakeClock
) -> None:
    path = tmp_path / "data" / "bot.sqlite3"
    storage, connection = await open_failing(path, KeyCipher.load(None, path.with_suffix(".key")))
    async with running_bot(tmp_path, sim, clock, storage=storage) as harness:
        await harness.grant()
        async with serving(harness) as endpoint:
            url = endpoint.server.base_url + "/healthz"
            assert (await get(url))[0] == 200
            connection.fail_on, connection.error = "INSERT INTO quota_ledger", DISK_FULL
            status, text = await get(url)
            assert status == 503
            body = json.loads(text)
            assert body["status"] == "failing"
            assert body["database"]["writable"] is False
            assert DISK_FULL in body["database"]["error"]
            connection.fail_on = None
            assert (await get(url))[0] == 200


async def test_healthz_is_503_when_the_webhook_could_not_be_set(harness: Harness) -> None:
    harness.services.pulse.webhook = "not set: Internal Server Error"
    async with serving(harness) as endpoint:
        status, text = await get(endpoint.server.base_url + "/healthz")
    assert status == 503
    assert json.loads(text)["telegram"]["webhook"] == "not set: Internal Server Error"


# -- /metrics ----------------------------------------------------------------------------------


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, by name and labels (it must parse)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_parse_move_after_a_lookup_and_hold_no_secret(
    harness: Harness, sim: FaultySmsc
) -> None:
    await harness.grant()
    sim.add_message(API_KEY, phone=PHONE, status=1, message="Ваш код 4821")
    async with serving(harness) as endpoint:
        url = endpoint.server.base_url + "/metrics"
        status, before_text = await get(url)
        assert status == 200
        before = samples(before_text)
        await harness.say(f"/last {PHONE}")
        await harness.say(f"/last {PHONE}")  # held: answered without asking again
        _, after_text = await get(url)
    after = samples(after_text)

    def moved(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert moved("smsbot_smsc_requests_total", call="get", outcome="ok") == 1
    assert moved("smsbot_updates_total", outcome="handled") == 2
    assert moved("smsbot_answers_total", origin="fresh") == 1
    assert moved("smsbot_answers_total", origin="cache") == 1
    assert moved("smsbot_telegram_calls_total", outcome="ok") >= 2
    assert after[("smsbot_history_budget_left", (("account", "main"),))] == 29
    # Account names at most: no key, fingerprint, token, phone number or text.
    account = await harness.services.storage.get_account("main")
    assert account is not None
    for secret in (API_KEY, account.fingerprint, harness.telegram.token, PHONE, "4821"):
        assert secret not in after_text


async def test_metrics_count_smsc_errors_and_telegram_retries(
    harness: Harness, sim: FaultySmsc
) -> None:
    await harness.grant()
    sim.faults = Faults(error_code=9, only="get", times=1)
    harness.telegram.fail_next("sendMessage", status=429, retry_after=1)
    await harness.say(f"/last {PHONE}")
    metrics = harness.services.metrics
    text = metrics.render().decode()
    found = samples(text)
    assert found[("smsbot_smsc_requests_total", (("call", "get"), ("outcome", "error_9")))] == 1
    assert found[("smsbot_telegram_attempts_total", (("outcome", "too_many_requests"),))] == 1
    assert found[("smsbot_telegram_calls_total", (("outcome", "ok"),))] >= 1


async def test_access_log_shows_the_path_never_the_query_string(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.web.access")
    async with serving(harness, webhook_secret=SECRET) as endpoint:
        base = endpoint.server.base_url
        await get(base + "/healthz?md5=0123456789abcdef")
        await post(base + "/telegram?token=0123456789abcdef", {}, {"Referer": "x?y=1"})
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.web.access"]
    assert len(lines) == 2
    assert '"GET /healthz" 200' in lines[0] and '"POST /telegram" 401' in lines[1]
    assert "0123456789abcdef" not in caplog.text and "?" not in "".join(lines)
