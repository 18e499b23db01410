"""Secrets (issue: "Secrets"): SMS Center API keys never leave the places they must be.

A full session runs with DEBUG logging on the root logger (aiogram, httpx, aiosqlite included):
keys added, granted, looked up with, refused, burnt in a group, then a restart. Afterwards every
log line (with tracebacks), every outbound Bot API call, every file beside the database and every
SMS Center error raised is searched for each key, whole and by its first 16 characters.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

import bot.smsc.client
from bot.app import Services
from bot.settings import load_settings
from bot.smsc import SmscApiError, SmscBadCredentials, SmscClient, SmscRateLimited
from bot.store import KeyCipher, Storage, fingerprint
from tests.fakes.bot_api import ApiCall
from tests.fakes.clock import FakeClock
from tests.fakes.smsc_faults import FaultySmsc
from tests.fakes.updates import ChatType, message_update
from tests.harness import ADMIN, AGENT, STRANGER, Harness, running_bot

# Distinctive keys: no other text in a session can contain them by accident, and each one's
# first 16 characters differ from the others'.
MAIN_KEY = "SECRET-KEY-aaaa-" + "1f2e3d4c5b6a7988" * 2
OTHER_KEY = "SECRET-KEY-bbbb-" + "8899aabbccddeeff" * 2
BURNT_KEY = "SECRET-KEY-cccc-" + "0011223344556677" * 2
BURNT_ADMIN_KEY = "SECRET-KEY-eeee-" + "7766554433221100" * 2
WRONG_KEY = "SECRET-KEY-dddd-" + "fedcba9876543210" * 2
PASTED_KEY = "SECRET-KEY-ffff-" + "0a1b2c3d4e5f6a7b" * 2
ALL_KEYS = (MAIN_KEY, OTHER_KEY, BURNT_KEY, BURNT_ADMIN_KEY, WRONG_KEY, PASTED_KEY)
BOT_TOKEN_SECRET = "SECRET-BOT-TOKEN-9f8e7d6c5b4a"

PHONE = "79161234567"
OTHER_PHONE = "79169876543"
ERROR_PHONES = ("79031112233", "79034445566")
NEWCOMER = 800
GROUP = -4242


def needles(keys: Iterable[str] = ALL_KEYS) -> list[bytes]:
    """What must never be found: each key whole and its first 16 characters, as UTF-8."""
    found: list[bytes] = []
    for key in keys:
        found += [key.encode("utf-8"), key[:16].encode("utf-8")]
    return found


def occurrences(haystack: bytes | str, keys: Iterable[str] = ALL_KEYS) -> list[str]:
    """The needles found in ``haystack`` (empty: clean)."""
    data = haystack.encode("utf-8") if isinstance(haystack, str) else haystack
    return [needle.decode() for needle in needles(keys) if needle in data]


def files_under(folder: Path) -> dict[Path, bytes]:
    """Every file under ``folder`` (recursively) with its raw bytes."""
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def calls_json(calls: Iterable[ApiCall]) -> str:
    """Every outbound Bot API call (method, parameters, error text) as one JSON text."""
    return json.dumps(
        [[c.method, c.params, c.status, c.description] for c in calls],
        ensure_ascii=False,
        default=str,
    )


async def say_key(
    h: Harness,
    text: str,
    *,
    user_id: int,
    chat_id: int | None = None,
    chat_type: ChatType = "private",
) -> str:
    """Send a message carrying a key; assert the bot deleted exactly that message."""
    update = message_update(text, user_id=user_id, chat_id=chat_id, chat_type=chat_type)
    message = update["message"]
    before = len(h.telegram.sent_texts())
    await h.feed(update)
    deleted = [
        (call.int_param("chat_id"), call.int_param("message_id"))
        for call in h.telegram.calls_of("deleteMessage")
    ]
    assert (message["chat"]["id"], message["message_id"]) in deleted, text.split()[0]
    return "\n".join(h.telegram.sent_texts()[before:])


async def test_a_full_session_leaves_no_key_in_logs_telegram_or_files(
    tmp_path: Path,
    sim: FaultySmsc,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    raised: list[SmscApiError] = []
    make_error = bot.smsc.client._api_error

    def record_error(script: str, body: dict[str, object]) -> SmscApiError:
        error = make_error(script, body)
        raised.append(error)
        return error

    monkeypatch.setattr(bot.smsc.client, "_api_error", record_error)
    sim.add_account(MAIN_KEY)
    sim.add_account(OTHER_KEY)
    now = int(clock())
    sent = sim.add_message(MAIN_KEY, phone=PHONE, status=20, err=6, send_timestamp=now - 60)
    sim.add_message(MAIN_KEY, phone=OTHER_PHONE, status=1, send_timestamp=now - 30)
    sim.add_message(OTHER_KEY, phone=PHONE, status=1)

    telegram_calls: list[ApiCall] = []
    async with running_bot(tmp_path, sim, clock) as h:
        answer = await say_key(h, f"/addkey main {MAIN_KEY}", user_id=ADMIN)
        assert "added" in answer and fingerprint(MAIN_KEY) in answer
        await h.say(f"/grant {AGENT} main", user_id=ADMIN)
        assert await h.services.storage.get_member(AGENT) is not None

        assert "(20)" in await h.say(f"/last {PHONE}")
        assert await h.say(f"/history {PHONE} 3")
        assert await h.say("/recent 5")
        assert "offline" in await h.say("/failed")
        assert "(20)" in await h.say(f"/status {sent['id']} {PHONE}")

        # SMS Center errors: an HTTP failure and error 9 (an SmscApiError, logged with its text).
        clock.advance(120)
        sim.faults.http_status = 500
        assert "HTTP 500" in await h.say(f"/history {ERROR_PHONES[0]}")
        sim.faults.http_status = None
        clock.advance(120)
        sim.faults.error_code = 9
        # One batched request meets error 9: its one line says so (the account backs off).
        assert "too many requests (error 9)" in await h.say(f"/last {ERROR_PHONES[1]}")
        sim.faults.error_code = None
        clock.advance(3600)

        # Another user logs in with their own key in private.
        answer = await say_key(h, f"/login {OTHER_KEY}", user_id=STRANGER)
        assert "Done" in answer and fingerprint(OTHER_KEY) in answer
        # A key sent in a group is burnt: deleted, not used.
        answer = await say_key(
            h, f"/login {BURNT_KEY}", user_id=AGENT, chat_id=GROUP, chat_type="group"
        )
        assert "Revoke" in answer
        answer = await say_key(
            h,
            f"/addkey grp {BURNT_ADMIN_KEY}",
            user_id=ADMIN,
            chat_id=GROUP,
            chat_type="supergroup",
        )
        assert "Revoke" in answer
        # A wrong key is refused by SMS Center (error 2) and not stored.
        answer = await say_key(h, f"/login {WRONG_KEY}", user_id=NEWCOMER)
        assert "did not accept" in answer
        assert await h.services.storage.get_member(NEWCOMER) is None
        # A key pasted without a command is not echoed anywhere either.
        await h.say(PASTED_KEY, user_id=NEWCOMER)

        for command in ("/keys", "/users", "/audit 50", "/whoami"):
            assert await h.say(command, user_id=ADMIN)
        assert "member" in await h.say("/whoami", user_id=STRANGER)
        telegram_calls += h.telegram.calls + h.telegram.failed_calls

    async with running_bot(tmp_path, sim, clock) as h:
        clock.advance(120)
        assert "(20)" in await h.say(f"/last {PHONE}")
        assert "(1)" in await h.say(f"/last {PHONE}", user_id=STRANGER)
        assert fingerprint(MAIN_KEY) in await h.say("/keys", user_id=ADMIN)
        telegram_calls += h.telegram.calls + h.telegram.failed_calls

    # The session really exercised what is scanned below (a scan of nothing proves nothing).
    assert sim.count("balance", MAIN_KEY) == 1 and sim.count("balance", OTHER_KEY) == 1
    assert sim.count("balance", WRONG_KEY) == 1 and sim.count("get", MAIN_KEY) >= 5
    assert sim.count(apikey=BURNT_KEY) == sim.count(apikey=BURNT_ADMIN_KEY) == 0
    assert any(isinstance(e, SmscRateLimited) for e in raised)
    assert any(isinstance(e, SmscBadCredentials) for e in raised)
    assert any(r.name.startswith("aiosqlite") for r in caplog.records)
    assert any(r.levelno == logging.DEBUG for r in caplog.records)

    # 1. Logs: every record formatted, tracebacks included.
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in caplog.records:
        line = formatter.format(record)
        assert occurrences(line) == [], f"{record.name}: {line[:300]}"
        if record.exc_text:
            assert occurrences(record.exc_text) == []

    # 2. Telegram: every outbound Bot API call, answered or failed.
    assert calls_json(telegram_calls) and occurrences(calls_json(telegram_calls)) == []

    # 3. Files: the database, its -wal/-shm and the key file, byte for byte.
    files = files_under(tmp_path)
    assert {"bot.sqlite3", "bot.sqlite3.key"} <= {path.name for path in files}
    for path, data in files.items():
        assert occurrences(data) == [], path.name

    # 4. SMS Center: keys travel in POST bodies, never in URLs.
    assert sim.requests
    for request in sim.requests:
        assert request.method == "POST"
        assert "apikey" not in request.query_string.lower()
        assert occurrences(request.query_string) == []

    # 5. Exceptions raised from SMS Center answers carry no key.
    for error in raised:
        assert occurrences(f"{error} {error!r} {error.args!r} {error.description}") == []


async def test_reprs_of_settings_clients_and_stored_objects_hide_keys(
    tmp_path: Path, clock: FakeClock
) -> None:
    fernet_key = Fernet.generate_key().decode()
    settings = load_settings(
        None,
        bot_token=BOT_TOKEN_SECRET,
        encryption_key=fernet_key,
        database_path=tmp_path / "bot.sqlite3",
    )
    assert settings.bot_token is not None
    assert settings.bot_token.get_secret_value() == BOT_TOKEN_SECRET
    shown = f"{settings!r} {settings} {settings.model_dump_json()}"
    assert BOT_TOKEN_SECRET not in shown and fernet_key not in shown

    cipher = KeyCipher(fernet_key.encode())
    assert fernet_key not in f"{cipher!r} {cipher}"
    async with SmscClient("https://smsc.ru") as client:
        assert occurrences(f"{client!r} {client}") == []

    async with await Storage.open(tmp_path / "bot.sqlite3", cipher) as storage:
        added = await storage.add_account("main", MAIN_KEY, added_by=ADMIN, now=clock())
        member = await storage.grant(AGENT, "main", granted_by=ADMIN, now=clock())
        own = await storage.login(STRANGER, OTHER_KEY, now=clock())
        read = await storage.get_account("main")
        assert read is not None and read.apikey == MAIN_KEY  # the key is there, just not shown
        for thing in (added, member, own, read, member.account, *await storage.list_members()):
            assert occurrences(f"{thing!r} {thing}") == [], type(thing).__name__
        assert occurrences(repr(await storage.list_accounts())) == []


async def test_key_file_is_private_and_shared_files_are_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.app")
    settings = load_settings(None, database_path=tmp_path / "data" / "bot.sqlite3")
    services = await Services.open(settings)
    await services.close()
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.database_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.database_path.parent.stat().st_mode) == 0o700
    assert not [r for r in caplog.records if "readable by other users" in r.getMessage()]
    caplog.clear()
    services = await Services.open(settings)
    await services.close()
    assert not [r for r in caplog.records if "readable by other users" in r.getMessage()]

    for path in (settings.database_path, settings.key_file):
        os.chmod(path, 0o644)
    caplog.clear()
    services = await Services.open(settings)
    await services.close()
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for path in (settings.database_path, settings.key_file):
        assert f"{path} is readable by other users; chmod 600 it" in warned


async def test_an_encryption_key_setting_creates_no_key_file_and_stays_out_of_the_database(
    tmp_path: Path, clock: FakeClock
) -> None:
    fernet_key = Fernet.generate_key().decode()
    settings = load_settings(
        None, database_path=tmp_path / "bot.sqlite3", encryption_key=fernet_key
    )
    services = await Services.open(settings, clock=clock)
    try:
        await services.storage.add_account("main", MAIN_KEY, added_by=ADMIN, now=clock())
    finally:
        await services.close()
    assert not settings.key_file.exists()
    files = files_under(tmp_path)
    assert files
    for path, data in files.items():
        assert fernet_key.encode() not in data and occurrences(data) == [], path.name
