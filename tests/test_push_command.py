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

from bot.app import make_endpoint
from bot.settings import Listen
from bot.smsc.push import signed_fields
from bot.smsc.pusher import split_handler_url
from bot.web.server import bind
from tests.fakes.clock import FakeClock
from tests.fakes.smsc_faults import FaultySmsc
from tests.harness import ADMIN, AGENT, Harness, running_bot

PHONE = "79161234567"
URL_PATTERN = re.compile(r"<code>(http://[^<]+)</code>")


@pytest.fixture
async def pushing(
    tmp_path: Path, sim: FaultySmsc, clock: FakeClock
) -> AsyncIterator[tuple[Harness, str]]:
    """A bot with PUBLIC_URL and its HTTP server on a free port, account "main" granted."""
    sock = bind(Listen("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with running_bot(
        tmp_path, sim, clock, public_url=base, http_listen=base.removeprefix("http://")
    ) as harness:
        await harness.grant()
        endpoint = make_endpoint(sock, harness.services, harness.dispatcher, harness.bot,
                                 webhook_secret=None)  # fmt: skip
        await endpoint.server.start()
        try:
            yield harness, base
        finally:
            await endpoint.server.close()


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
    relay = await with_url.say("/push main relay http://x", user_id=ADMIN)
    assert "not available yet" in relay
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
