"""What admins and people without access are told (issue 15, items 11, 12, 14): an admin who is
no member is shown the ``/grant`` that lets them in, ``/help`` lists only what the asker may use,
and ``/audit`` says outcomes in words and, like ``/users``, only in a private chat."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from bot.chat.arguments import BadArgument
from bot.chat.audit import outcome_code, outcome_words
from bot.chat.caller import NotAuthorized
from bot.fetch import HeldBack, QuotaExhausted
from bot.smsc import SmscBadCredentials, SmscTimeout
from bot.smsc.simulator import SimulatedSmsc
from bot.store import StorageError
from bot.text import Lang
from bot.text import catalogue as texts
from bot.text.commands import help_sections
from handlers.errors import ERROR_WORDS
from tests.conftest import API_KEY
from tests.harness import ADMIN, AGENT, STRANGER, Harness

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


# --- 12: /audit in words, /audit and /users in private chats only -------------------------------


async def test_audit_says_outcomes_in_words_in_both_languages(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone=PHONE)
    await harness.grant()
    await harness.say(f"/last {PHONE}")  # fresh
    await harness.say("/history 12")  # BadArgument
    await harness.say(f"/last {PHONE}", user_id=STRANGER)  # NotAuthorized
    english = await harness.say("/audit", user_id=ADMIN)
    russian = await harness.say("/audit", user_id=ADMIN, language_code="ru")
    for internal in ("BadArgument", "NotAuthorized", "QuotaExhausted", "→ fresh"):
        assert internal not in english and internal not in russian
    assert "refused: no access" in english and "not understood" in english
    assert "fresh from SMS Center" in english
    assert "отказ: нет доступа" in russian and "не понято" in russian


def test_every_recorded_outcome_has_words() -> None:
    class Unforeseen(Exception):
        pass

    class SlowerStill(SmscTimeout):  # a subclass is recorded as its nearest ancestor with words
        pass

    recorded = {
        BadArgument("usage"): "BadArgument",
        NotAuthorized(): "NotAuthorized",
        QuotaExhausted(fresh_possible_at=0.0, reason=HeldBack.BUDGET): "QuotaExhausted",
        SlowerStill(): "SmscTimeout",
        SmscBadCredentials("get", 2, "bad key"): "SmscBadCredentials",
        sqlite3.OperationalError("database is locked"): "StorageError",
        Unforeseen(): "error",
    }
    for error, code in recorded.items():
        assert outcome_code(error) == code
        for lang in Lang:
            assert outcome_words(code, lang) == texts.AUDIT_OUTCOMES[code](lang)
    # Every error the error router has words for has audit words of its own.
    for cls in ERROR_WORDS:
        assert (
            cls is sqlite3.Error
            or cls.__name__ in texts.AUDIT_OUTCOMES
            or issubclass(cls, StorageError)
        ), cls
    assert outcome_words("pending:budget", Lang.RU) == texts.AUDIT_OUTCOMES["pending"](Lang.RU)
    assert outcome_words("hint", Lang.EN) == "hint"  # a lookup's own word is shown as it is


@pytest.mark.parametrize("command", ["/audit", "/users"])
async def test_audit_and_users_answer_only_in_a_private_chat(
    harness: Harness, sim: SimulatedSmsc, command: str
) -> None:
    sim.add_message(API_KEY, phone=PHONE)
    await harness.grant()
    await harness.say(f"/last {PHONE}")
    answer = await harness.say(command, user_id=ADMIN, **GROUP)
    assert answer == "Send this command to me in a private chat."
    assert PHONE not in answer and str(AGENT) not in answer
    russian = await harness.say(
        command, user_id=ADMIN, language_code="ru", chat_id=-5, chat_type="group"
    )
    assert russian == "Пришлите эту команду мне в личном чате."
    assert str(AGENT) in await harness.say(command, user_id=ADMIN)  # and in private it works
