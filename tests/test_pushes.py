"""SMS Center's status pushes over real HTTP on 127.0.0.1 (PRODUCT.md §9, smsc-api.md "Status
push"): the signature, what a good push changes (the picture, SQLite), what a refused one does
not, repeats, a restart, incoming SMS, and a mass mailing's worth of pushes."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.smsc.push import Push, Verdict, parse_fields, signed_fields, verify
from bot.smsc.pusher import StatusPusher, history_of
from bot.store import PushedStatus, PushStore
from bot.web.pushes import REFUSALS_PER_MINUTE
from tests.conftest import API_KEY
from tests.fakes.clock import FakeClock
from tests.fakes.smsc_faults import FaultySmsc
from tests.harness import ADMIN, Harness, running_bot, serving

PHONE = "79161234567"
SECRET = "push-secret-0123456789abcdef"


@asynccontextmanager
async def pushes_on(h: Harness, *, secret: str = SECRET) -> AsyncIterator[str]:
    """Account "main" gets push ``secret``; yields the base URL of the bot's HTTP server."""
    await PushStore(h.services.storage).set_secret("main", secret, now=h.clock())
    await h.services.push_keys.reload()
    async with serving(h) as endpoint:
        yield endpoint.server.base_url


async def push(url: str, fields: dict[str, str], *, method: str = "POST") -> tuple[int, str]:
    """Send a push as SMS Center does: a form POST (or a GET with the fields in the query)."""
    async with aiohttp.ClientSession() as client:
        if method == "GET":
            request = client.get(url, params=fields)
        else:
            request = client.post(url, data=fields)
        async with request as response:
            return response.status, await response.text()


def status_push(record: dict[str, Any], status: int, *, secret: str = SECRET) -> dict[str, str]:
    fields = {"id": str(record["id"]), "phone": PHONE, "status": str(status), "err": "0"}
    return signed_fields(fields, secret)


async def stored(h: Harness) -> list[tuple[int | None, int]]:
    account = await h.services.storage.get_account("main")
    assert account is not None
    rows = await PushStore(h.services.storage).statuses_of(account.id, PHONE)
    return [(row.status, row.message_id) for row in rows]


# -- the verifier ------------------------------------------------------------------------------


def test_the_assumed_signature_is_md5_of_id_phone_status_and_the_secret() -> None:
    # smsc-api.md (check): md5("id:phone:status:<secret>"), lowercase hex, in the md5 field.
    expected = hashlib.md5(b"42:79161234567:1:" + SECRET.encode(), usedforsecurity=False)
    fields = signed_fields({"id": "42", "phone": "79161234567", "status": "1"}, SECRET)
    assert fields["md5"] == expected.hexdigest()
    raw = parse_fields(
        b"charset=utf-8", f"id=42&phone=79161234567&status=1&md5={fields['md5']}".encode()
    )
    assert verify(raw, [SECRET]) is Verdict.OK
    assert verify(raw, ["other", SECRET]) is Verdict.OK  # a rotated secret's grace
    assert verify(raw, ["other"]) is Verdict.BAD_SIGNATURE
    assert verify(Push({"id": "42", "phone": "1", "status": "1"}), [SECRET]) is Verdict.UNSIGNED
    # sha1 when the URL carried sha1=; an incoming SMS signs phone:mes:to.
    signed = b"79161234567:\xcf\xf0\xe8\xe2\xe5\xf2:7900:" + SECRET.encode()
    sha1 = hashlib.sha1(signed, usedforsecurity=False)
    incoming = parse_fields(
        b"", b"phone=79161234567&mes=%CF%F0%E8%E2%E5%F2&to=7900&sha1=" + sha1.hexdigest().encode()
    )
    assert verify(incoming, [SECRET]) is Verdict.OK  # windows-1251 bytes, hashed as received
    assert incoming.text("mes") == "Привет"


# -- pushes end to end -------------------------------------------------------------------------


async def test_a_signed_push_changes_what_last_shows_with_smsc_unreachable(
    harness: Harness, sim: FaultySmsc
) -> None:
    await harness.grant()
    record = sim.add_message(API_KEY, phone=PHONE, status=0)
    first = await harness.say(f"/last {PHONE}")
    assert "delivered" not in first.lower()
    async with pushes_on(harness) as base:
        await sim.refuse()  # SMS Center cannot be reached from now on
        assert await push(f"{base}/smsc/main", status_push(record, 1)) == (200, "OK")
        harness.clock.advance(120)  # past CACHE_TTL: the bot tries SMS Center, then the picture
        answer = await harness.say(f"/last {PHONE}")
        await harness.services.push_writer.flush()
        assert await stored(harness) == [(1, record["id"])]
        ru = await harness.say(f"/last {PHONE}", language_code="ru")
    await sim.resume()
    assert "delivered" in answer.lower()
    assert "Status pushed by SMS Center:" in answer and "Status changed" not in answer
    assert "Статус прислан SMS Center (пуш):" in ru
    metrics = harness.services.metrics.render().decode()
    assert 'smsbot_answers_total{origin="pushed"} 2.0' in metrics


async def test_a_forged_push_or_an_unknown_account_gets_403_and_changes_nothing(
    harness: Harness, sim: FaultySmsc
) -> None:
    await harness.grant()
    record = sim.add_message(API_KEY, phone=PHONE, status=0)
    await harness.say(f"/last {PHONE}")
    async with pushes_on(harness) as base:
        forged = status_push(record, 20, secret="a guess")
        assert (await push(f"{base}/smsc/main", forged))[0] == 403
        unsigned = {"id": str(record["id"]), "phone": PHONE, "status": "20"}
        assert (await push(f"{base}/smsc/main", unsigned))[0] == 403
        good_elsewhere = status_push(record, 20)
        assert (await push(f"{base}/smsc/nosuch", good_elsewhere))[0] == 403
        await harness.services.push_writer.flush()
        assert await stored(harness) == []
        async with aiohttp.ClientSession() as client, client.get(base + "/healthz") as r:
            health = json.loads(await r.text())
        async with aiohttp.ClientSession() as client, client.get(base + "/metrics") as r:
            metrics = await r.text()
    answer = await harness.say(f"/last {PHONE}")
    assert "impossible" not in answer.lower()
    main = health["accounts"]["main"]["pushes"]
    assert main["refused"] == {"bad_signature": 1, "unsigned": 1}
    assert main["last_refusal"] == "unsigned" and main["accepted"] == 0
    assert health["refused_pushes_for_no_account"] == {"unknown_account": 1}
    assert 'smsbot_push_refusals_total{account="main",reason="bad_signature"} 1.0' in metrics
    assert 'account="nosuch"' not in metrics and SECRET not in metrics and PHONE not in metrics


async def test_the_same_push_twice_is_one_status_and_a_restart_keeps_it(
    tmp_path: Path, sim: FaultySmsc, clock: FakeClock
) -> None:
    # SMS Center delivers it a second from now; its push says so.
    record = sim.add_message(API_KEY, phone=PHONE, status=0, _settle=(clock() + 1, 1, 0))
    async with running_bot(tmp_path, sim, clock) as harness:
        await harness.grant()
        async with pushes_on(harness) as base:
            fields = status_push(record, 1)
            assert await push(f"{base}/smsc/main", fields) == (200, "OK")
            assert await push(f"{base}/smsc/main", fields, method="GET") == (200, "OK")
            # An older status arriving late does not undo the newer one.
            late = signed_fields(
                {
                    "id": str(record["id"]),
                    "phone": PHONE,
                    "status": "0",
                    "ts": str(int(clock() - 60)),
                },
                SECRET,
            )
            assert await push(f"{base}/smsc/main", late) == (200, "OK")
    # Closing the bot wrote what was pending.
    clock.advance(2)
    async with running_bot(tmp_path, sim, clock) as harness:
        assert await stored(harness) == [(1, record["id"])]
        assert harness.services.push_keys.get("MAIN") is not None  # the secret survived too
        # History brings the message back; the answer still knows its status came by push.
        answer = await harness.say(f"/last {PHONE}")
    assert "delivered" in answer.lower() and "Status pushed by SMS Center" in answer


async def test_an_incoming_sms_push_is_answered_and_not_stored(
    harness: Harness, sim: FaultySmsc
) -> None:
    await harness.grant()
    async with pushes_on(harness) as base:
        fields = {"phone": PHONE, "mes": "СТОП", "to": "7900"}
        raw = {k: v.encode().decode("latin-1") for k, v in fields.items()} | {"charset": "utf-8"}
        md5 = hashlib.md5(f"{PHONE}:СТОП:7900:{SECRET}".encode(), usedforsecurity=False)
        assert (
            Push(raw).signed_text() + b":" + SECRET.encode()
            == f"{PHONE}:СТОП:7900:{SECRET}".encode()
        )
        sent = {**fields, "md5": md5.hexdigest()}
        assert await push(f"{base}/smsc/main?charset=utf-8", sent) == (200, "OK")
        assert (await push(f"{base}/smsc/main?charset=utf-8", {**sent, "mes": "СТОП!"}))[0] == 403
        await harness.services.push_writer.flush()
    assert await PushStore(harness.services.storage).count_statuses() == 0
    assert harness.services.push_tally.of("main").accepted == 1


async def test_5000_verified_pushes_of_a_mass_mailing_are_all_stored(
    harness: Harness, sim: FaultySmsc
) -> None:
    await harness.grant()
    async with pushes_on(harness) as base:
        url = f"{base}/smsc/main"
        bodies = [
            signed_fields({"id": str(n), "phone": f"7916{n:07d}", "status": "1"}, SECRET)
            for n in range(1, 5001)
        ]
        statuses: list[int] = []
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=20)) as client:

            async def send(body: dict[str, str]) -> None:
                async with client.post(url, data=body) as response:
                    await response.read()
                    statuses.append(response.status)

            for start in range(0, len(bodies), 500):
                await asyncio.gather(*(send(b) for b in bodies[start : start + 500]))
        await harness.services.push_writer.close()
    assert statuses == [200] * 5000
    assert await PushStore(harness.services.storage).count_statuses() == 5000


@pytest.mark.parametrize("size", [17 * 1024])
async def test_a_push_too_large_is_refused_before_verification(harness: Harness, size: int) -> None:
    await harness.grant()
    async with pushes_on(harness) as base:
        status, _ = await push(f"{base}/smsc/main", {"id": "1", "mes": "x" * size})
    assert status == 413
    assert harness.services.push_tally.of("").refused["too_large"] == 1


# -- the simulator's push sender ---------------------------------------------------------------


@pytest.mark.parametrize("in_progress", [True, False])
async def test_the_simulator_pushes_each_status_change_signed_as_the_bot_verifies(
    harness: Harness, sim: FaultySmsc, in_progress: bool
) -> None:
    await harness.grant()
    async with pushes_on(harness) as base:
        handler_url = f"{base}/smsc/main?charset=utf-8&md5={SECRET}"
        pusher = StatusPusher(
            history_of(sim, API_KEY), handler_url, in_progress=in_progress, clock=harness.clock
        )
        assert SECRET not in pusher.url  # the secret never travels in the URL it posts to
        pusher.start()
        try:
            settle_at = harness.clock() + 30
            record = sim.add_message(API_KEY, phone=PHONE, status=0, _settle=(settle_at, 20, 6))
            first = await harness.say(f"/last {PHONE}")
            harness.clock.advance(31)
            await pusher.flush()  # the message fails: SMS Center pushes it
        finally:
            await pusher.close()
        await sim.refuse()
        harness.clock.advance(120)
        answer = await harness.say(f"/last {PHONE}")
        await sim.resume()
        await harness.services.push_writer.flush()
    pushed = [(fields["status"], status) for fields, status in pusher.sent]
    assert pushed == ([("0", 200), ("20", 200)] if in_progress else [("20", 200)])
    assert "(20)" not in first and "(20)" in answer
    assert await stored(harness) == [(20, record["id"])]


async def test_only_refused_pushes_are_throttled(harness: Harness, sim: FaultySmsc) -> None:
    await harness.grant()
    record = sim.add_message(API_KEY, phone=PHONE, status=0)
    async with pushes_on(harness) as base:
        url = f"{base}/smsc/main"
        forged = status_push(record, 20, secret="a guess")
        answers = [(await push(url, forged))[0] for _ in range(REFUSALS_PER_MINUTE + 5)]
        assert answers == [403] * REFUSALS_PER_MINUTE + [429] * 5
        # A verified push in the middle of the flood is taken, never throttled.
        assert await push(url, status_push(record, 1)) == (200, "OK")
        harness.clock.advance(61)
        assert (await push(url, forged))[0] == 403  # the minute has passed


async def test_a_deleted_account_s_pushes_are_refused_and_its_pending_ones_block_nothing(
    harness: Harness, sim: FaultySmsc
) -> None:
    await harness.grant()
    record = sim.add_message(API_KEY, phone=PHONE, status=0)
    async with pushes_on(harness) as base:
        url = f"{base}/smsc/main"
        assert await push(url, status_push(record, 1)) == (200, "OK")  # pending, not written
        await harness.say("/delkey main", user_id=ADMIN)
        assert (await push(url, status_push(record, 20)))[0] == 403
    other = await harness.services.storage.add_account("other", "k-other", added_by=1, now=0)
    harness.services.push_writer.add(
        PushedStatus(other.id, PHONE, 9, 1, 0, status_at=1.0, received_at=1.0)
    )
    assert await harness.services.push_writer.flush() == 2  # the deleted account's is dropped
    assert await PushStore(harness.services.storage).count_statuses() == 1


async def test_history_recent_and_failed_say_how_many_statuses_were_pushed(
    harness: Harness, sim: FaultySmsc
) -> None:
    await harness.grant()
    record = sim.add_message(API_KEY, phone=PHONE, status=0)
    await harness.say(f"/history {PHONE} 3")
    await harness.say("/recent 3")
    async with pushes_on(harness) as base:
        assert await push(f"{base}/smsc/main", status_push(record, 20)) == (200, "OK")
        history = await harness.say(f"/history {PHONE} 3")
        recent = await harness.say("/recent 3", language_code="ru")
        failed = await harness.say("/failed 1")
    for answer in (history, failed):
        assert "📡 1 status here was pushed by SMS Center, the newest" in answer
    assert "📡 1 статус здесь прислан SMS Center (пуш), последний" in recent
    # The line stands above the freshness line, which stays last.
    assert history.rstrip().splitlines()[-1].startswith("<i>as of")
