"""``/push NAME [new | off]`` (PRODUCT.md §5, §9) end to end, and where a push secret may
appear: only in the one ``/push`` answer, deleted after 10 minutes."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.smsc.push import Verdict, parse_fields, signed_fields, split_handler_url, verify
from bot.store import PushStore
from tests.fakes.clock import FakeClock
from tests.fakes.smsc_faults import FaultySmsc
from tests.harness import ADMIN, AGENT, Harness, free_listen, running_bot, serving

PHONE = "79161234567"
URL_PATTERN = re.compile(r"<code>(http://[^<]+)</code>")


@pytest.fixture
async def pushing(
    tmp_path: Path, sim: FaultySmsc, clock: FakeClock
) -> AsyncIterator[tuple[Harness, str]]:
    """A bot with PUBLIC_URL and its HTTP server on a free port, account "main" granted."""
    sock, listen = free_listen()
    base = f"http://{listen}"
    async with running_bot(tmp_path, sim, clock, public_url=base, http_listen=listen) as harness:
        await harness.grant()
        async with serving(harness, sock=sock):
            yield harness, base


async def post(url: str, fields: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as client, client.post(url, data=fields) as response:
        await response.read()
        return response.status


def handler_url(answer: str) -> str:
    found = URL_PATTERN.search(answer)
    assert found is not None, answer
    return found.group(1).replace("&amp;", "&")


async def send_push(handler: str, status: str = "1") -> int:
    url, secret, algorithm = split_handler_url(handler)
    fields = {"id": "7", "phone": PHONE, "status": status}
    return await post(url, signed_fields(fields, secret, algorithm))


async def test_push_shows_the_handler_url_once_and_deletes_it_after_10_minutes(
    pushing: tuple[Harness, str],
) -> None:
    harness, base = pushing
    answer = await harness.say("/push main", user_id=ADMIN)
    url = handler_url(answer)
    assert url.startswith(f"{base}/smsc/main?charset=utf-8&md5=")
    assert await send_push(url) == 200
    assert handler_url(await harness.say("/push main", user_id=ADMIN)) == url  # the same one

    def showing() -> int:
        return sum("md5=" in (m.get("text") or "") for m in harness.telegram.messages_in(ADMIN))

    assert showing() == 2
    deleted_before = len(harness.telegram.calls_of("deleteMessage"))  # /addkey's key message
    async with asyncio.timeout(10):
        while harness.clock.sleepers < 2:  # noqa: ASYNC110 - both deletions wait on the clock
            await asyncio.sleep(0)
    harness.clock.advance(599)
    for _ in range(20):
        await asyncio.sleep(0)
    assert showing() == 2
    harness.clock.advance(2)
    async with asyncio.timeout(10):
        while len(harness.dispatcher["expiring"]):  # noqa: ASYNC110 - deletions on their way
            await asyncio.sleep(0.01)
    assert showing() == 0
    assert len(harness.telegram.calls_of("deleteMessage")) == deleted_before + 2


async def test_push_new_rotates_with_an_hour_of_grace_and_off_refuses(
    pushing: tuple[Harness, str],
) -> None:
    harness, _ = pushing
    old = handler_url(await harness.say("/push main", user_id=ADMIN))
    rotated = await harness.say("/push main new", user_id=ADMIN)
    assert "old one is still accepted for an hour" in rotated
    new = handler_url(rotated)
    assert new != old
    assert await send_push(new) == 200
    assert await send_push(old) == 200  # within the hour
    harness.clock.advance(3601)
    assert await send_push(old) == 403
    assert await send_push(new) == 200
    keys = await harness.say("/keys", user_id=ADMIN)
    assert "pushes on · 1 push refused: bad signature, last at" in keys
    ru = await harness.say("/keys", user_id=ADMIN, language_code="ru")
    assert "пуши включены · 1 пуш отклонён: неверная подпись, последний в" in ru
    off = await harness.say("/push main off", user_id=ADMIN)
    assert "are off" in off
    assert await send_push(new) == 403
    assert "pushes on" not in await harness.say("/keys", user_id=ADMIN)


async def test_push_is_for_admins_in_private_chats_and_needs_public_url(
    pushing: tuple[Harness, str], harness: Harness
) -> None:
    with_url, _ = pushing
    group = await with_url.say("/push main", user_id=ADMIN, chat_id=-4242, chat_type="group")
    assert "md5=" not in group and group  # refused in words
    assert "md5=" not in await with_url.say("/push main", user_id=AGENT)
    assert "no account" in (await with_url.say("/push nosuch", user_id=ADMIN)).lower()
    assert "Usage" in await with_url.say("/push main sideways", user_id=ADMIN)
    relay = await with_url.say("/push main relay http://x", user_id=ADMIN)  # no md5=
    assert "Usage: <code>/push NAME relay URL</code>" in relay
    # The plain harness has no PUBLIC_URL.
    await harness.grant()
    no_url = await harness.say("/push main", user_id=ADMIN, language_code="ru")
    assert "PUBLIC_URL" in no_url and "публичный адрес" in no_url


async def test_a_push_secret_shows_in_the_push_answer_and_nowhere_else(
    pushing: tuple[Harness, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    harness, base = pushing
    answer = await harness.say("/push main", user_id=ADMIN)
    url = handler_url(answer)
    _, secret, _ = split_handler_url(url)
    assert await send_push(url) == 200
    assert await post(url, {"id": "7", "phone": PHONE, "status": "1", "md5": "0" * 32}) == 403
    await harness.say(f"/last {PHONE}")
    await harness.say("/keys", user_id=ADMIN)
    await harness.services.push_writer.flush()
    async with aiohttp.ClientSession() as client:
        async with client.get(base + "/metrics") as response:
            metrics = await response.text()
        async with client.get(base + "/healthz") as response:
            health = await response.text()
    calls = harness.telegram.calls
    showing = [c for c in calls if secret in json.dumps(c.params, ensure_ascii=False)]
    assert [c.method for c in showing] == ["sendMessage"]  # the one /push answer
    assert secret not in caplog.text  # logs, access log included
    assert secret not in metrics and secret not in health
    folder = harness.settings.database_path.parent
    for path in folder.iterdir():
        assert secret.encode() not in path.read_bytes(), path


# -- relay -------------------------------------------------------------------------------------

OTHER_SECRET = "other-systems-secret-42"


class OtherSystem:
    """Another system's push handler on 127.0.0.1: records what it gets, verifies it with its
    own secret, answers ``status`` (500: failing)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], Verdict]] = []
        self.status = 200
        self.base = ""

    async def handle(self, request: web.Request) -> web.Response:
        push = parse_fields(request.rel_url.raw_query_string.encode(), await request.read())
        fields = {name: push.text(name) for name in push.fields}
        self.received.append((fields, verify(push, [OTHER_SECRET])))
        return web.Response(status=self.status, text="OK")


@pytest.fixture
async def other() -> AsyncIterator[OtherSystem]:
    system = OtherSystem()
    app = web.Application()
    app.router.add_post("/hook", system.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    system.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield system
    await runner.cleanup()


async def test_relay_passes_verified_pushes_on_resigned_and_its_failure_changes_nothing(
    pushing: tuple[Harness, str], other: OtherSystem, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    harness, _ = pushing
    handler = handler_url(await harness.say("/push main", user_id=ADMIN))
    target = f"{other.base}/hook?charset=utf-8&sha1={OTHER_SECRET}"
    before = len(harness.telegram.calls_of("deleteMessage"))
    answer = await harness.say(f"/push main relay {target}", user_id=ADMIN)
    assert f"passed on to {other.base.removeprefix('http://')}" in answer
    assert len(harness.telegram.calls_of("deleteMessage")) == before + 1  # the URL's message
    assert await send_push(handler, status="1") == 200
    assert await harness.services.relay.wait(within=10) == 0
    ((fields, verdict),) = other.received
    assert verdict is Verdict.OK  # re-signed with the other system's secret, in sha1
    assert (fields["id"], fields["phone"], fields["status"]) == ("7", PHONE, "1")
    assert OTHER_SECRET not in json.dumps(fields) and "md5" not in fields
    # A failing relay: the bot's 200 and its own copy of the push are unaffected; the relay
    # tries 3 times, then gives up.
    other.status = 500
    assert await send_push(handler, status="20") == 200
    await harness.services.push_writer.flush()
    account = await harness.services.storage.get_account("main")
    assert account is not None
    rows = await PushStore(harness.services.storage).statuses_of(account.id, PHONE)
    assert [row.status for row in rows] == [20]
    async with asyncio.timeout(20):  # the retries wait 1 s, then 2 s, on the bot's clock
        while len(harness.services.relay):
            harness.clock.advance(1)
            await harness.services.relay.wait(within=0.05)
    assert len(other.received) == 1 + 3
    metrics = harness.services.metrics.render().decode()
    assert 'smsbot_relays_total{account="main",outcome="failed"} 1.0' in metrics
    assert OTHER_SECRET not in metrics
    off = await harness.say("/push main relay off", user_id=ADMIN)
    assert "no longer passed on" in off
    assert await send_push(handler) == 200
    assert await harness.services.relay.wait(within=10) == 0
    assert len(other.received) == 4
    # The other system's secret: in the admin's deleted message only, never logged or stored
    # in plain text, never sent back.
    assert OTHER_SECRET not in caplog.text
    sent = [c for c in harness.telegram.calls if OTHER_SECRET in json.dumps(c.params)]
    assert sent == []
    for path in harness.settings.database_path.parent.iterdir():
        assert OTHER_SECRET.encode() not in path.read_bytes(), path


async def test_a_relay_url_in_a_group_is_burnt_and_not_used(
    pushing: tuple[Harness, str], other: OtherSystem
) -> None:
    harness, _ = pushing
    await harness.say("/push main", user_id=ADMIN)
    target = f"{other.base}/hook?md5={OTHER_SECRET}"
    answer = await harness.say(
        f"/push main relay {target}", user_id=ADMIN, chat_id=-4242, chat_type="group"
    )
    assert harness.telegram.calls_of("deleteMessage")
    assert "revoke" in answer.lower()
    assert harness.services.push_keys.get("main") is not None
    keys = harness.services.push_keys.get("main")
    assert keys is not None and keys.relay is None
