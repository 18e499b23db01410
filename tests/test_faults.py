"""The fault matrix (issue 5), end to end: the real Dispatcher and a real ``Bot`` against the fake
Telegram Bot API server and the simulated SMS Center, both on 127.0.0.1.

For every fault a test asserts the human answer, that the bot keeps serving the next update, and
that nothing is lost: the audit entry is written and the grants are intact.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.store import AuditEntry, KeyCipher
from tests.conftest import API_KEY, on_wire
from tests.fakes.clock import FakeClock
from tests.fakes.smsc_faults import Faults, FaultySmsc
from tests.fakes.sqlite import DISK_FULL, LOCKED, FailingConnection, open_failing
from tests.fakes.telegram import FakeTelegramServer
from tests.fakes.updates import message_update
from tests.harness import ADMIN, AGENT, Harness, running_bot, start_polling

PHONE = "79161234567"
OTHER_PHONE = "79035550011"
OTHER_KEY = "k3y-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
OTHER_AGENT = 601
NEWCOMER = 602  # no access yet
TIMEOUT = 0.5  # SMSC_TIMEOUT in these tests: a slower answer is a timeout


@pytest.fixture
async def smsc(clock: FakeClock) -> AsyncIterator[FaultySmsc]:
    """Two SMS Center accounts: the one under fault and another that keeps being served."""
    accounts: dict[str, list[dict[str, Any]]] = {API_KEY: [], OTHER_KEY: []}
    async with FaultySmsc(clock=clock, with_demo=False, accounts=accounts) as simulator:
        simulator.add_message(API_KEY, phone=PHONE, status=1)
        simulator.add_message(OTHER_KEY, phone=OTHER_PHONE, status=1)
        yield simulator


@pytest.fixture
async def granted(
    request: pytest.FixtureRequest, tmp_path: Path, smsc: FaultySmsc, clock: FakeClock
) -> AsyncIterator[Harness]:
    """The bot with ``SMSC_TIMEOUT`` = ``TIMEOUT``, AGENT and OTHER_AGENT granted (see
    ``grant_both``); over HTTP when the test is marked ``wire``."""
    wire = on_wire(request)
    async with running_bot(tmp_path, smsc, clock, smsc_timeout=TIMEOUT, wire=wire) as running:
        await grant_both(running)
        yield running


async def grant_both(h: Harness) -> None:
    """AGENT on the account under fault, OTHER_AGENT on another one."""
    await h.grant(AGENT)
    await h.grant(OTHER_AGENT, name="other", apikey=OTHER_KEY)


def one_line(answer: str) -> str:
    """The answer, asserted to be one line of words without a traceback."""
    text = answer.strip()
    assert text, "no answer was sent"
    assert "\n" not in text and "Traceback" not in text, text
    return text


async def audit_of(h: Harness, user_id: int, command: str) -> AuditEntry:
    """The newest audit entry of ``user_id`` for ``command``."""
    for entry in await h.services.storage.recent_audit(20):
        if entry.user_id == user_id and entry.command == command:
            return entry
    raise AssertionError(f"no audit entry for /{command} by {user_id}")


async def assert_nothing_lost_and_still_serving(h: Harness) -> None:
    """Both grants are intact, and the other account's member gets a fresh answer."""
    storage = h.services.storage
    for user_id, name in ((AGENT, "main"), (OTHER_AGENT, "other")):
        member = await storage.get_member(user_id)
        assert member is not None and member.account.name == name
    before = h.smsc_requests()
    answer = await h.say(f"/last {OTHER_PHONE}", user_id=OTHER_AGENT)
    assert "(1)" in answer and "delivered" in answer
    assert h.smsc_requests() > before  # a real answer from SMS Center, not a held one


# -- SMS Center ------------------------------------------------------------------------------


SMSC_FAULTS: list[Any] = [
    pytest.param({"http_status": 500}, "SMS Center is having trouble (HTTP 500)", id="http-500"),
    pytest.param({"http_status": 502}, "SMS Center is having trouble (HTTP 502)", id="http-502"),
    pytest.param({"http_status": 503}, "SMS Center is having trouble (HTTP 503)", id="http-503"),
    pytest.param({"malformed": "html"}, "an answer the bot cannot read", id="html-page"),
    pytest.param({"malformed": "truncated"}, "an answer the bot cannot read", id="truncated-json"),
    pytest.param({"malformed": "wrong_shape"}, "an answer the bot cannot read", id="wrong-shape"),
    pytest.param({"delay": 2 * TIMEOUT}, f"did not answer in {TIMEOUT:g} s", id="read-timeout"),
    pytest.param({"error_code": 1}, "rejected the request's parameters (error 1)", id="error-1"),
    pytest.param({"error_code": 2}, "refused this account's API key (error 2)", id="error-2"),
    pytest.param(
        {"error_code": 4}, "temporarily blocked the bot's IP address (error 4)", id="error-4"
    ),
    pytest.param({"error_code": 5}, "answered with error 5", id="error-5"),
    pytest.param({"error_code": 9}, "too many requests (error 9)", id="error-9"),
    pytest.param({"error_code": 7}, "answered with error 7", id="error-7-undocumented"),
]


@pytest.mark.parametrize(("fault", "expected"), SMSC_FAULTS)
async def test_smsc_fault_gets_one_human_line_and_loses_nothing(
    granted: Harness, smsc: FaultySmsc, fault: dict[str, Any], expected: str
) -> None:
    smsc.faults = Faults(**fault)
    answer = one_line(await granted.say(f"/last {PHONE}"))
    assert expected in answer
    assert granted.smsc_requests() >= 1  # the fault was met upstream, not imagined
    entry = await audit_of(granted, AGENT, "last")
    assert entry.argument == PHONE
    assert entry.outcome not in {"fresh", "cache"}
    smsc.faults = Faults()
    if fault.get("error_code") == 4:
        # The bot's IP is blocked, whichever account was refused: every account waits it out.
        before = granted.smsc_requests()
        answer = one_line(await granted.say(f"/last {OTHER_PHONE}", user_id=OTHER_AGENT))
        assert "will be updated by" in answer or "blocked" in answer, answer
        assert granted.smsc_requests() == before
        await granted.settle(30 * 60)  # the block ends and the waiting number is asked for
        assert granted.smsc_requests() == before + 1
        granted.clock.advance(120)  # past CACHE_TTL, so that the next answer is a fresh one
    await assert_nothing_lost_and_still_serving(granted)


@pytest.mark.parametrize(
    "fault",
    [pytest.param(Faults(), id="empty-list"), pytest.param(Faults(error_code=3), id="error-3")],
)
async def test_empty_history_is_said_plainly(
    granted: Harness, smsc: FaultySmsc, fault: Faults
) -> None:
    # SMS Center's page leaves open whether "nothing found" is [] or error 3: both read the same.
    smsc.faults = fault
    answer = await granted.say("/last 79990001122")
    first, _, freshness = answer.partition("\n\n")
    assert first == "No messages to <b>+7 999 000-11-22</b> found in the last six months."
    assert freshness.startswith("<i>as of ")
    assert (await audit_of(granted, AGENT, "last")).outcome == "fresh"
    smsc.faults = Faults()
    await assert_nothing_lost_and_still_serving(granted)


async def test_a_fault_during_history_is_one_line_audited_as_history(
    granted: Harness, smsc: FaultySmsc
) -> None:
    smsc.faults = Faults(http_status=500)
    answer = one_line(await granted.say(f"/history {PHONE}"))
    assert "SMS Center is having trouble (HTTP 500)" in answer
    entry = await audit_of(granted, AGENT, "history")
    assert entry.argument is not None and PHONE in entry.argument
    assert entry.outcome not in {"fresh", "cache"}
    smsc.faults = Faults()
    assert "member" in await granted.say("/whoami")
    await assert_nothing_lost_and_still_serving(granted)


async def test_smsc_connection_refused(granted: Harness, smsc: FaultySmsc) -> None:
    await smsc.refuse()
    answer = one_line(await granted.say(f"/last {PHONE}"))
    assert answer == "SMS Center cannot be reached right now — try again in a minute."
    assert (await audit_of(granted, AGENT, "last")).outcome == "SmscConnectError"
    await smsc.resume()
    await assert_nothing_lost_and_still_serving(granted)


@pytest.fixture
def blackhole() -> Iterator[str]:
    """An address whose connects hang: a listening socket with a full accept queue, so the
    kernel drops new SYNs and the client's connect timeout fires."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    host, port = server.getsockname()
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):  # the connect completes in the backlog
            filler.connect((host, port))
        fillers.append(filler)
    try:
        yield f"http://{host}:{port}"
    finally:
        for filler in fillers:
            filler.close()
        server.close()


async def test_smsc_connect_timeout(
    tmp_path: Path, smsc: FaultySmsc, clock: FakeClock, blackhole: str
) -> None:
    async with running_bot(tmp_path, smsc, clock, smsc_timeout=TIMEOUT) as first:
        await grant_both(first)
    checked_keys = smsc.count()  # /addkey checks each key with balance.php
    # The same database, with SMS Center's address now one that never accepts a connection.
    async with running_bot(
        tmp_path, smsc, clock, smsc_timeout=TIMEOUT, smsc_base_url=blackhole
    ) as harness:
        answer = one_line(await harness.say(f"/last {PHONE}"))
        assert answer == "SMS Center cannot be reached right now — try again in a minute."
        assert (await audit_of(harness, AGENT, "last")).outcome == "SmscConnectError"
        assert smsc.count() == checked_keys  # nothing reached SMS Center
        member = await harness.services.storage.get_member(AGENT)
        assert member is not None
    async with running_bot(tmp_path, smsc, clock, smsc_timeout=TIMEOUT) as again:
        await assert_nothing_lost_and_still_serving(again)


# -- Telegram --------------------------------------------------------------------------------


TELEGRAM_FAULTS: list[Any] = [
    pytest.param({"status": 429, "retry_after": 7}, [429], [7.0], id="429-retry-after"),
    pytest.param({"status": 502}, [502], [1.0], id="502-bad-gateway"),
    pytest.param(
        {"status": 502, "raw_body": "<html>502 Bad Gateway</html>"}, [502], [1.0], id="502-html"
    ),
    pytest.param({"status": 500, "times": 2}, [500, 500], [1.0, 2.0], id="500-twice"),
]


@pytest.mark.wire
@pytest.mark.parametrize(("failure", "statuses", "waits"), TELEGRAM_FAULTS)
async def test_telegram_refusing_a_send_is_retried_and_the_answer_arrives(
    granted: Harness, failure: dict[str, Any], statuses: list[int], waits: list[float]
) -> None:
    sent = len(granted.telegram.calls_of("sendMessage"))
    granted.telegram.fail_next("sendMessage", **failure)
    answer = await granted.say(f"/last {PHONE}")
    assert "(1)" in answer and "delivered" in answer
    assert [call.status for call in granted.telegram.failed_calls] == statuses
    assert len(granted.telegram.calls_of("sendMessage")) == sent + 1  # once, not twice
    assert granted.retry_waits == waits  # Telegram's retry_after, else 1 s then 2 s
    assert (await audit_of(granted, AGENT, "last")).outcome == "fresh"
    await assert_nothing_lost_and_still_serving(granted)


@pytest.mark.wire
async def test_a_network_error_while_sending_is_retried(granted: Harness) -> None:
    granted.telegram.disconnect_next("sendMessage")
    answer = await granted.say(f"/last {PHONE}")
    assert granted.retry_waits == [1.0]
    assert "(1)" in answer and "delivered" in answer
    assert (await audit_of(granted, AGENT, "last")).outcome == "fresh"
    await assert_nothing_lost_and_still_serving(granted)


@pytest.mark.wire
async def test_telegram_down_for_every_retry_still_says_try_again(
    granted: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    granted.telegram.fail_next("sendMessage", status=502, times=3)
    answer = one_line(await granted.say(f"/last {PHONE}"))
    # The answer itself was lost; the error line that follows it gets through.
    assert answer == "Something went wrong on the bot's side; it is logged. Please try again."
    assert (await audit_of(granted, AGENT, "last")).outcome == "TelegramServerError"
    assert "Bad Gateway" in caplog.text
    await assert_nothing_lost_and_still_serving(granted)


async def test_a_user_who_blocked_the_bot_is_logged_not_retried(
    granted: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    granted.telegram.fail_next("sendMessage", status=403)
    answer = await granted.say(f"/last {PHONE}")
    assert answer == ""  # nobody to answer: the one attempt was refused
    assert [call.status for call in granted.telegram.failed_calls] == [403]
    assert "bot was blocked by the user" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert (await audit_of(granted, AGENT, "last")).outcome == "TelegramForbiddenError"
    await assert_nothing_lost_and_still_serving(granted)


async def test_key_message_that_cannot_be_deleted_is_reported_to_the_sender(
    tmp_path: Path, smsc: FaultySmsc, clock: FakeClock
) -> None:
    async with running_bot(tmp_path, smsc, clock, allow_self_login=True) as harness:
        harness.telegram.fail_next(
            "deleteMessage", status=400, description="Bad Request: message can't be deleted"
        )
        answer = await harness.say(f"/login {OTHER_KEY}", user_id=AGENT)
        assert "I could not delete the message with the key — please delete it yourself." in answer
        member = await harness.services.storage.get_member(AGENT)
        assert member is not None and member.account.personal
        assert OTHER_KEY not in answer
        answer = await harness.say(f"/last {OTHER_PHONE}", user_id=AGENT)
        assert "(1)" in answer


async def test_a_key_in_a_group_the_bot_cannot_delete_asks_the_sender_to(
    granted: Harness,
) -> None:
    granted.telegram.fail_next(
        "deleteMessage", status=400, description="Bad Request: message can't be deleted"
    )
    answer = await granted.say(
        f"/login {OTHER_KEY}", user_id=NEWCOMER, chat_id=-99, chat_type="group"
    )
    assert "Revoke that key in SMS Center now" in answer
    assert answer.endswith(
        "I could not delete the message with the key — please delete it yourself."
    )
    assert OTHER_KEY not in answer
    assert granted.smsc_requests("balance") == 2  # the two /addkey checks, not this key
    assert await granted.services.storage.get_member(NEWCOMER) is None
    await assert_nothing_lost_and_still_serving(granted)


def edited(update: dict[str, Any], text: str) -> dict[str, Any]:
    """The update Telegram sends when the message of ``update`` is edited to ``text``."""
    message = {**update["message"], "text": text, "edit_date": update["message"]["date"] + 30}
    return {"update_id": update["update_id"] + 100_000, "edited_message": message}


async def test_an_edited_command_is_answered_as_the_corrected_question(granted: Harness) -> None:
    typo = message_update("/last 7916", user_id=AGENT)
    await granted.feed(typo)
    assert granted.telegram.sent_texts()[-1].startswith("Too few digits for a phone number")
    assert granted.smsc_requests() == 0
    before = len(granted.telegram.sent_texts())
    await granted.feed(edited(typo, f"/last {PHONE}"))
    answer = "\n".join(granted.telegram.sent_texts()[before:])
    assert "(1)" in answer and "delivered" in answer
    assert granted.smsc_requests() >= 1
    assert (await audit_of(granted, AGENT, "last")).argument == PHONE


# -- storage -----------------------------------------------------------------------------------

STORAGE_ERROR = (
    "The bot's database is busy or unavailable — nothing was changed. Try again in a moment."
)
HOLD_LOCK = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
"""


async def test_database_locked_by_another_process_for_seconds_is_waited_out(
    granted: Harness,
) -> None:
    # Another process (a backup, a second bot by mistake) holds the write lock for 1.5 s:
    # shorter than the 5 s busy_timeout, so the writes wait instead of failing.
    database = str(granted.settings.database_path)
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLD_LOCK, database, "1.5", stdout=asyncio.subprocess.PIPE
    )
    assert holder.stdout is not None
    assert await asyncio.wait_for(holder.stdout.readline(), 10) == b"locked\n"
    granted_line, answer = await asyncio.gather(
        granted.say(f"/grant {NEWCOMER} main", user_id=ADMIN), granted.say(f"/last {PHONE}")
    )
    assert await holder.wait() == 0
    assert granted_line == f"User <code>{NEWCOMER}</code> now uses account <b>main</b>."
    assert "(1)" in answer and "delivered" in answer
    member = await granted.services.storage.get_member(NEWCOMER)
    assert member is not None and member.account.name == "main"
    assert (await audit_of(granted, AGENT, "last")).outcome == "fresh"
    await assert_nothing_lost_and_still_serving(granted)


@pytest.fixture
async def failing(
    tmp_path: Path, smsc: FaultySmsc, clock: FakeClock
) -> AsyncIterator[tuple[Harness, FailingConnection]]:
    """A granted bot whose database connection fails on cue (``conn.fail_on``)."""
    path = tmp_path / "data" / "bot.sqlite3"
    storage, connection = await open_failing(path, KeyCipher.load(None, path.with_suffix(".key")))
    async with running_bot(tmp_path, smsc, clock, storage=storage) as harness:
        await grant_both(harness)
        yield harness, connection


def raw_rows(h: Harness, table: str) -> int:
    """Rows of ``table`` as another process would see them in the file."""
    with contextlib.closing(sqlite3.connect(h.settings.database_path)) as raw:
        (count,) = raw.execute(f"SELECT COUNT(*) FROM {table}").fetchone()  # noqa: S608
    return int(count)


@pytest.mark.parametrize("error", [DISK_FULL, LOCKED])
async def test_a_failed_grant_says_so_and_leaves_no_row(
    failing: tuple[Harness, FailingConnection], error: str
) -> None:
    harness, connection = failing
    members = raw_rows(harness, "members")
    connection.fail_on, connection.error = "INSERT INTO members", error
    answer = one_line(await harness.say(f"/grant {NEWCOMER} main", user_id=ADMIN))
    assert answer == STORAGE_ERROR
    assert connection.failures == 1
    assert raw_rows(harness, "members") == members
    assert await harness.services.storage.get_member(NEWCOMER) is None
    connection.fail_on = None
    await assert_nothing_lost_and_still_serving(harness)
    granted_line = await harness.say(f"/grant {NEWCOMER} main", user_id=ADMIN)
    assert "now uses account" in granted_line


async def test_a_full_disk_during_a_lookup_still_answers(
    failing: tuple[Harness, FailingConnection], caplog: pytest.LogCaptureFixture
) -> None:
    harness, connection = failing
    connection.fail_on = "INSERT INTO quota_ledger"  # after SMS Center already answered
    answer = await harness.say(f"/last {PHONE}")
    assert "(1)" in answer and "delivered" in answer
    assert connection.failures == 1
    assert "could not record a request" in caplog.text and "disk is full" in caplog.text
    assert raw_rows(harness, "quota_ledger") == 0
    # The request still counts in memory: the budget is not handed out twice.
    budget = harness.services.fetcher.budget
    member = await harness.services.storage.get_member(AGENT)
    assert member is not None
    assert await budget.remaining(member.account.key_id) == harness.settings.smsc_hourly_budget - 1
    assert (await audit_of(harness, AGENT, "last")).outcome == "fresh"
    connection.fail_on = None
    await assert_nothing_lost_and_still_serving(harness)


async def test_a_full_disk_for_the_audit_log_still_answers(
    failing: tuple[Harness, FailingConnection], caplog: pytest.LogCaptureFixture
) -> None:
    harness, connection = failing
    entries = raw_rows(harness, "audit")
    connection.fail_on = "INSERT INTO audit"
    answer = await harness.say(f"/last {PHONE}")
    assert "(1)" in answer and "delivered" in answer
    assert "could not write the audit entry for /last" in caplog.text
    assert raw_rows(harness, "audit") == entries
    connection.fail_on = None
    await assert_nothing_lost_and_still_serving(harness)
    assert (await audit_of(harness, OTHER_AGENT, "last")).outcome == "fresh"


async def test_a_full_disk_during_login_keeps_no_half_account(
    failing: tuple[Harness, FailingConnection],
) -> None:
    harness, connection = failing
    accounts = raw_rows(harness, "accounts")
    connection.fail_on = "INSERT INTO members"  # after the personal account's row
    answer = await harness.say(f"/login {OTHER_KEY}", user_id=NEWCOMER)
    assert STORAGE_ERROR in answer
    chat = harness.telegram.messages_in(NEWCOMER)
    assert chat and all(OTHER_KEY not in message.get("text", "") for message in chat)  # deleted
    assert raw_rows(harness, "accounts") == accounts
    assert await harness.services.storage.get_member(NEWCOMER) is None
    connection.fail_on = None
    await assert_nothing_lost_and_still_serving(harness)


# -- shutdown ----------------------------------------------------------------------------------


async def until(condition: Callable[[], bool], within: float = 20.0) -> None:
    """Wait (real time, a safety net) until ``condition()`` holds."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - the state lives in another process
            await asyncio.sleep(0.05)


async def test_sigterm_while_smsc_is_answering_sends_the_answers_then_exits_0(
    tmp_path: Path, smsc: FaultySmsc
) -> None:
    # One process, two lookups in flight at SIGTERM: one SMS Center answers within the 2 s
    # timeout (its answer is sent), one it never answers (the timeout's "try again" is sent).
    async with FakeTelegramServer() as telegram:
        process = await start_polling(
            tmp_path, telegram, smsc.base_url, SMSC_TIMEOUT="2", BATCH_GATHER="0"
        )
        try:
            await telegram.wait_for_call("getUpdates", timeout=20)
            setup = [
                (f"/addkey main {API_KEY}", ADMIN),
                (f"/grant {AGENT} main", ADMIN),
                (f"/addkey other {OTHER_KEY}", ADMIN),
                (f"/grant {OTHER_AGENT} other", ADMIN),
            ]
            for count, (line, user_id) in enumerate(setup, start=1):
                telegram.push_update(message_update(line, user_id=user_id))
                await telegram.wait_for_call("sendMessage", count=count, timeout=20)
            # Faults are taken when a request arrives: each lookup keeps its own delay.
            smsc.faults = Faults(delay=30.0, only="get")
            telegram.push_update(message_update(f"/last {PHONE}", user_id=AGENT))
            await until(lambda: smsc.count("get") == 1)  # SMS Center has the request now
            smsc.faults = Faults(delay=1.0, only="get")
            telegram.push_update(message_update(f"/last {OTHER_PHONE}", user_id=OTHER_AGENT))
            await until(lambda: smsc.count("get") == 2)
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    # What each chat shows in the end: its last message, or the last edit of it.
    answers = {
        call.int_param("chat_id"): call.text or ""
        for call in telegram.calls
        if call.method in ("sendMessage", "editMessageText")
    }
    assert len(telegram.calls_of("sendMessage")) == len(setup) + 2  # one answer each
    assert "SMS Center did not answer in 2 s — try again shortly." in answers[AGENT]
    assert "delivered" in answers[OTHER_AGENT]
    assert "Traceback" not in err.decode()


async def test_a_key_edited_into_a_message_is_deleted_like_a_new_one(granted: Harness) -> None:
    draft = message_update("/login", user_id=NEWCOMER)
    await granted.feed(draft)
    await granted.feed(edited(draft, f"/login {OTHER_KEY}"))
    deleted = granted.telegram.calls_of("deleteMessage")
    assert deleted[-1].params["message_id"] == draft["message"]["message_id"]
    assert all(OTHER_KEY not in m.get("text", "") for m in granted.telegram.messages_in(NEWCOMER))
    member = await granted.services.storage.get_member(NEWCOMER)
    assert member is not None and member.account.name == "other"  # the key's existing account
