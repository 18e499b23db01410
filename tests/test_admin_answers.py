"""What admins and people without access are told (issue 15, items 11, 12, 14): an admin who is
no member is shown the ``/grant`` that lets them in, ``/help`` lists only what the asker may use,
and ``/audit`` says outcomes in words and, like ``/users``, only in a private chat."""

from __future__ import annotations

from typing import Any

import pytest

from bot.smsc.simulator import SimulatedSmsc
from bot.text import Lang
from bot.text.commands import help_sections
from tests.conftest import API_KEY
from tests.harness import ADMIN, STRANGER, Harness

PHONE = "79161234567"
GROUP: dict[str, Any] = {"chat_id": -4242, "chat_type": "supergroup"}
OTHER_KEY = "k3y-other-0000-1111-2222-333344445555"


# --- 11: an admin who is not a member is told to /grant themselves ------------------------------


async def test_an_admin_without_an_account_is_told_to_addkey_then_grant(harness: Harness) -> None:
    answer = await harness.say(f"/last {PHONE}", user_id=ADMIN)
    assert "<code>/addkey NAME API_KEY</code>" in answer
    assert f"<code>/grant {ADMIN} NAME</code>" in answer
    assert "Ask an admin" not in answer
    assert harness.smsc_requests() == 0


async def test_an_admin_who_is_no_member_gets_the_exact_grant_command(harness: Harness) -> None:
    await harness.grant()  # "main" exists, AGENT is its member, the admin is not
    answer = await harness.say(f"/last {PHONE}", user_id=ADMIN)
    assert f"<code>/grant {ADMIN} main</code>" in answer and "Ask an admin" not in answer
    russian = await harness.say(f"/history {PHONE}", user_id=ADMIN, language_code="ru")
    assert f"<code>/grant {ADMIN} main</code>" in russian and "администратора" not in russian
    # /help says the same, and the command it shows works.
    help_text = await harness.say("/help", user_id=ADMIN)
    assert f"<code>/grant {ADMIN} main</code>" in help_text
    await harness.say(f"/grant {ADMIN} main", user_id=ADMIN)
    assert (await harness.services.storage.get_member(ADMIN)) is not None


async def test_with_several_accounts_the_admin_is_shown_their_names(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_account(OTHER_KEY)
    await harness.grant()
    await harness.say(f"/addkey backup {OTHER_KEY}", user_id=ADMIN)
    await harness.say(f"/login {API_KEY}", user_id=STRANGER)  # a personal account is not offered
    answer = await harness.say(f"/last {PHONE}", user_id=ADMIN)
    assert f"<code>/grant {ADMIN} NAME</code>" in answer and "backup, main" in answer


async def test_someone_else_without_access_is_still_asked_to_see_an_admin(
    harness: Harness,
) -> None:
    answer = await harness.say(f"/last {PHONE}", user_id=STRANGER)
    assert "Ask an admin" in answer and "/grant" not in answer and "/login" in answer


# --- 14: /help lists only what the asker may use -------------------------------------------------


@pytest.mark.parametrize("lang", list(Lang))
def test_help_for_someone_without_access_has_no_lookups_and_no_logout(lang: Lang) -> None:
    guest = "\n\n".join(help_sections(lang, admin=False, self_login=True, member=False))
    member = "\n\n".join(help_sections(lang, admin=False, self_login=True, member=True))
    for command in ("/last", "/history", "/recent", "/failed", "/status", "/logout"):
        assert command not in guest and command in member
    assert "/whoami" in guest and "/login" in guest


async def test_help_of_a_stranger_an_admin_and_a_member(harness: Harness) -> None:
    stranger = await harness.say("/help", user_id=STRANGER)
    assert "/whoami" in stranger and "/login" in stranger
    for command in ("/last", "/history", "/recent", "/failed", "/status", "/logout", "/addkey"):
        assert command not in stranger
    admin = await harness.say("/help", user_id=ADMIN)
    assert "/addkey" in admin and "/history" not in admin and "/logout" not in admin
    await harness.grant()
    member = await harness.say("/help")
    assert "/history" in member and "/logout" in member and "/addkey" not in member
    russian = await harness.say("/help", user_id=STRANGER, language_code="ru")
    assert "/whoami" in russian and "/last" not in russian and "Проверка" not in russian
