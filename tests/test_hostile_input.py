"""Hostile input (issue 5): whatever people type, press or SMS Center sends, the bot answers safely.

Properties run through the real doors: the real Dispatcher and a real ``Bot`` against the fake
Telegram server and the simulated SMS Center (``tests/harness.py``). For every update:

- no exception escapes the Dispatcher and nothing is logged at ERROR (the error router's
  "something went wrong" path logs there);
- Telegram accepts every call (``failed_calls`` stays empty: the HTML parses, no text is over
  4096 characters, no alert over 200) and every text sent is at most 4096 characters;
- SMS Center hears of a number only when the user typed that very number: an argument with no
  valid number in it makes no request at all, and a clean valid number does make one (so the
  "no request" check can fail);
- a pressed button is always answered, and one the bot could not have made (garbage, another
  member's, a deleted account's, under an inaccessible message) is refused without a request.

Hypothesis runs a ``@given`` body many times inside one test, and pytest's function-scoped
async fixtures cannot be shared across those runs (Hypothesis' ``function_scoped_fixture``
health check). So each property test is synchronous: it starts one bot on an event loop of its
own (``bot_on_own_loop``) and every example drives that bot with ``run``. The fake clock moves an
hour between examples, so caches, the per-user guard and the hourly budget never decide an
example's outcome.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.chat.arguments import looks_like_key
from bot.smsc.simulator import RecordedRequest, SimulatedSmsc
from bot.text import InvalidPhone, parse_phone
from tests.conftest import API_KEY
from tests.fakes.bot_api import ApiCall
from tests.fakes.clock import FakeClock
from tests.fakes.updates import BOT_USERNAME, callback_update, message_update
from tests.harness import ADMIN, AGENT, STRANGER, Harness, running_bot

T = TypeVar("T")

TELEGRAM_TEXT_LIMIT = 4096
ALERT_LIMIT = 200
HOUR = 3600.0
OTHER_AGENT = 601
GROUP = -1_000_000_004_242
IN_GROUP: dict[str, Any] = {"chat_id": GROUP, "chat_type": "supergroup"}
PHONE = "79161234567"
TELEGRAM_NAME_LIMIT = 64  # a first name is 1-64 characters

# Deterministic (CI runs the same examples every time) and quick: a few seconds per test.
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- a bot on an event loop of its own, for Hypothesis bodies to drive --------------------------


class LoopBot:
    """A running bot (``running_bot``) and the event loop it lives on."""

    def __init__(self, runner: asyncio.Runner, harness: Harness) -> None:
        self._runner = runner
        self.harness = harness

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` to its end on the bot's loop."""
        return self._runner.run(coroutine)


@contextmanager
def bot_on_own_loop(tmp_path: Path, **overrides: Any) -> Iterator[LoopBot]:
    """Start the simulated SMS Center and the bot on a fresh event loop; stop both afterwards."""
    clock = FakeClock()
    with asyncio.Runner() as runner:
        stack = AsyncExitStack()
        try:
            sim = runner.run(
                stack.enter_async_context(
                    SimulatedSmsc(clock=clock, with_demo=False, accounts={API_KEY: []})
                )
            )
            harness = runner.run(
                stack.enter_async_context(running_bot(tmp_path, sim, clock, **overrides))
            )
            yield LoopBot(runner, harness)
        finally:
            runner.run(stack.aclose())


# --- what one update caused ---------------------------------------------------------------------


@dataclass
class Exchange:
    """The Bot API calls and SMS Center requests one update caused."""

    calls: list[ApiCall]
    requests: list[RecordedRequest]

    def of(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    @property
    def phones_asked(self) -> list[str]:
        return [r.params["phone"] for r in self.requests if "phone" in r.params]


async def exchange(h: Harness, update: dict[str, Any]) -> Exchange:
    """Feed ``update`` (an exception escaping the Dispatcher fails the test) and check that
    Telegram accepted every call it caused and that no text is over Telegram's limits."""
    calls, failed, requests = (
        len(h.telegram.calls),
        len(h.telegram.failed_calls),
        len(h.smsc.requests),
    )
    await h.feed(update)
    failures = h.telegram.failed_calls[failed:]
    assert not failures, [(c.method, c.status, c.description) for c in failures]
    caused = Exchange(h.telegram.calls[calls:], h.smsc.requests[requests:])
    for call in caused.calls:
        text = call.text or ""
        limit = ALERT_LIMIT if call.method == "answerCallbackQuery" else TELEGRAM_TEXT_LIMIT
        assert len(text) <= limit, (call.method, len(text))
    return caused


def assert_nothing_logged_as_error(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


# --- hostile text -------------------------------------------------------------------------------

# The marks a phone's copy adds: parse_phone drops them (issue 15, item 9).
PASTE_MARKS = [
    "\u200b",  # zero-width space
    "\u200c",
    "\u200d",
    "\ufeff",  # byte order mark
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",  # right-to-left override
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
]
# Other invisible characters: refused.
OTHER_INVISIBLE = ["\u2060", "\u061c", "\u00ad", "\u180e"]  # joiner, Arabic mark, soft hyphen
INVISIBLE = PASTE_MARKS + OTHER_INVISIBLE
LOOK_ALIKE_DIGITS = ["７９９", "٧٩٩", "۷۹۹", "७९९", "𝟕𝟗𝟗", "߇߉", "⑦", "²"]
# Control characters that are not the whitespace parse_phone accepts (tab, newline, ...).
CONTROLS = ["\x00", "\x07", "\x1b", "\x1c", "\x1f", "\x7f", "\x85", "\x9f"]
MENTIONS = [f"@{BOT_USERNAME}", "@admin", "@", "@@", "@everyone"]
MARKUP = ["<b>", "</code>", "<script>", "&amp;", "&", "<", ">", '"', "'"]
SEPARATORS = [" ", "-", "(", ")", ".", "+", "\u00a0", "\u2013", "\t", "\n", ":", "/"]

_FRAGMENT = st.one_of(
    st.sampled_from(INVISIBLE + LOOK_ALIKE_DIGITS + CONTROLS + MENTIONS + MARKUP + SEPARATORS),
    st.text("0123456789", min_size=1, max_size=30),  # numbers of 1-30 digits
    st.text(max_size=8),  # any Unicode (Telegram cannot carry lone surrogates: none here)
    st.characters(categories=["Cc", "Cf", "Zs", "Nd", "Mn"]),
)
HOSTILE = st.one_of(
    st.lists(_FRAGMENT, max_size=12).map("".join),
    st.text(max_size=100),
    # Huge: up to 4000 characters, still inside one Telegram message with its command.
    st.builds(
        lambda unit, times: unit * times, st.text(min_size=1, max_size=4), st.integers(1, 1000)
    ),
)
_MOBILE = st.text("0123456789", min_size=9, max_size=9).map(lambda rest: "79" + rest)
_FORMATS = [
    "{d}",
    "+{d}",
    "+7 {a} {b}-{c}-{e}",
    "+7 ({a}) {b}-{c}-{e}",
    "8 {a} {b}-{c}-{e}",
    "8{a}{b}{c}{e}",
    "{a}{b}{c}{e}",
    "+7\u00a0{a}\u00a0{b}\u00a0{c}\u00a0{e}",
]


def typed(digits: str, form: str) -> str:
    """``digits`` (``79XXXXXXXXX``) as a person types them (PRODUCT.md §5)."""
    national = digits[1:]
    return form.format(d=digits, a=national[:3], b=national[3:6], c=national[6:8], e=national[8:])


TYPED_MOBILE = st.builds(typed, _MOBILE, st.sampled_from(_FORMATS))


@st.composite
def _poisoned(draw: st.DrawFn) -> str:
    number = draw(TYPED_MOBILE)
    at = draw(st.integers(0, len(number)))
    return number[:at] + draw(_FRAGMENT) + number[at:]


@dataclass(frozen=True)
class Argument:
    """Part of a command's argument, and whether it is valid as typed (a number, a count, an id)."""

    text: str
    clean: bool = False


ARGUMENT = st.one_of(
    TYPED_MOBILE.map(lambda text: Argument(text, clean=True)),
    _poisoned().map(Argument),
    HOSTILE.map(Argument),
)


def _parsed(text: str) -> str | None:
    try:
        return parse_phone(text.strip())
    except InvalidPhone:
        return None


def command_args(text: str) -> str:
    """What follows the command, split as Telegram clients and aiogram split it."""
    parts = text.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


def numbers_typed(text: str) -> set[str]:
    """Every number a piece of ``text`` reads as: the whole, or a start or an end of it cut at
    a space (how ``PHONE [N]`` and ``ID PHONE`` are split). The bot may ask about no other."""
    pieces = [text]
    at = text.find(" ")
    while at != -1:
        pieces += [text[:at], text[at + 1 :]]
        at = text.find(" ", at + 1)
    return {number for piece in pieces if (number := _parsed(piece)) is not None}


# --- unit level: the parser ---------------------------------------------------------------------


@given(text=st.one_of(HOSTILE, _poisoned(), TYPED_MOBILE))
@PROPERTY
def test_parse_phone_never_invents_digits(text: str) -> None:
    try:
        digits = parse_phone(text)
    except InvalidPhone:
        return
    typed_digits = "".join(ch for ch in text if ch in "0123456789")
    # Only prefixes are rewritten (trunk 8, 00, a national 0 after the country code): the
    # subscriber's digits are exactly the last ones typed.
    assert typed_digits.endswith(digits[-7:])


@given(
    number=TYPED_MOBILE,
    poison=st.sampled_from(OTHER_INVISIBLE + LOOK_ALIKE_DIGITS + CONTROLS + ["\u3000", "\u2028"]),
    data=st.data(),
)
@PROPERTY
def test_an_invisible_or_look_alike_character_anywhere_in_a_number_is_refused(
    number: str, poison: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(number)), label="at")
    with pytest.raises(InvalidPhone):
        parse_phone(number[:at] + poison + number[at:])


@given(number=TYPED_MOBILE, marks=st.lists(st.sampled_from(PASTE_MARKS), min_size=1, max_size=4))
@PROPERTY
def test_the_marks_a_paste_adds_anywhere_in_a_number_leave_the_same_number(
    number: str, marks: list[str]
) -> None:
    # Spread the marks over the number: before, inside, after.
    step = max(1, len(number) // len(marks))
    pasted = "".join(
        marks[i // step] + ch if i % step == 0 and i // step < len(marks) else ch
        for i, ch in enumerate(number)
    )
    assert parse_phone(pasted + marks[-1]) == parse_phone(number)


# --- every lookup command, through the bot --------------------------------------------------------

Chat = Literal["private", "group"]


@dataclass(frozen=True)
class Lookup:
    """One message a member (or the admin, for /audit) sends, and what must follow."""

    text: str
    clean: bool = False  # every argument valid: SMS Center must be asked
    chat: Chat = "private"
    user: int = AGENT
    answered: bool = True  # exactly one answer; False: deliberately none


def _word(valid: st.SearchStrategy[int]) -> st.SearchStrategy[Argument]:
    """A count or an id: a valid one (clean), or anything."""
    return st.one_of(valid.map(lambda n: Argument(str(n), clean=True)), HOSTILE.map(Argument))


_COUNT = _word(st.integers(1, 20))
_MESSAGE_ID = _word(st.integers(0, 10**18 - 1))
_AT = f"@{BOT_USERNAME}"
# Where a command is sent: in private as is, in a group addressed to the bot by name.
_PRIVATE: tuple[str, Chat] = ("", "private")
_GROUP: tuple[str, Chat] = (_AT, "group")


@st.composite
def lookups(draw: st.DrawFn) -> Lookup:
    arg = draw(ARGUMENT)
    a = arg.text
    form = draw(st.integers(0, 10))
    if form == 0:
        return Lookup(f"/last {a}", arg.clean)
    if form == 1:
        return Lookup(f"/history {a}", arg.clean)
    if form in (2, 6):
        count = draw(_COUNT)
        at, chat = _PRIVATE if form == 2 else _GROUP
        return Lookup(f"/history{at} {a} {count.text}", arg.clean and count.clean, chat)
    if form in (3, 7):
        message_id = draw(_MESSAGE_ID)
        at, chat = _PRIVATE if form == 3 else _GROUP
        return Lookup(f"/status{at} {message_id.text} {a}", arg.clean and message_id.clean, chat)
    if form == 4:
        # A bare message in private is a /last when it looks like a number, else a hint.
        bare = not_a_command(a)
        return Lookup(bare, arg.clean, answered=bool(bare))
    if form == 5:
        return Lookup(f"/last{_AT} {a}", arg.clean, "group")
    if form == 8:
        # Bare text in a group, and a command for another bot: not ours to answer.
        _, chat = draw(st.sampled_from([_PRIVATE, _GROUP]))
        bare = not_a_command(a)
        text = draw(st.sampled_from([bare, f"/last@other_bot {a}"]))
        return Lookup(text, chat="group" if text == bare else chat, answered=False)
    if form == 9:
        command = draw(st.sampled_from(["/recent", "/failed"]))
        at, chat = draw(st.sampled_from([_PRIVATE, _GROUP]))
        return Lookup(f"{command}{at} {a}", chat=chat)
    return Lookup(f"/audit {draw(_COUNT).text}", user=ADMIN)


def not_a_command(text: str) -> str:
    """``text``, made not to start with a command (aiogram skips leading whitespace)."""
    words = text.split(maxsplit=1)
    return "x" + text if words and words[0].startswith("/") else text


def _count_or_none(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None


async def check_lookup(h: Harness, case: Lookup) -> None:
    h.clock.advance(HOUR)
    chat = IN_GROUP if case.chat == "group" else {}
    done = await exchange(h, message_update(case.text, user_id=case.user, **chat))
    assert len(done.of("sendMessage")) == (1 if case.answered else 0)
    if not case.answered or case.user == ADMIN:
        assert done.requests == []
    typed_here = numbers_typed(command_args(case.text) if case.text.startswith("/") else case.text)
    assert set(done.phones_asked) <= typed_here  # never a number the user did not type
    command = case.text.split(maxsplit=1)[0] if case.text.strip() else ""
    if command.startswith(("/recent", "/failed")):
        # No phone: a request only for an absent or whole-number argument.
        if done.requests:
            argument = command_args(case.text).strip()
            assert not argument or _count_or_none(argument) is not None
    elif not typed_here:
        assert done.requests == []
    if case.clean and case.answered:
        assert done.requests, "a valid number must reach SMS Center"


def test_hostile_arguments_to_lookup_commands_never_break_the_bot_or_reach_smsc(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with bot_on_own_loop(tmp_path) as bot:
        h = bot.harness
        bot.run(h.grant(AGENT))
        h.smsc.add_message(API_KEY, phone=PHONE, status=20, err=6, message="<b>код</b> 4821")
        h.smsc.add_message(API_KEY, phone="79031112233", status=1)

        @given(case=lookups())
        @PROPERTY
        @example(Lookup(f"/last {PHONE}", clean=True))
        @example(Lookup(f"/last{_AT} +7 916 123-45-67", clean=True, chat="group"))
        @example(Lookup("/last +7\u200b916 123-45-67"))
        @example(Lookup(f"/history {PHONE} 20", clean=True))
        @example(Lookup(f"/status 1 {PHONE}", clean=True))
        @example(Lookup("/recent 50", clean=True))
        @example(Lookup("/failed 24", clean=True))
        @example(Lookup("8 916 123-45-67", clean=True))
        @example(Lookup("/recent " + "7" * 4000))
        @example(Lookup("/audit 100", user=ADMIN))
        def property_(case: Lookup) -> None:
            bot.run(check_lookup(h, case))
            assert_nothing_logged_as_error(caplog)

        property_()


# --- anyone's and admin commands ------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """A command of handlers/account.py or handlers/admin.py with a hostile argument."""

    text: str
    user: int
    chat: Chat = "private"
    first_name: str = "Test"


SECOND_KEY = "k3y-second-0000-1111-2222-333344445555"

_ACCOUNT_FORMS: list[tuple[int, Chat, str]] = [
    (ADMIN, "private", "/grant {a}"),
    (ADMIN, "private", "/grant {a} main"),
    (ADMIN, "private", f"/grant {STRANGER} {{a}}"),
    (ADMIN, "private", "/revoke {a}"),
    (ADMIN, "private", "/delkey {a}"),
    (ADMIN, "private", "/audit {a}"),
    (ADMIN, "private", "/addkey {a}"),
    (ADMIN, "private", "/addkey main2 {a}"),
    (ADMIN, "private", "/rekey {a}"),
    (ADMIN, "private", "/rekey main {a}"),
    (ADMIN, "private", "/keys {a}"),
    (ADMIN, "private", "/users {a}"),
    (ADMIN, "private", "/whoami {a}"),
    (STRANGER, "private", "/login {a}"),
    (STRANGER, "private", "/logout {a}"),
    (STRANGER, "private", "/start {a}"),
    (STRANGER, "private", "/help {a}"),
    (STRANGER, "private", "/addkey {a}"),
    (ADMIN, "group", f"/addkey{_AT} {{a}}"),
    (ADMIN, "group", f"/rekey{_AT} main {{a}}"),
    (ADMIN, "group", f"/grant{_AT} {{a}}"),
    (ADMIN, "group", f"/delkey{_AT} {{a}}"),
    (STRANGER, "group", f"/login{_AT} {{a}}"),
    (STRANGER, "group", f"/whoami{_AT} {{a}}"),
    (STRANGER, "group", f"/help{_AT} {{a}}"),
]
_NAME = st.one_of(
    st.just("Test"),
    st.text(min_size=1, max_size=TELEGRAM_NAME_LIMIT).filter(str.strip),
    st.sampled_from(["<b>", "</code>&amp;", "\u202eevil", "😀" * 64]),
)


@st.composite
def account_commands(draw: st.DrawFn) -> Command:
    user, chat, form = draw(st.sampled_from(_ACCOUNT_FORMS))
    argument = draw(st.one_of(HOSTILE, st.sampled_from(["main", API_KEY, "k3y", "600 main"])))
    name = draw(_NAME) if chat == "group" else "Test"
    return Command(form.format(a=argument), user, chat, name)


def _key_typed(command: str, args: str) -> bool:
    """Whether a /login, /addkey or /rekey carried a word that could be an API key, in a
    private chat."""
    words = args.strip()
    if command.startswith("/login"):
        return looks_like_key(words)
    return looks_like_key(words.partition(" ")[2].strip())


async def check_account_command(h: Harness, case: Command) -> None:
    h.clock.advance(HOUR)
    h.smsc.reset_limits()  # wrong keys would get the simulated IP blocked in 5 examples
    chat = IN_GROUP if case.chat == "group" else {}
    update = message_update(case.text, user_id=case.user, first_name=case.first_name, **chat)
    done = await exchange(h, update)
    assert len(done.of("sendMessage")) == 1
    assert h.smsc_requests("get") == 0 and h.smsc_requests("status") == 0
    command, args = case.text.split(maxsplit=1)[0], command_args(case.text)
    balance = [r for r in done.requests if r.script == "balance"]
    assert len(balance) <= 1
    if balance:
        assert case.chat == "private" and _key_typed(command, args)
    if command.startswith(("/login", "/addkey", "/rekey")) and args.strip():
        # A message that may carry a key never stays in the chat.
        deleted = {call.int_param("message_id") for call in done.of("deleteMessage")}
        assert update["message"]["message_id"] in deleted


def test_hostile_arguments_to_account_and_admin_commands_answer_once_and_read_no_history(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with bot_on_own_loop(tmp_path) as bot:
        h = bot.harness
        bot.run(h.grant(AGENT))

        @given(case=account_commands())
        @PROPERTY
        @example(Command("/addkey MYKEY0123456789abcdef0123456789", ADMIN, "group"))
        @example(Command("/addkey MYKEY0123456789abcdef0123456789", ADMIN))
        @example(Command(f"/login {API_KEY}", STRANGER))
        @example(Command("/login k3y", STRANGER, "group", "<b>&amp;</b>"))
        @example(Command("/grant 600 <b>", ADMIN))
        @example(Command("/audit 100", ADMIN))
        def property_(case: Command) -> None:
            bot.run(check_account_command(h, case))
            assert_nothing_logged_as_error(caplog)

        property_()


# --- buttons --------------------------------------------------------------------------------------


def refused(done: Exchange) -> bool:
    """The press was answered with an alert text and nothing else: no answer, no request."""
    answers = done.of("answerCallbackQuery")
    return (
        len(answers) == 1
        and bool(answers[0].params.get("text"))
        and not done.of("sendMessage")
        and not done.of("editMessageText")
        and not done.requests
    )


def _canonical(phone: str) -> bool:
    try:
        return parse_phone("+" + phone) == phone
    except InvalidPhone:
        return False


def _fits_a_button(data: str) -> bool:
    return 1 <= len(data.encode()) <= 64  # Telegram's limit on callback data


_FIELD = st.one_of(HOSTILE, st.integers(-(10**20), 10**20).map(str), st.sampled_from(["", "0"]))


@st.composite
def forged_buttons(draw: st.DrawFn, account_id: int) -> str:
    """Callback data: anything, or a "Refresh" button of the bot's own shape with hostile fields
    (the presser's own id and account, so only the fields can make it refused)."""
    kind = draw(st.sampled_from(["l", "h", "r", "f", "s", "x", ""]))
    phone = draw(st.one_of(_MOBILE, HOSTILE, st.just("")))
    n, before, older = draw(_FIELD), draw(_FIELD), draw(st.sampled_from(["0", "1", "yes", "x"]))
    at = draw(_FIELD)
    shaped = f"q:{kind}:{phone}:{n}:{before}:{AGENT}:{account_id}:{older}:{at}"
    return draw(
        st.one_of(
            st.just(shaped),
            st.text(min_size=1, max_size=64),
            st.lists(_FIELD, max_size=9).map(lambda fields: ":".join(["q", *fields])),
        ).filter(_fits_a_button)
    )


async def press(h: Harness, data: str, message_id: int, user_id: int = AGENT) -> Exchange:
    h.clock.advance(HOUR)
    update = callback_update(data, message_id=message_id, user_id=user_id, chat_id=user_id)
    done = await exchange(h, update)
    assert len(done.of("answerCallbackQuery")) == 1  # every press is answered
    return done


async def check_forged_press(h: Harness, data: str, message_id: int) -> None:
    done = await press(h, data, message_id)
    assert all(_canonical(phone) for phone in done.phones_asked)
    if not data.startswith("q:"):
        assert refused(done)
    fields = data.split(":")
    if len(fields) == 9 and fields[1] in ("l", "h", "s") and not _canonical(fields[2]):
        assert refused(done)
    if done.requests or done.of("editMessageText") or done.of("sendMessage"):
        assert not done.of("answerCallbackQuery")[0].params.get("text")


def test_forged_callback_data_is_answered_and_never_asks_smsc_about_a_forged_number(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with bot_on_own_loop(tmp_path) as bot:
        h = bot.harness
        bot.run(h.grant(AGENT))
        account = bot.run(h.services.storage.get_account("main"))
        assert account is not None
        account_id = account.id
        h.smsc.add_message(API_KEY, phone=PHONE, status=1)
        bot.run(h.say(f"/last {PHONE}"))
        message_id = int(h.telegram.messages_in(AGENT)[-1]["message_id"])
        good = f"q:l:{PHONE}:0:0:{AGENT}:{account_id}:0:0"

        @given(data=forged_buttons(account_id))
        @PROPERTY
        @example("garbage")
        @example("q:garbage")
        @example(f"q:l:abc,123:0:0:{AGENT}:{account_id}:0:0")
        @example(f"q:l::0:0:{AGENT}:{account_id}:0:0")
        @example(f"q:l:7 916 123 45 67:0:0:{AGENT}:{account_id}:0:0")
        @example(f"q:r:{PHONE}:-5:0:{AGENT}:{account_id}:0:0")
        @example(f"q:f:0:{10**40}:0:{AGENT}:{account_id}:0:0")
        @example(f"q:h:{PHONE}:5:-1:{AGENT}:{account_id}:1:0")
        @example(f"q:h:{PHONE}:5:0:{AGENT}:{account_id}:1:7")  # a page place without a page
        @example(f"q:h:{PHONE}:5:9:{AGENT}:{account_id}:1:{10**9}")
        @example(good)
        def property_(data: str) -> None:
            bot.run(check_forged_press(h, data, message_id))
            assert_nothing_logged_as_error(caplog)

        property_()
        # The bot's own button still works after all that: the check above can see a request.
        done = bot.run(press(h, good, message_id))
        assert done.requests and done.of("editMessageText")


async def _refresh_button(h: Harness, chat_id: int = AGENT) -> tuple[str, int]:
    """Ask /last as the agent in ``chat_id``; the "Refresh" data and the answer's id."""
    chat_type = "private" if chat_id > 0 else "supergroup"
    await h.say(f"/last {PHONE}", user_id=AGENT, chat_id=chat_id, chat_type=chat_type)
    data = str(h.last_markup()["inline_keyboard"][0][0]["callback_data"])
    return data, int(h.telegram.messages_in(chat_id)[-1]["message_id"])


async def test_another_members_button_is_refused_without_a_request(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=1)
    await harness.grant(AGENT, OTHER_AGENT)
    data, message_id = await _refresh_button(harness, GROUP)
    # Both are members of the same account, in the same group: only the owner may press.
    harness.clock.advance(HOUR)
    in_group: dict[str, Any] = {"message_id": message_id, **IN_GROUP}
    done = await exchange(harness, callback_update(data, user_id=OTHER_AGENT, **in_group))
    assert refused(done)
    assert "another request" in done.of("answerCallbackQuery")[0].params["text"]
    own = await exchange(harness, callback_update(data, user_id=AGENT, **in_group))
    assert own.requests and own.of("editMessageText")


async def test_a_button_replayed_after_its_account_was_deleted_is_refused_without_a_request(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=1)
    await harness.grant(AGENT)
    data, message_id = await _refresh_button(harness)
    assert "1 member" in await harness.say("/delkey main", user_id=ADMIN)
    harness.clock.advance(HOUR)
    gone = await exchange(harness, callback_update(data, message_id=message_id, user_id=AGENT))
    assert refused(gone)
    assert "no access" in gone.of("answerCallbackQuery")[0].params["text"]


async def test_a_button_of_another_account_of_the_member_is_refused_without_a_request(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=1)
    await harness.grant(AGENT)
    sim.add_account(SECOND_KEY)  # one key is one account: the second has its own
    await harness.say(f"/addkey second {SECOND_KEY}", user_id=ADMIN)
    data, message_id = await _refresh_button(harness)
    await harness.say(f"/grant {AGENT} second", user_id=ADMIN)  # moved to another account
    harness.clock.advance(HOUR)
    moved = await exchange(harness, callback_update(data, message_id=message_id, user_id=AGENT))
    assert refused(moved)
    assert "no longer valid" in moved.of("answerCallbackQuery")[0].params["text"]
    fresh, fresh_id = await _refresh_button(harness)
    harness.clock.advance(HOUR)
    works = await exchange(harness, callback_update(fresh, message_id=fresh_id, user_id=AGENT))
    assert works.requests and works.of("editMessageText")


async def test_a_deleted_accounts_button_stays_refused_after_a_new_account_is_added(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=1)
    await harness.grant(AGENT)
    data, message_id = await _refresh_button(harness)
    await harness.say("/delkey main", user_id=ADMIN)
    await harness.say(f"/addkey other {API_KEY}", user_id=ADMIN)
    await harness.say(f"/grant {AGENT} other", user_id=ADMIN)
    harness.clock.advance(HOUR)
    replayed = await exchange(harness, callback_update(data, message_id=message_id, user_id=AGENT))
    assert refused(replayed)


async def test_a_button_under_a_message_too_old_to_reach_is_refused_without_a_request(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sim.add_message(API_KEY, phone=PHONE, status=1)
    await harness.grant(AGENT)
    data, message_id = await _refresh_button(harness)
    harness.clock.advance(3 * 24 * HOUR)
    update = callback_update(data, message_id=message_id, user_id=AGENT)
    # How Telegram sends a press under a message the bot can no longer reach: only its chat,
    # its id and date 0 (an InaccessibleMessage).
    update["callback_query"]["message"] = {
        "message_id": message_id,
        "chat": {"id": AGENT, "type": "private", "first_name": "Test"},
        "date": 0,
    }
    done = await exchange(harness, update)
    assert refused(done)
    assert "no longer valid" in done.of("answerCallbackQuery")[0].params["text"]


# --- hostile texts from SMS Center ----------------------------------------------------------------

HOSTILE_SMS = {
    "79160000001": "<b>bold</b> </code> <i>x</code> <script>alert(1)</script>",
    "79160000002": "&amp; &lt; &#x41; &nbsp; & && <a href='x'>",
    "79160000003": "Код 😀👩‍👩‍👧🇷🇺 ✅ готово",
    "79160000004": "שלום \u202eevil\u202c مرحبا \u200fok",
    "79160000005": "Я" + "<&>x" * 999 + "END",
}
LITERALS = {
    "79160000001": ["<b>bold</b>", "</code>", "<script>alert(1)</script>"],
    "79160000002": ["&amp; &lt; &#x41; &nbsp; & &&", "<a href='x'>"],
    "79160000003": ["😀👩‍👩‍👧🇷🇺 ✅"],
    "79160000004": ["שלום", "مرحبا"],
    "79160000005": ["Я<&>x<&>x<&>x", "…"],
}


def visible_text(h: Harness, chat_id: int) -> str:
    """The newest message in the chat as its reader sees it (after Telegram parsed the HTML)."""
    return str(h.telegram.messages_in(chat_id)[-1]["text"])


async def test_hostile_sms_center_texts_render_safely_in_every_answer(
    harness: Harness, sim: SimulatedSmsc
) -> None:
    sent = {}
    for phone, text in HOSTILE_SMS.items():
        for status in (1, 20):
            sent[phone] = sim.add_message(
                API_KEY,
                phone=phone,
                status=status,
                err=6 if status == 20 else 0,
                message=text,
                sender="<A&B>",
                operator="</code>Opera<b>",
                region="&amp;\u202e",
            )
    await harness.grant(AGENT)
    for phone, literals in LITERALS.items():
        for command in (
            f"/last {phone}",
            f"/history {phone} 20",
            f"/status {sent[phone]['id']} {phone}",
        ):
            harness.clock.advance(60)  # the per-user guard is not under test here
            done = await exchange(harness, message_update(command, user_id=AGENT))
            assert len(done.of("sendMessage")) == 1, command
            shown = visible_text(harness, AGENT)
            assert "\u202e" not in shown, command
            for literal in literals:
                assert literal in shown, (command, literal)
        assert "<A&B>" in shown and "</code>Opera<b>" in shown
    harness.clock.advance(60)
    long_last = await exchange(harness, message_update("/last 79160000005", user_id=AGENT))
    assert "END" not in visible_text(harness, AGENT)  # 4000 characters are cut, not sent whole
    assert long_last.of("sendMessage")
    # /recent shows texts; /failed shows operators, not texts.
    for command, literal in (
        ("/recent 50", "<script>alert(1)</script>"),
        ("/failed 24", "</code>Opera<b>"),
    ):
        harness.clock.advance(60)
        await exchange(harness, message_update(command, user_id=AGENT))
        assert literal in visible_text(harness, AGENT), command
    # In a group, the same answers mask one-time codes and still parse.
    for phone in HOSTILE_SMS:
        harness.clock.advance(60)
        await exchange(
            harness, message_update(f"/history{_AT} {phone} 20", user_id=AGENT, **IN_GROUP)
        )
