"""``python -m bot shell``: lines typed become updates of the bot's own Dispatcher, answers are
printed as plain text, buttons are pressed by number, and nothing reaches Telegram.

One test runs the real command in a subprocess (as a user would, piped); the others call
``run_shell`` in-process with string streams, a fake clock and, where requests are counted,
a simulated SMS Center of their own.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest

from bot.app import Services, run_shell
from bot.chat.console import (
    CONSOLE_BOT_ID,
    CONSOLE_TOKEN,
    CONSOLE_USER_ID,
    Printer,
    console_lang,
    console_session,
    echoed,
)
from bot.chat.telegram_html import html_to_text
from bot.demo import prepare_demo_account
from bot.settings import Settings
from bot.smsc.simulator import DEMO_API_KEY, DEMO_NUMBERS, SimulatedSmsc
from bot.text import Lang, error_info, status_info
from bot.text import catalogue as texts
from bot.text.commands import Audience, help_section
from tests.fakes.clock import FakeClock

ROOT = Path(__file__).resolve().parent.parent
# The demo number whose newest message failed with err 6 "subscriber offline".
FAILED_PHONE = "79031112233"
LONG_HISTORY_PHONE = "79257654321"
_TAG = re.compile(r"</?(?:b|strong|i|em|u|s|code|pre|a|blockquote|tg-spoiler|span)\b[^>]*>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_AS_OF = re.compile(r"as of (\d\d:\d\d:\d\d)")


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment without any of the bot's settings, with the database in ``tmp_path``."""
    names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in names}
    env["DATABASE_PATH"] = str(tmp_path / "data" / "bot.sqlite3")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONIOENCODING"] = "utf-8"
    env["LANG"] = "C.UTF-8"  # the console answers in Russian under a ru* locale
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):  # which would win over LANG
        env.pop(name, None)
    return env


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Default settings, whatever the environment says, with the database in ``tmp_path``."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    return Settings(_env_file=None, database_path=tmp_path / "data" / "bot.sqlite3")


class TypedLines(io.StringIO):
    """Input typed by someone who pauses ``pause`` seconds (on ``clock``) before each line."""

    def __init__(self, text: str, clock: FakeClock, pause: float) -> None:
        super().__init__(text)
        self._clock = clock
        self._pause = pause

    # typeshed's _IOBase.readline returns bytes; StringIO's own returns str, as here.
    def readline(self, size: int = -1, /) -> str:  # type: ignore[override]
        self._clock.advance(self._pause)
        return super().readline(size)


# --- the real command -----------------------------------------------------------------------


def test_piped_demo_shell_prints_plain_answers(tmp_path: Path) -> None:
    """`/help`, `/last` of a failed number and `/failed`, piped: answers only, as plain text."""
    assert "err 6" in DEMO_NUMBERS[FAILED_PHONE]
    result = subprocess.run(
        [sys.executable, "-m", "bot", "shell", "--demo"],
        input=f"/help\n/last {FAILED_PHONE}\n/failed\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        env=_clean_env(tmp_path),
        timeout=60,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # /help
    assert html_to_text(help_section(Audience.MEMBER, Lang.EN, self_login=False)) in out
    # /last: the status, the error code with its meaning and what helps
    assert f"{status_info(20).name.en} (20)" in out
    assert error_info(6).name.en in out
    assert error_info(6).help.en in out
    # /last and /failed each say how fresh they are
    assert len(_AS_OF.findall(out)) == 2
    # plain text: no tags, no entities; piped, so no banner and no prompt
    assert not _TAG.search(out), _TAG.search(out)
    assert not _ENTITY.search(out), _ENTITY.search(out)
    assert "Numbers worth trying" not in out
    # piped, each line is echoed once before its answer, as a transcript
    assert re.findall(r"^> .*$", out, flags=re.MULTILINE) == [
        "> /help",
        f"> /last {FAILED_PHONE}",
        "> /failed",
    ]
    # the demo database was created where DATABASE_PATH points, not in the repository
    assert (tmp_path / "data" / "demo.sqlite3").is_file()


# --- in-process -----------------------------------------------------------------------------


async def test_typing_a_button_number_presses_it(settings: Settings) -> None:
    """`/history`, then `1` refreshes that answer in place (fresh data a minute later) and `2`
    sends the older page as a new answer."""
    clock = FakeClock()
    stdin = TypedLines(f"/history {LONG_HISTORY_PHONE}\n1\n2\n", clock, pause=61)
    stdout = io.StringIO()

    code = await run_shell(
        settings, user_id=CONSOLE_USER_ID, demo=True, stdin=stdin, stdout=stdout, clock=clock
    )

    out = stdout.getvalue()
    assert code == 0
    buttons = f"[1] {texts.BUTTON_REFRESH(Lang.EN)}  [2] {texts.BUTTON_OLDER(Lang.EN)}"
    # Each history answer ends with its buttons; split the output there.
    first, refreshed, older, rest = re.split(rf"^{re.escape(buttons)}\n\n", out, flags=re.M)
    assert rest.strip() == ""
    assert first.startswith(f"> /history {LONG_HISTORY_PHONE}\n")  # piped: the line echoed
    assert refreshed.startswith("> 1\n(edited)\n")
    assert older.startswith("> 2\n") and not older.startswith("> 2\n(edited)")
    # the refresh fetched again a minute later; the older page is another page
    assert _AS_OF.findall(first) != _AS_OF.findall(refreshed)
    entries = re.compile(r"^\d.*\(.* ago\) · id \d+$", flags=re.M)
    assert entries.findall(first)
    assert set(entries.findall(older)).isdisjoint(entries.findall(first))


async def test_a_chart_shows_as_one_line_naming_the_photo_then_its_caption(
    settings: Settings,
) -> None:
    """`/failed 2` lists failures with a Chart button; pressing it shows the photo the console
    cannot draw as "[photo: chart.png, N KB]" and its caption."""
    clock = FakeClock()
    stdout = io.StringIO()
    stdin = TypedLines("/failed 2\n2\n", clock, pause=1)

    code = await run_shell(
        settings, user_id=CONSOLE_USER_ID, demo=True, stdin=stdin, stdout=stdout, clock=clock
    )

    out = stdout.getvalue()
    assert code == 0
    assert f"[1] {texts.BUTTON_REFRESH(Lang.EN)}  [2] {texts.BUTTON_CHART(Lang.EN)}" in out
    pressed = out.split("> 2\n", 1)[1]
    assert re.match(
        r"📈 Drawing the chart…\n\[photo: chart\.png, \d+ KB\]\n📈 Undelivered in the last 2 h: "
        r"\d+ of \d+ sent\n",
        pressed,
    ), pressed


async def test_other_user_is_not_admin_and_makes_no_request(settings: Settings) -> None:
    """`--user 42` (not in ADMIN_IDS, not granted) is refused lookups and admin commands
    without any SMS Center request; a granted user gets answers through the same console."""
    clock = FakeClock()
    async with SimulatedSmsc(clock=clock) as smsc:
        settings = settings.model_copy(update={"smsc_base_url": smsc.base_url})
        services = await Services.open(settings, clock=clock)
        try:
            await prepare_demo_account(services.storage, [7], now=clock())
        finally:
            await services.close()
        requests_before = smsc.count()

        stranger = io.StringIO()
        await run_shell(
            settings,
            user_id=42,
            demo=False,
            stdin=io.StringIO(f"/last {FAILED_PHONE}\n{FAILED_PHONE}\n/keys\n"),
            stdout=stranger,
            clock=clock,
        )
        assert smsc.count() == requests_before
        refusal = html_to_text(texts.NOT_MEMBER(Lang.EN).format(user_id=42))
        assert stranger.getvalue().count(refusal) == 2
        assert texts.ADMIN_ONLY(Lang.EN) in stranger.getvalue()

        member = io.StringIO()
        await run_shell(
            settings,
            user_id=7,
            demo=False,
            stdin=io.StringIO(f"/last {FAILED_PHONE}\n"),
            stdout=member,
            clock=clock,
        )
        assert smsc.count("get") == 1
        assert error_info(6).help.en in member.getvalue()


async def test_demo_grants_only_admins_and_quit_stops_reading(settings: Settings) -> None:
    """In the demo a non-admin `--user` is not granted the demo account (to see what a
    stranger sees), and nothing after `/quit` is read."""
    stdout = io.StringIO()
    code = await run_shell(
        settings,
        user_id=42,
        demo=True,
        stdin=io.StringIO(f"/last {FAILED_PHONE}\n/quit\n/keys\n"),
        stdout=stdout,
        clock=FakeClock(),
    )
    assert code == 0
    out = stdout.getvalue()
    assert html_to_text(texts.NOT_MEMBER(Lang.EN).format(user_id=42)) in out
    assert texts.ADMIN_ONLY(Lang.EN) not in out


# --- the Bot API in the console -------------------------------------------------------------


async def test_console_session_refuses_what_telegram_refuses() -> None:
    """HTML Telegram cannot parse, an empty text and a text over 4096 characters fail as they
    would in Telegram (the console must not hide a rendering bug); good HTML prints as text."""
    out = io.StringIO()
    session = console_session(Printer(out), user_id=5, next_message_id=iter(range(1, 100)).__next__)
    async with Bot(
        CONSOLE_TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
    ) as bot:
        for text in ("<p>x</p>", "<b>x", "x</i>", "<b> </b>", "x" * 4097):
            with pytest.raises(TelegramBadRequest):
                await bot.send_message(5, text)
        assert out.getvalue() == ""
        assert session.calls == []

        html = '<b>A &lt;b&gt; &amp; <a href="https://x.example">c</a></b>'
        sent = await bot.send_message(5, html)
        me = await bot.get_me()
        with pytest.raises(TelegramBadRequest, match="message is not modified"):
            await bot.edit_message_text(html, chat_id=5, message_id=sent.message_id)
        with pytest.raises(TelegramBadRequest, match="not available"):
            await bot.get_my_commands()

    # Telegram's text and entities; the printed line shows the link's address.
    assert out.getvalue() == "A <b> & c (https://x.example)\n\n(unchanged)\n"
    assert sent.text == "A <b> & c"
    assert [(e.type, e.url) for e in sent.entities or []] == [
        ("bold", None),
        ("text_link", "https://x.example"),
    ]
    assert session.messages[sent.message_id]["text"] == "A <b> & c"
    assert [call.__api_method__ for call in session.calls] == ["sendMessage", "getMe"]
    assert sent.message_id == 1
    assert me.id == CONSOLE_BOT_ID
    assert me.is_bot


async def test_a_russian_locale_gets_russian_answers_and_console_lines(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    clock = FakeClock()
    stdin = TypedLines(f"/history {LONG_HISTORY_PHONE}\n1\n", clock, pause=61)
    stdout = io.StringIO()
    code = await run_shell(
        settings, user_id=CONSOLE_USER_ID, demo=True, stdin=stdin, stdout=stdout, clock=clock
    )
    out = stdout.getvalue()
    assert code == 0
    assert texts.BUTTON_REFRESH(Lang.RU) in out
    assert "(изменено)" in out
    assert "данные на" in out  # the freshness line, from the bot itself


@pytest.mark.parametrize(
    ("environ", "lang"),
    [
        ({"LANG": "ru_RU.UTF-8"}, Lang.RU),
        ({"LANG": "C.UTF-8"}, Lang.EN),
        ({}, Lang.EN),
        ({"LC_ALL": "ru_RU.UTF-8", "LANG": "en_US.UTF-8"}, Lang.RU),  # LC_ALL over LANG
        ({"LC_ALL": "C", "LANG": "ru_RU.UTF-8"}, Lang.EN),
        ({"LC_MESSAGES": "ru_RU", "LANG": "en_GB.UTF-8"}, Lang.RU),  # LC_MESSAGES over LANG
        ({"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "ru_RU"}, Lang.EN),  # LC_ALL over both
        ({"LC_ALL": "", "LANG": "ru_RU.UTF-8"}, Lang.RU),  # set but empty: not set
        ({"LANGUAGE": "ru:en", "LC_ALL": "en_US.UTF-8"}, Lang.RU),  # LANGUAGE first
        ({"LANGUAGE": "de:ru", "LANG": "en_US.UTF-8"}, Lang.RU),  # its first known entry
        ({"LANGUAGE": "en_GB:ru", "LANG": "ru_RU.UTF-8"}, Lang.EN),
        ({"LANGUAGE": "de:fr", "LANG": "ru_RU.UTF-8"}, Lang.RU),  # none known: the locale
        ({"LANGUAGE": "ru"}, Lang.RU),  # a container with no locale at all
    ],
)
def test_console_language_follows_language_then_lc_all_lc_messages_lang(
    environ: dict[str, str], lang: Lang
) -> None:
    assert console_lang(environ) is lang


async def test_lc_all_alone_makes_the_console_russian(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_ALL", "ru_RU.UTF-8")  # LANG stays C.UTF-8
    stdout = io.StringIO()
    await run_shell(settings, user_id=42, demo=True, stdin=io.StringIO("/help\n"), stdout=stdout)
    assert "/whoami — ваша роль, аккаунт и лимит" in stdout.getvalue()


# --- issue 15, item 18: line editing on a terminal, logs apart, a piped transcript --------------


class _Terminal:
    """``python -m bot shell --demo`` on a pseudo-terminal, as someone typing at it."""

    def __init__(self, tmp_path: Path) -> None:
        import pty  # POSIX only; the test is skipped elsewhere

        master, slave = pty.openpty()
        self._master = master
        self.screen = b""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "shell", "--demo"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=tmp_path,
            env={**_clean_env(tmp_path), "TERM": "xterm"},
            close_fds=True,
        )
        os.close(slave)

    def wait_for(self, marker: bytes, count: int = 1, timeout: float = 60.0) -> None:
        """Read the screen until ``marker`` appeared ``count`` times (wall time only bounds
        the wait; nothing is judged by it)."""
        import select
        import time

        deadline = time.monotonic() + timeout
        while self.screen.count(marker) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{marker!r} ×{count} not on screen:\n{self.text}")
            ready, _, _ = select.select([self._master], [], [], 0.2)
            if ready:
                try:
                    self.screen += os.read(self._master, 65536)
                except OSError:
                    break

    def type(self, keys: bytes) -> None:
        os.write(self._master, keys)

    @property
    def text(self) -> str:
        return self.screen.decode("utf-8", "replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        os.close(self._master)


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal is POSIX")
def test_on_a_terminal_lines_are_edited_and_recalled_but_a_key_is_not(tmp_path: Path) -> None:
    pytest.importorskip("readline")
    terminal = _Terminal(tmp_path)
    try:
        terminal.wait_for(b"> ")
        terminal.type(b"/whoai\x02m\r")  # a typo fixed: back one (Ctrl-B), the missing "m"
        terminal.wait_for(b"Role:")
        terminal.wait_for(b"> ", 2)
        terminal.type(b"/addkey spare SECRETKEY-tty-0123456789\r")
        terminal.wait_for(b"did not accept")
        terminal.wait_for(b"> ", 3)
        # Up (Ctrl-P) recalls the line before the one with the key, which history does not keep.
        terminal.type(b"\x10\r")
        terminal.wait_for(b"Role:", 2)
        terminal.wait_for(b"> ", 4)
        terminal.type(b"\x04")  # Ctrl-D
        assert terminal.process.wait(timeout=60) == 0
    finally:
        terminal.close()
    screen = terminal.text
    assert screen.count("SECRETKEY-tty") == 1  # as typed, never shown back or recalled
    assert "INFO" not in screen  # log chatter stays off the terminal; warnings would show


def test_piped_input_is_echoed_before_each_answer_and_logs_go_to_stderr(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "shell", "--demo"],
        input=f"/whoami\n/last {FAILED_PHONE}\n/addkey spare SECRETKEY-pipe-0123456789\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        env=_clean_env(tmp_path),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("> /whoami\nYour id: 1\n")
    assert f"\n> /last {FAILED_PHONE}\n📱 +7 903 111-22-33\n" in out
    assert "\n> /addkey spare ‹key hidden›\n" in out
    assert "SECRETKEY-pipe" not in out + result.stderr
    # Logs: on stderr, every line of it, and none on stdout.
    log_line = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|WARNING|ERROR) ", re.M)
    assert log_line.search(result.stderr) and "database migrated" in result.stderr
    assert not log_line.search(out)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("/login SECRET", "/login ‹key hidden›"),
        ("/LOGIN@console_bot SECRET", "/LOGIN@console_bot ‹key hidden›"),
        ("/addkey main SECRET", "/addkey main ‹key hidden›"),
        ("/addkey SECRET", "/addkey ‹key hidden›"),
        ("/rekey main SECRET", "/rekey main ‹key hidden›"),
        ("/Rekey main", "/Rekey ‹key hidden›"),
        ("/addkey", "/addkey"),
        ("/last 79031112233", "/last 79031112233"),
        ("login SECRET", "login SECRET"),  # not a command: nothing to hide, nothing sent
    ],
)
def test_a_key_is_never_echoed(typed: str, shown: str) -> None:
    assert echoed(typed, Lang.EN) == shown


async def test_the_demo_still_starts_when_its_key_was_moved_to_another_name(
    settings: Settings,
) -> None:
    # One key is one account (issue 15, item 13): the demo grants whichever account has its key.
    first = io.StringIO()
    await run_shell(
        settings,
        user_id=CONSOLE_USER_ID,
        demo=True,
        stdin=io.StringIO(f"/delkey demo\n/addkey mine {DEMO_API_KEY}\n"),
        stdout=first,
    )
    assert "Account mine added" in first.getvalue()
    again = io.StringIO()
    code = await run_shell(
        settings, user_id=CONSOLE_USER_ID, demo=True, stdin=io.StringIO("/whoami\n"), stdout=again
    )
    assert code == 0 and "Account: mine" in again.getvalue()


# --- issue 15, item 20: what the README tells a new user about the demo ---------------------------


async def test_the_readme_gives_the_demo_key_and_a_reset_of_the_hour_that_works(
    settings: Settings, tmp_path: Path
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`{DEMO_API_KEY}`" in readme and f"/login {DEMO_API_KEY}" in readme
    assert "**private chat**" in readme
    reset = re.search(r"`rm -f ((?:data/demo\.sqlite3\S*\s?)+)`", readme)
    assert reset is not None, "the README's reset command"

    async def whoami_after(lines: str) -> str:
        out = io.StringIO()
        await run_shell(
            settings, user_id=CONSOLE_USER_ID, demo=True, stdin=io.StringIO(lines), stdout=out
        )
        return out.getvalue()

    spent = await whoami_after(f"/last {FAILED_PHONE}\n/whoami\n")
    assert "left this hour: 29 of 30" in spent
    assert "left this hour: 29 of 30" in await whoami_after("/whoami\n")  # kept across runs
    # The README's command, run where DATABASE_PATH points (data/ under tmp_path here).
    assert _remove(tmp_path, reset.group(1).split()) >= 2  # the database and its key file
    assert "left this hour: 30 of 30" in await whoami_after("/whoami\n")


def _remove(folder: Path, patterns: list[str]) -> int:
    """``rm -f PATTERNS`` run in ``folder``; how many files it removed."""
    removed = 0
    for pattern in patterns:
        for path in folder.glob(pattern):
            path.unlink()
            removed += 1
    return removed
