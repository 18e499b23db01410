"""``python -m bot shell``: a text console that feeds the Telegram bot's own Dispatcher.

In the convention of Hubot's shell adapter and Errbot's text mode, the chat is an adapter: each
line typed becomes a Telegram message update from the console user in a private chat and goes
through the very same dispatcher the Telegram bot runs (``bot.app.make_dispatcher``) — no command is
implemented twice. The bot's Bot API calls never leave the process: :class:`ConsoleSession`
answers them locally and prints what a chat would show, as plain text, with inline buttons
numbered (``[1] 🔄 Refresh  [2] ⬅️ Older``); typing a button's number presses it.

``/quit``, ``exit`` or end of input (Ctrl-D) leaves. A banner and a ``> `` prompt appear only on
a terminal, so piped output is just the answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import sys
import threading
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Final, TextIO

from aiogram import Bot, Dispatcher
from aiogram.client.default import Default, DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.enums import ParseMode
from aiogram.exceptions import ClientDecodeError, TelegramBadRequest
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendMessage,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup, Update

from bot.settings import Settings
from bot.smsc.simulator import DEMO_ACCOUNT, DEMO_NUMBERS
from bot.text import Lang, lang_for
from bot.text import catalogue as texts

__all__ = ["CONSOLE_BOT_ID", "CONSOLE_USER_ID", "ConsoleSession", "html_to_text", "run_console"]

logger = logging.getLogger(__name__)

#: The console user when ``--user`` is not given; an admin of the console session.
CONSOLE_USER_ID: Final = 1
#: The bot's own user id in the console (the number before ``:`` of its dummy token).
CONSOLE_BOT_ID: Final = 1_000_000_001
CONSOLE_BOT_USERNAME: Final = "console_bot"
_TOKEN: Final = f"{CONSOLE_BOT_ID}:console"
# Telegram's limit for a message text, in UTF-16 code units after entity parsing.
_MESSAGE_LIMIT: Final = 4096
# A line of 1-2 digits presses a button; phone numbers are never that short.
_BUTTON_DIGITS: Final = 2
_CHATTY_LOGGERS: Final = ("aiogram.event", "httpx")
_QUIT: Final = frozenset({"/quit", "/exit", "quit", "exit"})
# The tags Telegram's HTML parse mode accepts; any other tag makes it refuse the message.
_TELEGRAM_TAGS: Final = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "a", "code", "pre", "blockquote", "tg-emoji", "tg-time",
    }
)  # fmt: skip


# --- HTML answers as plain text -----------------------------------------------------------------


class _TelegramHTML(HTMLParser):
    """Text of Telegram-flavoured HTML; remembers the first thing Telegram would refuse."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.problem: str | None = None
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TELEGRAM_TAGS:
            self._refuse(f'unsupported start tag "{tag}"')
        self._open.append((tag, dict(attrs).get("href") if tag == "a" else None))

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1][0] != tag:
            self._refuse(f'unexpected end tag "{tag}"')
            return
        _, href = self._open.pop()
        # A link shows its address, unless the text already is the address.
        if href and not "".join(self.parts).endswith(href):
            self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def close(self) -> None:
        super().close()
        if self._open:
            self._refuse(f'unclosed start tag "{self._open[-1][0]}"')

    def _refuse(self, problem: str) -> None:
        if self.problem is None:
            self.problem = problem


def _parse_html(text: str) -> tuple[str, str | None]:
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts), parser.problem


def html_to_text(text: str) -> str:
    """A Telegram HTML message as a terminal shows it: tags dropped, entities unescaped, a
    link's address in parentheses after its text."""
    return _parse_html(text)[0]


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- the Bot API, answered in the console -------------------------------------------------------


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


class ConsoleSession(BaseSession):
    """An aiogram session that answers Bot API methods in-process and prints the chat.

    ``sendMessage``/``editMessageText`` print the text as plain text with the inline buttons
    numbered and return the ``Message`` Telegram would; like Telegram, they refuse (HTTP 400)
    an empty or too long text, HTML that Telegram cannot parse, and an edit that changes
    nothing. ``deleteMessage`` prints a note, ``answerCallbackQuery`` prints its text,
    ``getMe`` answers the console bot, every other method answers ``True`` — or a 400 when it
    must return an object the console does not have. Nothing goes to any network.
    """

    def __init__(
        self,
        out: TextIO,
        *,
        user_id: int,
        next_message_id: Callable[[], int],
        clock: Callable[[], float] = time.time,
        lang: Lang = Lang.EN,
    ) -> None:
        super().__init__()
        self._lang = lang
        self._out = out
        self._user_id = user_id
        self._next_message_id = next_message_id
        self._clock = clock
        self._messages: dict[int, dict[str, Any]] = {}
        self._buttons: list[Press] = []
        #: How many times anything was printed; the console uses it to notice silence.
        self.printed = 0

    # Bot API ------------------------------------------------------------------------------------

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109  (BaseSession's signature)
    ) -> TelegramType:
        """Answer ``method`` locally (see the class docstring)."""
        result = self._answer(bot, method)
        content = json.dumps({"ok": True, "result": result})
        try:
            return self.check_response(bot, method, 200, content).result  # type: ignore[return-value]
        except ClientDecodeError:
            logger.debug("%s is not available in the console", method.__api_method__)
            raise TelegramBadRequest(
                method=method, message=f"{method.__api_method__} is not available in the console"
            ) from None

    def _answer(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, SendMessage):
            return self._send(bot, method)
        if isinstance(method, EditMessageText):
            return self._edit(bot, method)
        if isinstance(method, EditMessageReplyMarkup):
            return self._edit_markup(method)
        if isinstance(method, DeleteMessage):
            self._messages.pop(method.message_id, None)
            self.note(_DELETED(self._lang))
            return True
        if isinstance(method, AnswerCallbackQuery):
            if method.text:
                self.note((_ALERT(self._lang) + " " if method.show_alert else "") + method.text)
            return True
        if isinstance(method, GetMe):
            return self._bot_user()
        # sendChatAction, setMyCommands and the like change nothing a console shows.
        return True

    def _send(self, bot: Bot, method: SendMessage) -> dict[str, Any]:
        text = self._plain(bot, method, method.text, method.parse_mode)
        message: dict[str, Any] = {
            "message_id": self._next_message_id(),
            "date": int(self._clock()),
            "chat": self._chat(),
            "from": self._bot_user(),
            "text": text,
        }
        self._set_markup(message, method.reply_markup)
        self._messages[message["message_id"]] = message
        self._show(message)
        return message

    def _edit(self, bot: Bot, method: EditMessageText) -> dict[str, Any]:
        message = self._find(method, method.message_id)
        text = self._plain(bot, method, method.text or "", method.parse_mode)
        edited = dict(message, text=text, edit_date=int(self._clock()))
        self._set_markup(edited, method.reply_markup)
        if (edited["text"], edited.get("reply_markup")) == (
            message["text"],
            message.get("reply_markup"),
        ):
            self.note(_UNCHANGED(self._lang))
            raise TelegramBadRequest(
                method=method,
                message="Bad Request: message is not modified: specified new message content "
                "and reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        self._messages[edited["message_id"]] = edited
        self.note(_EDITED(self._lang))
        self._show(edited)
        return edited

    def _edit_markup(self, method: EditMessageReplyMarkup) -> dict[str, Any]:
        message = self._find(method, method.message_id)
        edited = dict(message, edit_date=int(self._clock()))
        self._set_markup(edited, method.reply_markup)
        self._messages[edited["message_id"]] = edited
        self.note(_BUTTONS_CHANGED(self._lang))
        self._show(edited)
        return edited

    def _find(self, method: TelegramMethod[Any], message_id: int | None) -> dict[str, Any]:
        message = self._messages.get(message_id or 0)
        if message is None:
            raise TelegramBadRequest(
                method=method, message="Bad Request: message to edit not found"
            )
        return message

    def _plain(
        self, bot: Bot, method: TelegramMethod[Any], text: str, parse_mode: str | Default | None
    ) -> str:
        if isinstance(parse_mode, Default):
            parse_mode = bot.default[parse_mode.name]
        plain, problem = (text, None) if parse_mode != ParseMode.HTML else _parse_html(text)
        if problem is not None:
            raise TelegramBadRequest(
                method=method, message=f"Bad Request: can't parse entities: {problem}"
            )
        if not plain.strip():
            raise TelegramBadRequest(method=method, message="Bad Request: message text is empty")
        if _utf16_length(plain) > _MESSAGE_LIMIT:
            raise TelegramBadRequest(method=method, message="Bad Request: message is too long")
        return plain

    @staticmethod
    def _set_markup(message: dict[str, Any], markup: Any) -> None:
        if isinstance(markup, InlineKeyboardMarkup) and markup.inline_keyboard:
            message["reply_markup"] = markup.model_dump(mode="json", exclude_none=True)
        elif markup is None:
            message.pop("reply_markup", None)

    def _chat(self) -> dict[str, Any]:
        return {"id": self._user_id, "type": "private", "first_name": "Console"}

    @staticmethod
    def _bot_user() -> dict[str, Any]:
        return {
            "id": CONSOLE_BOT_ID,
            "is_bot": True,
            "first_name": "SMS status bot",
            "username": CONSOLE_BOT_USERNAME,
        }

    # Printing -----------------------------------------------------------------------------------

    def _show(self, message: dict[str, Any]) -> None:
        """Print a message and number its buttons; those become the ones a number presses."""
        lines = [message["text"]]
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

    @property
    def lang(self) -> Lang:
        """The language of the console's own lines."""
        return self._lang

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

    async def close(self) -> None:
        """Nothing to close: no connection was opened."""

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109  (BaseSession's signature)
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        """No files in the console: an empty stream."""
        return
        yield b""  # pragma: no cover  (makes this an async generator)


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

    The console user ``user_id`` writes in a private chat in ``lang`` (by default Russian when
    the ``LANG`` environment variable says ``ru…``, English otherwise). It is an admin
    of this session when it is :data:`CONSOLE_USER_ID` (the default) or in ``ADMIN_IDS``.
    ``open_dispatcher`` (the composition root's) opens the bot's parts for these settings;
    ``demo`` only changes the banner. No Telegram token is needed and no Bot API request
    leaves the process.
    """
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    terminal = _is_terminal(stdin)
    lang = lang if lang is not None else lang_for(os.environ.get("LANG"))
    if user_id == CONSOLE_USER_ID:
        settings = settings.model_copy(update={"admin_ids": settings.admin_ids | {user_id}})
    async with AsyncExitStack() as stack:
        # aiogram and httpx log every update and request at INFO; in a console the answers
        # are the log, and stderr would interleave with them on the terminal. DEBUG keeps all.
        for name in _CHATTY_LOGGERS:
            chatty = logging.getLogger(name)
            if chatty.getEffectiveLevel() == logging.INFO:
                stack.callback(chatty.setLevel, chatty.level)
                chatty.setLevel(logging.WARNING)
        dispatcher = await stack.enter_async_context(open_dispatcher(settings))
        ids = itertools.count(1)
        session = ConsoleSession(
            stdout, user_id=user_id, next_message_id=lambda: next(ids), clock=clock, lang=lang
        )
        bot = Bot(
            _TOKEN,
            session=session,
            default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
        )
        stack.push_async_callback(bot.session.close)
        await dispatcher.emit_startup(bot=bot, **dispatcher.workflow_data)
        stack.push_async_callback(dispatcher.emit_shutdown, bot=bot, **dispatcher.workflow_data)
        if terminal:
            _write(stdout, _banner(settings, user_id, demo, lang))
        chat = _Chat(dispatcher, bot, session, user_id, ids, clock, lang)
        while True:
            if terminal:
                _write(stdout, "> ")
            line = await _read_line(stdin)
            if not line:
                if terminal:
                    _write(stdout, "\n")
                break
            text = line.strip()
            if text.lower() in _QUIT:
                break
            if not text:
                continue
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
        session: ConsoleSession,
        user_id: int,
        message_ids: itertools.count[int],
        clock: Callable[[], float],
        lang: Lang,
    ) -> None:
        self._dispatcher = dispatcher
        self._bot = bot
        self._session = session
        self._user = {
            "id": user_id,
            "is_bot": False,
            "first_name": "Console",
            "language_code": lang.value,
        }
        self._chat = {"id": user_id, "type": "private", "first_name": "Console"}
        self._message_ids = message_ids
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._clock = clock

    async def say(self, text: str) -> bool:
        """Feed ``text`` (or the press of the button it numbers); whether anything answered."""
        press = None
        if text.isascii() and text.isdigit() and len(text) <= _BUTTON_DIGITS:
            press = self._session.press(int(text))
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
        printed = self._session.printed
        try:
            result = await self._dispatcher.feed_update(
                self._bot, Update.model_validate(update, context={"bot": self._bot})
            )
        except Exception:
            # The error router answers every failure; this is only reached if it failed too.
            logger.exception("update %s failed", update["update_id"])
            self._session.note(_BOT_FAILED(self._session.lang) + "\n")
            return True
        return result is not UNHANDLED or self._session.printed != printed


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


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _write(stream: TextIO, text: str) -> None:
    stream.write(text)
    stream.flush()


async def _read_line(stream: TextIO) -> str:
    """One line of ``stream`` (``""`` at its end), read without blocking the event loop.

    A daemon thread per line rather than ``asyncio.to_thread``: a read blocked on a terminal
    must not keep the process alive after Ctrl-C (the default executor is joined at exit).
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
        try:
            line, error = stream.readline(), None
        except Exception as exc:
            line, error = None, exc
        # RuntimeError: the loop is closed, nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(deliver, line, error)

    threading.Thread(target=read, name="console-stdin", daemon=True).start()
    return await future
