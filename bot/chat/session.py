"""Bot API sessions answered in this process: no network, aiogram's own answer checking.

:class:`LocalSession` is the transport: an aiogram ``BaseSession`` whose ``answer`` coroutine
returns a Bot API result or raises :class:`BotApiError`, which aiogram's ``check_response`` turns
into the very exception an HTTP answer would (``TelegramBadRequest``, ``TelegramRetryAfter``…).
It records every answered call in ``calls``, so a caller (the console's tests) can read what the
bot did.

:class:`ChatSession` is one private chat held in memory, as the console needs it: the bot's
messages with their inline keyboards, Telegram's refusals (HTML it cannot parse, an empty or too
long text, an edit that changes nothing, an unknown message), and a :class:`ChatView` told what
a chat would show. The console prints; a test may just read ``messages`` and ``calls``.
"""

from __future__ import annotations

import json
import time
from abc import abstractmethod
from collections.abc import AsyncGenerator, Callable
from typing import Any, Final, Protocol

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup

from bot.chat.telegram_html import HtmlParseError, parse_html, utf16_length

__all__ = ["BotApiError", "ChatSession", "ChatView", "LocalSession"]

JsonDict = dict[str, Any]

# Telegram's limits for a message text and a photo's caption, in UTF-16 code units after
# entity parsing.
_MESSAGE_LIMIT: Final = 4096
_CAPTION_LIMIT: Final = 1024
_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class BotApiError(Exception):
    """An error answer of the Bot API: HTTP ``status`` (= ``error_code``) and ``description``;
    ``retry_after`` for a 429; ``raw_body`` answers that body verbatim instead of JSON (the HTML
    page of a proxy in front of Telegram)."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        raw_body: str | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.raw_body = raw_body

    def body(self) -> str:
        """The answer Telegram sends for this error."""
        if self.raw_body is not None:
            return self.raw_body
        answer: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            answer["parameters"] = {"retry_after": self.retry_after}
        return json.dumps(answer)


class LocalSession(BaseSession):
    """An aiogram session whose Bot API lives in this process (see the module docstring).

    Subclasses implement :meth:`answer`. Session middlewares (retries) run as over HTTP.
    """

    def __init__(self) -> None:
        super().__init__()
        #: Every call answered successfully, in order.
        self.calls: list[TelegramMethod[Any]] = []

    @abstractmethod
    async def answer(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        """The JSON ``result`` of ``method``, or raise :class:`BotApiError`."""

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109  (BaseSession's signature)
    ) -> TelegramType:
        """Answer ``method`` through :meth:`answer` and aiogram's own response checking."""
        try:
            result = await self.answer(bot, method)
        except BotApiError as error:
            status, content = error.status, error.body()
        else:
            status, content = 200, json.dumps({"ok": True, "result": result})
        response = self.check_response(bot, method, status, content)
        self.calls.append(method)
        return response.result  # type: ignore[return-value]

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
        """No files in this process: an empty stream."""
        return
        yield b""  # pragma: no cover  (makes this an async generator)


class ChatView(Protocol):
    """What a chat shows when the bot acts in it."""

    def sent(self, message: JsonDict) -> None:
        """The bot sent ``message`` (a Bot API ``Message``)."""

    def edited(self, message: JsonDict, *, text: bool) -> None:
        """The bot edited a message into ``message``: its text (``text``) or only its buttons."""

    def unchanged(self) -> None:
        """The bot asked for an edit that changes nothing (Telegram refuses it)."""

    def deleted(self, message_id: int) -> None:
        """The bot deleted a message."""

    def alert(self, text: str, *, show_alert: bool) -> None:
        """The bot answered a button press with ``text`` (a toast, or an alert box)."""


class ChatSession(LocalSession):
    """One private chat with ``user_id``, answered in memory like Telegram (module docstring).

    ``sendMessage``, ``sendPhoto`` (an upload, kept as its name and size), ``editMessageText``,
    ``editMessageReplyMarkup``, ``deleteMessage``,
    ``answerCallbackQuery`` and ``getMe`` are served; every other method answers ``True`` when
    it returns a bool (``sendChatAction``, ``setMyCommands``: nothing a chat shows) and is
    refused with a 400 when it must return an object this chat does not have.
    """

    def __init__(
        self,
        view: ChatView,
        *,
        user_id: int,
        next_message_id: Callable[[], int],
        clock: Callable[[], float] = time.time,
        bot_name: str = "SMS status bot",
        bot_username: str = "local_bot",
    ) -> None:
        super().__init__()
        self._view = view
        self._next_message_id = next_message_id
        self._clock = clock
        self._bot_name = bot_name
        self._bot_username = bot_username
        #: The private chat, as a Bot API ``Chat``.
        self.chat: JsonDict = {"id": user_id, "type": "private", "first_name": "Console"}
        #: The bot's messages that still exist, by message id, as they stand now.
        self.messages: dict[int, JsonDict] = {}

    async def answer(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        """Serve ``method`` (see the class docstring)."""
        if isinstance(method, SendMessage):
            return self._send(bot, method)
        if isinstance(method, SendPhoto):
            return self._send_photo(bot, method)
        if isinstance(method, EditMessageText):
            return self._edit(bot, method)
        if isinstance(method, EditMessageReplyMarkup):
            return self._edit_markup(method)
        if isinstance(method, DeleteMessage):
            self.messages.pop(method.message_id, None)
            self._view.deleted(method.message_id)
            return True
        if isinstance(method, AnswerCallbackQuery):
            if method.text:
                self._view.alert(method.text, show_alert=bool(method.show_alert))
            return True
        if isinstance(method, GetMe):
            return self._bot_user(bot)
        if method.__returning__ is bool:
            return True
        raise BotApiError(400, f"Bad Request: {method.__api_method__} is not available here")

    def _send(self, bot: Bot, method: SendMessage) -> JsonDict:
        text = self._text(bot, method.text, method.parse_mode)  # a refused text takes no id
        message: JsonDict = {
            "message_id": self._next_message_id(),
            "date": int(self._clock()),
            "chat": self.chat,
            "from": self._bot_user(bot),
            **text,
        }
        self._set_markup(message, method.reply_markup)
        self.messages[message["message_id"]] = message
        self._view.sent(message)
        return message

    def _send_photo(self, bot: Bot, method: SendPhoto) -> JsonDict:
        """An uploaded photo: kept as its file name and size (a chat in text shows no
        pixels), with its caption."""
        upload = method.photo
        if not isinstance(upload, BufferedInputFile):
            raise BotApiError(400, "Bad Request: there is no photo in the request")
        caption: JsonDict = {}
        if method.caption:
            parsed = self._text(bot, method.caption, method.parse_mode)
            if utf16_length(parsed["text"]) > _CAPTION_LIMIT:
                raise BotApiError(400, "Bad Request: message caption is too long")
            caption = {"caption": parsed["text"]}
            if "entities" in parsed:
                caption["caption_entities"] = parsed["entities"]
        name = upload.filename or "photo"
        message: JsonDict = {
            "message_id": self._next_message_id(),
            "date": int(self._clock()),
            "chat": self.chat,
            "from": self._bot_user(bot),
            "photo": [_photo_size(name, upload.data)],
            **caption,
        }
        self._set_markup(message, method.reply_markup)
        self.messages[message["message_id"]] = message
        self._view.sent(message)
        return message

    def _edit(self, bot: Bot, method: EditMessageText) -> JsonDict:
        message = self._find(method.message_id)
        edited = {k: v for k, v in message.items() if k not in ("text", "entities")}
        edited.update(self._text(bot, method.text or "", method.parse_mode))
        edited["edit_date"] = int(self._clock())
        self._set_markup(edited, method.reply_markup)
        unchanged = ("text", "entities", "reply_markup")
        if [edited.get(key) for key in unchanged] == [message.get(key) for key in unchanged]:
            self._view.unchanged()
            raise BotApiError(400, _NOT_MODIFIED)
        self.messages[edited["message_id"]] = edited
        self._view.edited(edited, text=True)
        return edited

    def _edit_markup(self, method: EditMessageReplyMarkup) -> JsonDict:
        edited = dict(self._find(method.message_id), edit_date=int(self._clock()))
        self._set_markup(edited, method.reply_markup)
        self.messages[edited["message_id"]] = edited
        self._view.edited(edited, text=False)
        return edited

    def _find(self, message_id: int | None) -> JsonDict:
        message = self.messages.get(message_id or 0)
        if message is None:
            raise BotApiError(400, "Bad Request: message to edit not found")
        return message

    @staticmethod
    def _text(bot: Bot, text: str, parse_mode: str | Default | None) -> JsonDict:
        """The ``text`` and ``entities`` of a message as Telegram stores them, or its refusal."""
        if isinstance(parse_mode, Default):
            parse_mode = bot.default[parse_mode.name]
        entities: list[JsonDict] = []
        if parse_mode == ParseMode.HTML:
            try:
                text, entities = parse_html(text)
            except HtmlParseError as error:
                raise BotApiError(400, f"Bad Request: {error}") from None
        if not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        if utf16_length(text) > _MESSAGE_LIMIT:
            raise BotApiError(400, "Bad Request: message is too long")
        return {"text": text, "entities": entities} if entities else {"text": text}

    @staticmethod
    def _set_markup(message: JsonDict, markup: Any) -> None:
        if isinstance(markup, InlineKeyboardMarkup) and markup.inline_keyboard:
            message["reply_markup"] = markup.model_dump(mode="json", exclude_none=True)
        elif markup is None:
            message.pop("reply_markup", None)

    def _bot_user(self, bot: Bot) -> JsonDict:
        return {
            "id": bot.id,
            "is_bot": True,
            "first_name": self._bot_name,
            "username": self._bot_username,
        }


def _photo_size(name: str, data: bytes) -> JsonDict:
    """A Bot API ``PhotoSize`` of an upload: its size in pixels read from a PNG's header
    (0 for anything else), ``name`` for its file id."""
    png = data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24
    width, height = (int.from_bytes(data[16:20]), int.from_bytes(data[20:24])) if png else (0, 0)
    return {
        "file_id": name,
        "file_unique_id": name,
        "width": width,
        "height": height,
        "file_size": len(data),
    }
