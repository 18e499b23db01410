"""Accounts (issue 15, item 13; PRODUCT.md §5): one key is one account, names are
case-insensitive slugs, ``/rekey`` replaces a key keeping members, settings and the hour's
ledger and dropping what the bot held from the old key, and input no key can be is refused
before SMS Center is asked — on the real Dispatcher against the fakes."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.smsc.simulator import SimulatedSmsc
from bot.store import fingerprint, key_id
from bot.text import Lang
from bot.text import catalogue as texts
from bot.text.commands import usage
from tests.conftest import API_KEY
from tests.fakes.clock import FakeClock
from tests.fakes.updates import message_update
from tests.harness import ADMIN, AGENT, STRANGER, Harness, running_bot

PHONE = "79161234567"
NEW_KEY = "k3y-new-rotated-9999-8888-7777-6666aaaa"
OTHER_KEY = "k3y-other-1234-5678-9abc-def012345678"
GROUP = {"chat_id": -4242, "chat_type": "supergroup"}


def _files_under(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (the database, its -wal, the key file) with its bytes."""
    return {path.name: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def _balance_checks(h: Harness) -> int:
    return h.smsc_requests("balance")


# --- one key, one account ------------------------------------------------------------------------


async def test_the_same_key_under_a_second_name_is_refused_naming_the_account(
    harness: Harness,
) -> None:
    await harness.grant()
    checks = _balance_checks(harness)
    answer = await harness.say(f"/addkey backup {API_KEY}", user_id=ADMIN)
    assert "already the key of account <b>main</b>" in answer
    assert "<code>/grant USER_ID main</code>" in answer
    assert _balance_checks(harness) == checks  # refused without a key check
    assert await harness.services.storage.get_account("backup") is None
    russian = await harness.say(f"/addkey backup {API_KEY}", user_id=ADMIN, language_code="ru")
    assert "уже принадлежит аккаунту <b>main</b>" in russian


async def test_a_key_someone_logged_in_with_is_refused_naming_their_account(
    harness: Harness,
) -> None:
    await harness.say(f"/login {API_KEY}", user_id=STRANGER)
    answer = await harness.say(f"/addkey main {API_KEY}", user_id=ADMIN)
    assert f"account <b>personal-{STRANGER}</b>" in answer


# --- names: case-insensitive slugs ---------------------------------------------------------------


async def test_names_ignore_letter_case(harness: Harness, sim: SimulatedSmsc) -> None:
    sim.add_account(OTHER_KEY)
    added = await harness.say(f"/addkey Main {API_KEY}", user_id=ADMIN)
    assert "Account <b>main</b> added" in added
    taken = await harness.say(f"/addkey MAIN {OTHER_KEY}", user_id=ADMIN)
    assert "named <b>main</b> already exists" in taken and "/rekey main" in taken
    assert f"User <code>{AGENT}</code> now uses account <b>main</b>" in await harness.say(
        f"/grant {AGENT} mAiN", user_id=ADMIN
    )
    keys = await harness.say("/keys", user_id=ADMIN)
    assert keys.count("<b>main</b>") == 1


@pytest.mark.parametrize("lang", list(Lang))
def test_the_usage_of_addkey_says_latin_letters_and_case(lang: Lang) -> None:
    line = usage("addkey", lang)
    assert (
        ("Latin" in line and "case" in line)
        if lang is Lang.EN
        else ("латинские" in line and "регистр" in line)
    )


# --- input no key can be ---------------------------------------------------------------------


@pytest.mark.parametrize("command", ["/addkey spare {key}", "/login {key}", "/rekey main {key}"])
async def test_input_no_key_can_be_is_refused_before_sms_center_and_pauses_nothing(
    harness: Harness, sim: SimulatedSmsc, command: str
) -> None:
    await harness.grant()
    checks = _balance_checks(harness)
    # More typos than the three refused keys that pause key checks.
    for typo in ("my key 123", "ключ0123456789", "k" * 300, "zero\u200bwidth"):
        user = STRANGER if command.startswith("/login") else ADMIN
        answer = await harness.say(command.format(key=typo), user_id=user)
        assert "cannot be an SMS Center API key" in answer, answer
        assert typo not in answer
    assert _balance_checks(harness) == checks
    # Key checks were never paused: a real key is still checked and accepted.
    sim.add_account(OTHER_KEY)
    answer = await harness.say(f"/addkey spare {OTHER_KEY}", user_id=ADMIN)
    assert "Account <b>spare</b> added" in answer


# --- /rekey ------------------------------------------------------------------------------------


async def test_rekey_keeps_members_buttons_and_the_hour_and_drops_the_old_picture(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=1, message="old account")
    sim.add_account(NEW_KEY)
    sim.add_message(NEW_KEY, phone=PHONE, status=20, err=6, message="new account")
    await harness.grant(AGENT, STRANGER)
    await harness.say(f"/last {PHONE}")
    refresh = str(harness.last_markup()["inline_keyboard"][0][0]["callback_data"])
    answer_id = int(harness.telegram.messages_in(AGENT)[-1]["message_id"])
    old_key_id = key_id(API_KEY)
    assert old_key_id in harness.services.fetcher.batches.pictures
    await harness.say("/recent 3")  # an answer held for the old key
    left_before = await harness.say("/whoami")
    assert "left this hour: 28 of 30" in left_before

    answer = await harness.say(f"/rekey main {NEW_KEY}", user_id=ADMIN)

    assert "Account <b>main</b> now uses key" in answer
    assert fingerprint(NEW_KEY) in answer and fingerprint(API_KEY) in answer
    assert "its 2 members keep access" in answer and "balance 100.00" in answer
    assert sim.count("balance", NEW_KEY) == 1
    # The old key's picture is gone; the members stay, and the hour's count with them.
    assert old_key_id not in harness.services.fetcher.batches.pictures
    assert harness.services.fetcher.answers.forget(old_key_id) == 0  # the held answers too
    members = await harness.services.storage.list_members()
    assert {m.user_id for m in members} == {AGENT, STRANGER}
    assert "left this hour: 28 of 30" in await harness.say("/whoami")
    assert fingerprint(NEW_KEY) in await harness.say("/whoami", user_id=STRANGER)
    # Lookups now ask SMS Center with the new key, and the old answer's button still works.
    fresh = await harness.say(f"/last {PHONE}")
    assert "offline" in fresh and sim.count("get", NEW_KEY) == 1
    await harness.press(refresh, message_id=answer_id)
    press = harness.telegram.calls_of("answerCallbackQuery")[-1].params
    assert not press.get("show_alert") and "no longer valid" not in str(press.get("text"))
    assert sim.count("get", API_KEY) == 2  # /last and /recent: the old key was never used again


async def test_rekey_in_russian_counts_members_with_the_right_form(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_account(NEW_KEY)
    await harness.grant(AGENT, STRANGER, ADMIN + 1)
    answer = await harness.say(f"/rekey main {NEW_KEY}", user_id=ADMIN, language_code="ru")
    assert "доступ сохранили 3 участника" in answer


async def test_rekey_refusals_spend_no_key_check(harness: Harness, sim: SimulatedSmsc) -> None:
    sim.add_account(OTHER_KEY)
    await harness.grant()
    await harness.say(f"/addkey other {OTHER_KEY}", user_id=ADMIN)
    checks = _balance_checks(harness)
    assert "no account named <b>nope</b>" in await harness.say(
        f"/rekey nope {NEW_KEY}", user_id=ADMIN
    )
    assert "already the key of account <b>main</b>" in await harness.say(
        f"/rekey MAIN {API_KEY}", user_id=ADMIN
    )
    assert "already the key of account <b>other</b>" in await harness.say(
        f"/rekey main {OTHER_KEY}", user_id=ADMIN
    )
    assert "Usage: <code>/rekey NAME NEW_API_KEY</code>" in await harness.say(
        "/rekey main", user_id=ADMIN
    )
    assert _balance_checks(harness) == checks
    refused = await harness.say(f"/rekey main {NEW_KEY}", user_id=ADMIN)  # unknown to SMS Center
    assert texts.KEY_REFUSED(Lang.EN) in refused
    account = await harness.services.storage.get_account("main")
    assert account is not None and account.apikey == API_KEY  # nothing changed


async def test_rekey_in_a_group_or_by_a_member_is_deleted_and_never_used(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_account(NEW_KEY)
    await harness.grant()
    burnt = await harness.say(f"/rekey main {NEW_KEY}", user_id=ADMIN, **GROUP)
    assert "Revoke that key" in burnt
    assert "admins only" in await harness.say(f"/rekey main {NEW_KEY}")
    assert len(harness.telegram.calls_of("deleteMessage")) == 3  # /addkey's, and these two
    assert sim.count(apikey=NEW_KEY) == 0


async def test_the_rekey_path_never_logs_or_echoes_a_key(
    tmp_path: Path, sim: SimulatedSmsc, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sim.add_account(NEW_KEY)
    async with running_bot(tmp_path, sim, clock) as h:
        await h.grant()
        update = message_update(f"/rekey main {NEW_KEY}", user_id=ADMIN)
        await h.feed(update)
        deleted = {call.int_param("message_id") for call in h.telegram.calls_of("deleteMessage")}
        assert update["message"]["message_id"] in deleted
        assert "now uses key" in h.telegram.sent_texts()[-1]
        calls = json.dumps([[c.method, c.params] for c in h.telegram.calls], default=str)
    assert sim.count("balance", NEW_KEY) == 1  # the path really ran
    files = _files_under(tmp_path)
    assert any(name.endswith(".sqlite3") for name in files)
    for key in (API_KEY, NEW_KEY):
        for needle in (key, key[:16]):
            assert needle not in caplog.text and needle not in calls
            for name, data in files.items():
                assert needle.encode() not in data, name
