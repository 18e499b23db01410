"""``python -m bot shell``: a text console that feeds the Telegram bot's own Dispatcher.

In the convention of Hubot's shell adapter and Errbot's text mode, the chat is an adapter: each
line typed becomes a Telegram message update from the console user in a private chat and goes
through the very same dispatcher the Telegram bot runs (``bot.app.make_dispatcher``) — no command is
implemented twice. The bot's Bot API calls never leave the process: a
:class:`~bot.chat.session.ChatSession` answers them as Telegram would, and :class:`Printer` prints
what the chat shows, as plain text, with inline buttons numbered
(``[1] 🔄 Refresh  [2] ⬅️ Older``); typing a button's number presses it.

``/quit``, ``exit`` or end of input (Ctrl-D) leaves. On a terminal there is a banner and a
``> `` prompt with line editing and history (``readline``, where Python has it; a line that
carries an API key is kept out of the history). Piped, each line read is echoed after ``> ``
before its answer, so that a transcript reads as a conversation; a key in it is shown as
"‹key hidden›". Log lines go to stderr, never into the answers on stdout; on a terminal, where
both show, only warnings and errors are logged (``LOG_LEVEL=DEBUG`` keeps everything).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass
from typing import Any, Final, TextIO

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.enums import ParseMode
from aiogram.types import Update

from bot.chat.session import ChatSession
from bot.chat.telegram_html import with_link_addresses
from bot.settings import Settings
from bot.smsc.simulator import DEMO_ACCOUNT, DEMO_NUMBERS
from bot.text import Lang, commands, lang_for
from bot.text import catalogue as texts

__all__ = [
    "CONSOLE_BOT_ID",
    "CONSOLE_USER_ID",
    "Printer",
    "console_lang",
    "console_session",
    "echoed",
    "run_console",
]

logger = logging.getLogger(__name__)

#: The console user when ``--user`` is not given; an admin of the console session.
CONSOLE_USER_ID: Final = 1
#: The bot's own user id in the console (the number before ``:`` of its dummy token).
CONSOLE_BOT_ID: Final = 1_000_000_001
CONSOLE_BOT_USERNAME: Final = "console_bot"
CONSOLE_TOKEN: Final = f"{CONSOLE_BOT_ID}:console"
# A line of 1-2 digits presses a button; phone numbers are never that short.
_BUTTON_DIGITS: Final = 2
_CHATTY_LOGGERS: Final = ("aiogram.event", "httpx")
# Seconds the console waits at the end of its input for answers still coming.
FOLLOW_UPS_AT_END: Final = 60.0
_QUIT: Final = frozenset({"/quit", "/exit", "quit", "exit"})


# --- what the chat shows, printed ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Press:
    """What pressing a numbered button sends: its callback data and the message it is on."""

    data: str
    message: dict[str, Any]


# The console's own lines live in the one catalogue, with every other word.
_DELETED = texts.CONSOLE_DELETED
_ALERT = texts.CONSOLE_ALERT
_UNCHANGED = texts.CONSOLE_UNCHANGED
_EDITED = texts.CONSOLE_EDITED
_BUTTONS_CHANGED = texts.CONSOLE_BUTTONS_CHANGED
_NO_ANSWER = texts.CONSOLE_NO_ANSWER
_BOT_FAILED = texts.CONSOLE_BOT_FAILED
_TITLE = texts.CONSOLE_TITLE
_TITLE_DEMO = texts.CONSOLE_TITLE_DEMO
_YOU_ADMIN = texts.CONSOLE_YOU_ADMIN
_YOU_NOT_ADMIN = texts.CONSOLE_YOU_NOT_ADMIN
_HOW = texts.CONSOLE_HOW
_TRY = texts.CONSOLE_TRY
_NO_ACCESS = texts.CONSOLE_NO_ACCESS
_KEY_HIDDEN = texts.CONSOLE_KEY_HIDDEN
_PHOTO = texts.CONSOLE_PHOTO


class Printer:
    """The console's :class:`~bot.chat.session.ChatView`: prints each message as plain text
    (a link's address after it) with its inline buttons numbered, and one line in parentheses
    for an edit, a deletion or an alert, in ``lang``."""

    def __init__(self, out: TextIO, lang: Lang = Lang.EN) -> None:
        self._out = out
        self.lang = lang
        self._buttons: list[Press] = []
        #: How many times anything was printed; the console uses it to notice silence.
        self.printed = 0

    def sent(self, message: dict[str, Any]) -> None:
        """Print a new message of the bot."""
        self._show(message)

    def edited(self, message: dict[str, Any], *, text: bool) -> None:
        """Print an edited message under a note saying what changed."""
        self.note((_EDITED if text else _BUTTONS_CHANGED)(self.lang))
        self._show(message)

    def unchanged(self) -> None:
        """Note an edit that changed nothing."""
        self.note(_UNCHANGED(self.lang))

    def deleted(self, message_id: int) -> None:
        """Note a deleted message."""
        self.note(_DELETED(self.lang))

    def alert(self, text: str, *, show_alert: bool) -> None:
        """Print the answer to a button press."""
        self.note((_ALERT(self.lang) + " " if show_alert else "") + text)

    def _show(self, message: dict[str, Any]) -> None:
        """Print a message and number its buttons; those become the ones a number presses."""
        lines = []
        for photo in message.get("photo", [])[-1:]:
            kb = max(1, round(int(photo.get("file_size", 0)) / 1024))
            lines.append(_PHOTO(self.lang).format(name=photo.get("file_id", ""), kb=kb))
        if "text" in message or "caption" in message:
            text = message.get("text", message.get("caption", ""))
            entities = message.get("entities", message.get("caption_entities", []))
            lines.append(with_link_addresses(text, entities))
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        buttons: list[Press] = []
        for row in rows:
            shown = []
            for button in row:
                if "callback_data" in button:
                    buttons.append(Press(button["callback_data"], message))
                    shown.append(f"[{len(buttons)}] {button['text']}")
                elif "url" in button:
                    shown.append(f"{button['text']}: {button['url']}")
                else:
                    shown.append(button["text"])
            lines.append("  ".join(shown))
        if buttons:
            self._buttons = buttons
        self.note("\n".join(lines) + "\n")

    def note(self, text: str) -> None:
        """Print ``text`` as one entry of the chat (a line break is added)."""
        self.printed += 1
        try:
            self._out.write(text + "\n")
        except UnicodeEncodeError:
            # A terminal that cannot show emoji still gets the words.
            encoding = getattr(self._out, "encoding", None) or "ascii"
            self._out.write((text + "\n").encode(encoding, "replace").decode(encoding))
        self._out.flush()

    def press(self, number: int) -> Press | None:
        """The button numbered ``number`` in the last keyboard shown, if there is one."""
        if 1 <= number <= len(self._buttons):
            return self._buttons[number - 1]
        return None


def console_session(
    printer: Printer,
    *,
    user_id: int,
    next_message_id: Callable[[], int],
    clock: Callable[[], float] = time.time,
) -> ChatSession:
    """The in-process Bot API of the console: a private chat with ``user_id`` shown by
    ``printer``; the bot is :data:`CONSOLE_BOT_ID` (token :data:`CONSOLE_TOKEN`)."""
    return ChatSession(
        printer,
        user_id=user_id,
        next_message_id=next_message_id,
        clock=clock,
        bot_username=CONSOLE_BOT_USERNAME,
    )


# --- the console loop ---------------------------------------------------------------------------


async def run_console(
    settings: Settings,
    *,
    user_id: int,
    demo: bool,
    open_dispatcher: Callable[[Settings], AbstractAsyncContextManager[Dispatcher]],
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    clock: Callable[[], float] = time.time,
    lang: Lang | None = None,
) -> int:
    """Read lines until ``/quit``, ``exit`` or end of input and answer each through the bot's
    Dispatcher, one line at a time, in order; returns the exit code (0).

    The console user ``user_id`` writes in a private chat in ``lang`` (by default the one the
    locale environment names, :func:`console_lang`). It is an admin
    of this session when it is :data:`CONSOLE_USER_ID` (the default) or in ``ADMIN_IDS``.
    ``open_dispatcher`` (the composition root's) opens the bot's parts for these settings;
    ``demo`` only changes the banner. No Telegram token is needed and no Bot API request
    leaves the process.
    """
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    terminal = _is_terminal(stdin)
    editing = terminal and stdin is sys.stdin and stdout is sys.stdout and _load_readline()
    lang = lang if lang is not None else console_lang(os.environ)
    if user_id == CONSOLE_USER_ID:
        settings = settings.model_copy(update={"admin_ids": settings.admin_ids | {user_id}})
    async with AsyncExitStack() as stack:
        # aiogram and httpx log every update and request at INFO; in a console the answers
        # are the log, and stderr would interleave with them on the terminal. DEBUG keeps all.
        # On a terminal stderr shows between the answers too: only what needs attention.
        chatty_names = ("", *_CHATTY_LOGGERS) if _is_terminal(sys.stderr) else _CHATTY_LOGGERS
        for name in chatty_names:
            chatty = logging.getLogger(name or None)
            if chatty.getEffectiveLevel() == logging.INFO:
                stack.callback(chatty.setLevel, chatty.level)
                chatty.setLevel(logging.WARNING)
        if editing:
            stack.enter_context(_terminal_restored(stdin))
        dispatcher = await stack.enter_async_context(open_dispatcher(settings))
        ids = itertools.count(1)
        printer = Printer(stdout, lang)
        session = console_session(
            printer, user_id=user_id, next_message_id=lambda: next(ids), clock=clock
        )
        bot = Bot(
            CONSOLE_TOKEN,
            session=session,
            default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
        )
        stack.push_async_callback(bot.session.close)
        await dispatcher.emit_startup(bot=bot, **dispatcher.workflow_data)
        stack.push_async_callback(dispatcher.emit_shutdown, bot=bot, **dispatcher.workflow_data)
        if terminal:
            _write(stdout, _banner(settings, user_id, demo, lang))
        chat = _Chat(dispatcher, bot, session, printer, ids, clock, lang)
        while True:
            if editing:
                line = await _read_line(stdin, prompt="> ")
            else:
                if terminal:
                    _write(stdout, "> ")
                line = await _read_line(stdin)
            if not line:
                if terminal:
                    _write(stdout, "\n")
                # Answers still coming (edits) are printed before the console closes.
                followups = dispatcher.workflow_data.get("followups")
                if followups is not None:
                    await followups.wait(within=FOLLOW_UPS_AT_END)
                break
            text = line.strip()
            if text.lower() in _QUIT:
                break
            if not text:
                continue
            if not terminal:  # the terminal showed what was typed; a transcript shows it too
                _write(stdout, f"> {echoed(text, lang)}\n")
            handled = await chat.say(text)
            if not handled and terminal:
                _write(stdout, _NO_ANSWER(lang) + "\n\n")
    return 0


class _Chat:
    """Turns typed lines into updates from the console user and feeds them, one at a time."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        session: ChatSession,
        printer: Printer,
        message_ids: itertools.count[int],
        clock: Callable[[], float],
        lang: Lang,
    ) -> None:
        self._dispatcher = dispatcher
        self._bot = bot
        self._printer = printer
        self._chat = session.chat
        self._user = {
            "id": self._chat["id"],
            "is_bot": False,
            "first_name": self._chat["first_name"],
            "language_code": lang.value,
        }
        self._message_ids = message_ids
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._clock = clock

    async def say(self, text: str) -> bool:
        """Feed ``text`` (or the press of the button it numbers); whether anything answered."""
        press = None
        if text.isascii() and text.isdigit() and len(text) <= _BUTTON_DIGITS:
            press = self._printer.press(int(text))
        update: dict[str, Any] = {"update_id": next(self._update_ids)}
        if press is not None:
            update["callback_query"] = {
                "id": str(next(self._callback_ids)),
                "from": self._user,
                "chat_instance": "console",
                "message": press.message,
                "data": press.data,
            }
        else:
            update["message"] = {
                "message_id": next(self._message_ids),
                "date": int(self._clock()),
                "chat": self._chat,
                "from": self._user,
                "text": text,
            }
        printed = self._printer.printed
        try:
            result = await self._dispatcher.feed_update(
                self._bot, Update.model_validate(update, context={"bot": self._bot})
            )
        except Exception:
            # The error router answers every failure; this is only reached if it failed too.
            logger.exception("update %s failed", update["update_id"])
            self._printer.note(_BOT_FAILED(self._printer.lang) + "\n")
            return True
        return result is not UNHANDLED or self._printer.printed != printed


def console_lang(environ: Mapping[str, str]) -> Lang:
    """The console's language from the locale environment, as gettext reads it for messages.

    ``LANGUAGE`` (a ``:``-separated list of preferences, ``ru:en``) comes first: its first entry
    that is English or Russian decides. Otherwise the first set of ``LC_ALL``, ``LC_MESSAGES``
    and ``LANG`` (POSIX precedence) does: Russian for ``ru…``, English for anything else (``C``
    included). Unlike gettext, ``LANGUAGE`` counts under the ``C`` locale too: a container
    often has no locale at all, and whoever sets ``LANGUAGE=ru`` means it.
    """
    for entry in environ.get("LANGUAGE", "").split(":"):
        primary = entry.strip().replace("-", "_").split("_", 1)[0].lower()
        if primary in {"en", "ru"}:
            return lang_for(primary)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "").strip()
        if value:
            return lang_for(value.split(".", 1)[0])
    return Lang.EN


def _banner(settings: Settings, user_id: int, demo: bool, lang: Lang) -> str:
    admin = user_id in settings.admin_ids
    lines = [
        _TITLE(lang) + (_TITLE_DEMO(lang) if demo else "") + ".",
        (_YOU_ADMIN if admin else _YOU_NOT_ADMIN)(lang).format(user_id=user_id),
        _HOW(lang),
    ]
    if demo and admin:
        lines.append(_TRY(lang))
        lines.extend(f"  {phone}  {what}" for phone, what in DEMO_NUMBERS.items())
    elif demo:
        lines.append(_NO_ACCESS(lang).format(user_id=user_id, account=DEMO_ACCOUNT))
    return "\n".join(lines) + "\n\n"


def echoed(text: str, lang: Lang) -> str:
    """A typed line as the console shows it back: an API key replaced by "‹key hidden›" (the
    name of ``/addkey NAME KEY`` and ``/rekey NAME KEY`` stays, so the transcript reads)."""
    if not commands.carries_key(text):
        return text
    words = text.split()
    hidden = _KEY_HIDDEN(lang)
    if words[0].split("@", 1)[0].lower() == "/login" or len(words) < 3:
        return f"{words[0]} {hidden}" if len(words) > 1 else words[0]
    return f"{words[0]} {words[1]} {hidden}"


def _load_readline() -> bool:
    """Load ``readline`` so that ``input()`` edits lines and keeps a history; False where
    Python has none (Windows without pyreadline)."""
    try:
        import readline  # noqa: F401 - loading it is what turns line editing on
    except ImportError:
        return False
    return True


def _forget_last_line() -> None:
    """Take the line just read out of readline's history (it carried an API key)."""
    import readline  # loaded by _load_readline before any line is read

    length = readline.get_current_history_length()
    if length > 0:
        readline.remove_history_item(length - 1)


@contextlib.contextmanager
def _terminal_restored(stream: TextIO) -> Iterator[None]:
    """Put the terminal's settings back on the way out: readline changes them while it reads,
    and a Ctrl-C can end the console in the middle of a read."""
    try:
        import termios  # POSIX only

        fd = stream.fileno()
        saved = termios.tcgetattr(fd)
    except (ImportError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _write(stream: TextIO, text: str) -> None:
    stream.write(text)
    stream.flush()


async def _read_line(stream: TextIO, *, prompt: str | None = None) -> str:
    """One line of ``stream`` (``""`` at its end), read without blocking the event loop.

    With ``prompt``, ``stream`` is the terminal's stdin and the line is read by ``input()``,
    which shows the prompt and, with ``readline`` loaded, edits the line and keeps a history
    (a line carrying an API key is taken out of it). A daemon thread per line rather than
    ``asyncio.to_thread``: a read blocked on a terminal must not keep the process alive after
    Ctrl-C (the default executor is joined at exit).
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def deliver(line: str | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(line or "")

    def read() -> None:
        line: str | None
        error: BaseException | None = None
        try:
            if prompt is None:
                line = stream.readline()
            else:
                try:
                    line = input(prompt) + "\n"
                except EOFError:
                    line = ""
                if commands.carries_key(line.strip()):
                    _forget_last_line()
        except Exception as exc:
            line, error = None, exc
        # RuntimeError: the loop is closed, nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(deliver, line, error)

    threading.Thread(target=read, name="console-stdin", daemon=True).start()
    return await future
