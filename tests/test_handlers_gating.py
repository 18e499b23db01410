"""Roles gated once per router, errors turned into words in one table, and the refresh edit that
no longer hides real failures — on the real Dispatcher against the fakes."""

from __future__ import annotations

import ast
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest

from bot.chat.arguments import BadArgument
from bot.chat.caller import NotAuthorized, PrivateChatOnly
from bot.chat.keys import KeyRefused, KeyUnchecked
from bot.fetch import HeldBack, KeyChecksPaused, NumberNotReached, QuotaExhausted, UserRateLimited
from bot.settings import load_settings
from bot.smsc import (
    SmscApiError,
    SmscBadCredentials,
    SmscBadParameters,
    SmscConnectError,
    SmscDeleteFailed,
    SmscError,
    SmscHTTPError,
    SmscIPBlocked,
    SmscMalformedResponse,
    SmscNotFound,
    SmscRateLimited,
    SmscTimeout,
    SmscTransportError,
)
from bot.smsc.simulator import SimulatedSmsc
from bot.store import AccountExists, KeyInUse, NoSuchAccount, StorageError
from bot.text import Lang
from bot.text import catalogue as texts
from handlers.errors import ERROR_WORDS, Asker, words_for
from tests.conftest import API_KEY
from tests.fakes.bot_api_methods import NOT_MODIFIED
from tests.fakes.clock import FakeClock
from tests.fakes.updates import callback_update
from tests.harness import ADMIN, AGENT, STRANGER, Harness, running_bot

ROOT = Path(__file__).resolve().parent.parent
PHONE = "79161234567"
GROUP: dict[str, Any] = {"chat_id": -4242, "chat_type": "supergroup"}


# --- the house ------------------------------------------------------------------------------


def _imported(tree: ast.Module) -> Iterator[str]:
    """The modules a file imports; a relative import is one of its own package."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield "handlers" if node.level else node.module or ""


def test_no_handlers_module_imports_another() -> None:
    for path in sorted((ROOT / "handlers").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert not [m for m in _imported(tree) if m.split(".")[0] == "handlers"], path.name


def test_roles_are_checked_in_one_place() -> None:
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("bot", "handlers")
        for path in (ROOT / folder).rglob("*.py")
    )
    assert sources.count("require_admin(") <= 1 and sources.count("require_account(") <= 1


# --- one table from exception to words ------------------------------------------------------

_EXAMPLES: list[BaseException] = [
    BadArgument("the <b>usage</b>"),
    NotAuthorized(),
    NotAuthorized(admin_only=True),
    PrivateChatOnly(),
    KeyRefused(),
    KeyUnchecked(SmscTimeout("balance")),
    AccountExists("main"),
    KeyInUse("main"),
    NoSuchAccount("<x>"),
    UserRateLimited(0.2),
    QuotaExhausted(3600.0, HeldBack.SHARE),
    QuotaExhausted(3600.0, HeldBack.BACKOFF),
    KeyChecksPaused(1800.0),
    NumberNotReached("x"),
    SmscError("x"),
    SmscConnectError("x"),
    SmscTimeout("x"),
    SmscHTTPError("get", 502),
    SmscMalformedResponse("x"),
    SmscApiError("get", 77, "<odd> error"),
    SmscBadParameters("get", 1, "bad"),
    SmscBadCredentials("get", 2, "bad"),
    SmscNotFound("get", 3, "none"),
    SmscIPBlocked("get", 4, "blocked"),
    SmscRateLimited("get", 9, "slow"),
    StorageError("busy"),
    sqlite3.OperationalError("database is locked"),
]


@pytest.mark.parametrize("lang", list(Lang))
def test_every_error_in_the_table_has_a_line_in_both_languages(lang: Lang) -> None:
    asker = Asker(lang, load_settings(None), caller=None)
    assert ERROR_WORDS.keys() <= {cls for exc in _EXAMPLES for cls in type(exc).__mro__}
    for exc in _EXAMPLES:
        line = words_for(exc, asker)
        assert line and "{" not in line, exc


def test_the_most_specific_class_has_the_words() -> None:
    asker = Asker(Lang.EN, load_settings(None, smsc_timeout=7.0), caller=None)
    assert "did not answer in 7 s" in (words_for(SmscTimeout("get"), asker) or "")
    assert words_for(SmscTransportError("get"), asker) == texts.SMSC_CONNECT(Lang.EN)
    assert words_for(SmscError("x"), asker) == texts.SMSC_CONNECT(Lang.EN)
    other = words_for(SmscDeleteFailed("status", 5, "<delete> failed"), asker) or ""
    assert "error 5: &lt;delete&gt; failed" in other  # SMS Center's words are escaped
    assert "<b>&lt;x&gt;</b>" in (words_for(NoSuchAccount("<x>"), asker) or "")
    assert words_for(ValueError("unexpected"), asker) is None  # logged, "something went wrong"


def test_a_key_not_checked_says_why_in_the_same_words() -> None:
    asker = Asker(Lang.RU, load_settings(None), caller=None)
    line = words_for(KeyUnchecked(SmscHTTPError("balance", 503)), asker) or ""
    assert line.startswith("Ключ не удалось проверить") and "HTTP 503" in line


# --- the gates, end to end -------------------------------------------------------------------


async def test_every_lookup_is_refused_to_a_stranger_audited_and_never_asked(
    tmp_path: Path, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    async with running_bot(tmp_path, sim, clock) as h:
        for text in (f"/last {PHONE}", PHONE, f"/history {PHONE}", "/recent", "/failed"):
            answer = await h.say(text, user_id=STRANGER)
            assert "no access" in answer and str(STRANGER) in answer
        assert "no access" in await h.say(f"/status 1 {PHONE}", user_id=STRANGER)
        assert h.smsc_requests() == 0 and h.smsc_requests("status") == 0
        audit = await h.services.storage.recent_audit(10)
        assert len(audit) == 6 and {entry.outcome for entry in audit} == {"NotAuthorized"}


async def test_a_strangers_button_press_is_refused_but_an_unknown_button_only_expired(
    tmp_path: Path, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=1)
    async with running_bot(tmp_path, sim, clock) as h:
        await h.grant(AGENT)
        await h.say(f"/last {PHONE}")
        data = h.last_markup()["inline_keyboard"][0][0]["callback_data"]
        message_id = h.telegram.messages_in(AGENT)[-1]["message_id"]
        before = h.smsc_requests()
        await h.press(data, message_id=message_id, user_id=STRANGER)
        await h.press("not-ours", message_id=message_id, user_id=STRANGER)
        alerts = [call.params["text"] for call in h.telegram.calls_of("answerCallbackQuery")]
        assert "no access" in alerts[0] and alerts[1] == texts.BUTTON_EXPIRED(Lang.EN)
        assert h.smsc_requests() == before


async def test_a_non_admins_key_is_deleted_before_the_refusal(
    tmp_path: Path, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    async with running_bot(tmp_path, sim, clock) as h:
        assert "admins only" in await h.say(f"/addkey main {API_KEY}", user_id=STRANGER)
        methods = [call.method for call in h.telegram.calls]
        assert methods.index("deleteMessage") < methods.index("sendMessage")
        assert h.smsc_requests("balance") == 0
        # Without a key there is nothing to delete, and in a group the refusal is the same.
        assert "admins only" in await h.say("/addkey", user_id=STRANGER, **GROUP)
        assert len(h.telegram.calls_of("deleteMessage")) == 1


async def test_account_errors_raised_by_the_store_are_answered_with_the_name(
    tmp_path: Path, sim: SimulatedSmsc, clock: FakeClock
) -> None:
    async with running_bot(tmp_path, sim, clock) as h:
        assert "no account named <b>nope</b>" in await h.say(f"/grant {AGENT} nope", user_id=ADMIN)
        assert "no account named <b>nope</b>" in await h.say("/delkey nope", user_id=ADMIN)
        await h.grant(AGENT)
        checks = h.smsc_requests("balance")
        again = await h.say(f"/addkey main {API_KEY}", user_id=ADMIN)
        assert "<b>main</b> already exists" in again
        assert h.smsc_requests("balance") == checks  # a taken name spends no key check
        refused = await h.say("/login wrong-key", user_id=STRANGER)
        assert refused == texts.KEY_REFUSED(Lang.EN)


# --- the refresh edit -----------------------------------------------------------------------


async def _answer_with_a_button(h: Harness) -> tuple[str, int]:
    await h.grant(AGENT)
    await h.say(f"/last {PHONE}")
    data = h.last_markup()["inline_keyboard"][0][0]["callback_data"]
    return data, int(h.telegram.messages_in(AGENT)[-1]["message_id"])


async def test_refreshing_an_unchanged_answer_is_not_an_error(
    tmp_path: Path, sim: SimulatedSmsc, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=1)
    async with running_bot(tmp_path, sim, clock) as h:
        data, message_id = await _answer_with_a_button(h)
        for _ in range(2):  # the second press finds the first press's answer unchanged
            await h.feed(callback_update(data, message_id=message_id, user_id=AGENT))
        assert [c.description for c in h.telegram.failed_calls] == [NOT_MODIFIED]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        answers = h.telegram.calls_of("answerCallbackQuery")
        assert len(answers) == 2 and not any(call.params.get("text") for call in answers)


async def test_a_refresh_edit_refused_for_another_reason_is_logged_not_swallowed(
    tmp_path: Path, sim: SimulatedSmsc, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=1)
    async with running_bot(tmp_path, sim, clock) as h:
        data, message_id = await _answer_with_a_button(h)
        h.telegram.fail_next(
            "editMessageText", status=400, description="Bad Request: message to edit not found"
        )
        await h.feed(callback_update(data, message_id=message_id, user_id=AGENT))
        failed = [r for r in caplog.records if r.getMessage().endswith(" failed")]
        assert len(failed) == 1 and failed[0].levelno == logging.ERROR
        assert failed[0].exc_info is not None
        assert isinstance(failed[0].exc_info[1], TelegramBadRequest)
        audit = await h.services.storage.recent_audit(1)
        # Recorded as its nearest class with words (/audit: "Telegram refused the answer").
        assert audit[0].command == "button" and audit[0].outcome == "TelegramAPIError"
