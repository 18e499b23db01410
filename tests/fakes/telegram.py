"""A fake Telegram Bot API server: real HTTP on 127.0.0.1, for a real aiogram `Bot` to talk to.

    async with FakeTelegramServer() as telegram:
        bot = telegram.make_bot()      # Bot(token, session=AiohttpSession(api=…from_base(url)))
        telegram.push_update(message_update("/start"))   # delivered through getUpdates
        ...
        await bot.session.close()

It answers as Telegram does, down to the error texts aiogram maps to exceptions:

- `getMe`, `getUpdates` (offset/limit/timeout long polling over a queue filled by
  `push_update`; a newer concurrent getUpdates ends the older one with 409 Conflict),
  `deleteWebhook`, `getWebhookInfo`, `sendMessage`, `editMessageText`,
  `editMessageReplyMarkup`, `deleteMessage`, `answerCallbackQuery`, `setMyCommands`,
  `deleteMyCommands`, `getMyCommands` (kept per scope and language), `sendChatAction`,
  `close`, `logOut`; any other method is 404 "Not Found: method not found".
- A wrong token is 401 "Unauthorized".
- HTML texts are parsed by a port of Telegram's own parser (tdlib `parse_html`): an unescaped
  `<`, an unknown tag or an unclosed tag is 400 "Bad Request: can't parse entities: …", and the
  returned `Message` carries the plain text and its entities. Texts over 4096 characters after
  parsing, empty texts, and inline buttons with 0 or over 64 bytes of callback data are refused
  with Telegram's descriptions. Markdown parse modes are passed through unparsed.
- `fail_next` and `disconnect_next` script failures of the next calls of a method.

Leniencies, so that tests feeding updates straight to a Dispatcher need no set-up: a chat id
the server has never seen is accepted (a private chat if positive, a group if negative), and
a reply to an unknown message is sent without `reply_to_message`. Edits and deletions, however,
need a message the server knows: one the bot sent, or one seen in a pushed or observed update.

Every answered call is recorded as an `ApiCall` in `calls` (successful) or `failed_calls`
(error answers, including 401 and scripted failures, and dropped connections).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from tests.fakes.updates import (
    BOT_FIRST_NAME,
    BOT_ID,
    BOT_USERNAME,
    next_message_id,
    next_update_id,
    update_type,
    utf16_length,
)

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]

MESSAGE_MAX_LENGTH: Final = 4096
CALLBACK_DATA_MAX_BYTES: Final = 64
CALLBACK_ANSWER_MAX_LENGTH: Final = 200
COMMANDS_MAX: Final = 100

NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "of the message are exactly the same as a current content and reply markup of the message"
)
CONFLICT_GET_UPDATES: Final = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)

# Fields whose value is text even when it looks like a number or JSON ("123", "true"):
# aiogram sends strings raw, and decoding these would change what the bot said.
_TEXT_FIELDS: Final = frozenset(
    [
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "language_code",
        "action",
        "url",
        "description",
        "short_description",
        "name",
        "title",
        "query",
        "business_connection_id",
        "message_effect_id",
        "secret_token",
        "ip_address",
        "emoji",
    ]
)

# Telegram does not send these kinds unless they are asked for by name in allowed_updates.
_OPT_IN_UPDATES: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_CHAT_ACTIONS: Final = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ]
)

# An inline button carries its text and exactly one of these.
_BUTTON_ACTIONS: Final = frozenset(
    [
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    ]
)

_DEFAULT_DESCRIPTIONS: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass
class ApiCall:
    """One request the fake answered: the Bot API method and its decoded parameters.

    Parameters arrive as form fields; they are decoded the way aiogram encoded them: JSON-looking
    values (reply_markup, commands, scope, entities, numbers, booleans) become Python objects,
    text fields (`text`, `parse_mode`, …) stay exactly as sent, uploaded files become bytes.
    For a failed call `status` is the HTTP status answered (0: connection dropped) and
    `description` Telegram's error text.
    """

    method: str
    params: dict[str, Any]
    status: int = 200
    description: str | None = None

    def int_param(self, name: str) -> int:
        """Parameter `name` as an int, whether it came typed or as a string of digits."""
        value = self.params[name]
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(f"{self.method}.{name} is {value!r}, not an integer")
        return int(value)

    @property
    def text(self) -> str | None:
        """The `text` parameter, as sent (HTML tags included), or None."""
        value = self.params.get("text")
        return value if isinstance(value, str) else None


class TelegramApiError(Exception):
    """An error answer of the Bot API: HTTP status (= error_code) and description."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


@dataclass(frozen=True)
class _ScriptedFailure:
    """What `fail_next` or `disconnect_next` asked the next call of a method to do."""

    error: TelegramApiError | None  # None: drop the connection without an answer
    raw_body: str | None = None


@dataclass
class _StoredMessage:
    """A message the server knows, as a Bot API `Message` object, and who wrote it."""

    message: JsonDict
    by_bot: bool


@dataclass
class _OpenTag:
    """A start tag whose end tag the HTML parser has not reached yet."""

    name: str
    argument: str
    offset: int  # in UTF-16 code units of the parsed text
    start: int  # index into the parsed text (code points)


# ---------------------------------------------------------------------------------------------
# HTML parse mode: a port of tdlib's parse_html (td/telegram/MessageEntity.cpp), with its
# error messages, so that the bot's escaping is tested against Telegram's rules, not ours.
# ---------------------------------------------------------------------------------------------

_HTML_TAGS: Final = frozenset(
    [
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    ]
)
_SIMPLE_ENTITIES: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
}
_NAMED_ENTITIES: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES: Final = " \t\r\n\v\0"


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the character reference at `text[pos] == "&"`: (character, index after it).

    Telegram knows only &lt; &gt; &amp; &quot; and numeric references; anything else is None
    and the "&" stays literal text.
    """
    end = pos + 1
    if text.startswith("#", end):
        end += 1
        hexadecimal = text.startswith("x", end)
        if hexadecimal:
            end += 1
        digits_start = end
        allowed = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        while end < len(text) and text[end] in allowed:
            end += 1
        digits = text[digits_start:end]
        code = int(digits, 16 if hexadecimal else 10) if digits else 0
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None
        character = chr(code)
    else:
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
        named = _NAMED_ENTITIES.get(text[pos + 1 : end])
        if named is None:
            return None
        character = named
    if text.startswith(";", end):
        end += 1
    return character, end


def parse_html(text: str) -> tuple[str, list[JsonDict]]:
    """Parse a text in Telegram's HTML style into plain text and Bot API entities.

    Raises `TelegramApiError(400, "Bad Request: can't parse entities: …")` where Telegram would.
    """

    def at(index: int) -> str:
        return text[index] if index < len(text) else "\0"

    def byte_offset(index: int) -> int:
        return len(text[:index].encode())

    def refuse(reason: str) -> TelegramApiError:
        return TelegramApiError(400, f"Bad Request: can't parse entities: {reason}")

    out: list[str] = []
    utf16 = 0
    entities: list[JsonDict] = []
    open_tags: list[_OpenTag] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                out.append(decoded[0])
                utf16 += utf16_length(decoded[0])
                i = decoded[1]
                continue
        if c != "<":
            out.append(c)
            utf16 += utf16_length(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            while at(i) not in _SPACES and at(i) != ">":
                i += 1
            if i >= len(text):
                raise refuse(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            tag = text[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise refuse(f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}')
            argument = ""
            while at(i) != ">":
                while i < len(text) and at(i) in _SPACES:
                    i += 1
                if at(i) == ">":
                    break
                name_start = i
                while at(i) not in _SPACES and at(i) != "=":
                    i += 1
                attribute = text[name_start:i]
                if not attribute:
                    raise refuse(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{byte_offset(begin)}"
                    )
                while i < len(text) and at(i) in _SPACES:
                    i += 1
                if at(i) != "=":
                    raise refuse(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {byte_offset(begin)}'
                    )
                i += 1
                while i < len(text) and at(i) in _SPACES:
                    i += 1
                if i >= len(text):
                    raise refuse(f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}')
                if at(i) not in "'\"":
                    # A name token: letters, digits, periods, hyphens; case-insensitive.
                    token_start = i
                    while at(i).isascii() and (at(i).isalnum() or at(i) in ".-"):
                        i += 1
                    value = text[token_start:i].lower()
                    if at(i) not in _SPACES and at(i) != ">":
                        where = byte_offset(token_start)
                        raise refuse(f"Unexpected end of name token at byte offset {where}")
                else:
                    quote = text[i]
                    i += 1
                    chars: list[str] = []
                    while i < len(text) and text[i] != quote:
                        if text[i] == "&":
                            decoded = _decode_html_entity(text, i)
                            if decoded is not None:
                                chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        chars.append(text[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if i >= len(text):
                    raise refuse(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                if tag == "a" and attribute == "href":
                    argument = value
                elif tag == "code" and attribute == "class" and value.startswith("language-"):
                    argument = value.removeprefix("language-")
                elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                    argument = value.removeprefix("tg-")
                elif tag == "tg-emoji" and attribute == "emoji-id":
                    argument = value
            i += 1  # past ">"
            if tag == "span" and argument != "spoiler":
                raise refuse(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
                )
            open_tags.append(_OpenTag(tag, argument, utf16, len(out)))
            continue

        # An end tag.
        if not open_tags:
            raise refuse(f"Unexpected end tag at byte offset {byte_offset(begin)}")
        while at(i) not in _SPACES and at(i) != ">":
            i += 1
        end_tag = text[begin + 2 : i].lower()
        while i < len(text) and at(i) in _SPACES:
            i += 1
        if at(i) != ">":
            raise refuse(f"Unclosed end tag at byte offset {byte_offset(begin)}")
        i += 1
        top = open_tags.pop()
        if end_tag and end_tag != top.name:
            raise refuse(
                f"Unmatched end tag at byte offset {byte_offset(begin)}, "
                f'expected "</{top.name}>", found "</{end_tag}>"'
            )
        if utf16 > top.offset:
            entity = _entity_for(top, utf16 - top.offset, "".join(out[top.start :]), entities)
            if entity is not None:
                entities.append(entity)
    if open_tags:
        raise refuse(f"Can't find end tag corresponding to start tag {open_tags[-1].name}")
    entities = _strip_code_languages(entities)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _entity_for(
    tag: _OpenTag, length: int, inner_text: str, entities: list[JsonDict]
) -> JsonDict | None:
    """The entity a closed tag makes; a <pre><code class="language-x"> pair merges in place."""
    entity: JsonDict = {"offset": tag.offset, "length": length}
    if tag.name in _SIMPLE_ENTITIES:
        return {"type": _SIMPLE_ENTITIES[tag.name], **entity}
    if tag.name == "tg-emoji":
        if not tag.argument.isdigit() or int(tag.argument) == 0:
            raise TelegramApiError(
                400, "Bad Request: can't parse entities: Invalid custom emoji identifier specified"
            )
        return {"type": "custom_emoji", **entity, "custom_emoji_id": tag.argument}
    if tag.name == "a":
        url = tag.argument or inner_text
        # Telegram drops links it cannot make sense of rather than refusing the message.
        return {"type": "text_link", **entity, "url": url} if url.strip() else None
    last = entities[-1] if entities else None
    same_span = last is not None and (last["offset"], last["length"]) == (tag.offset, length)
    if tag.name == "pre":
        if last is not None and same_span and last["type"] == "code" and last.get("language"):
            entities.pop()
            return {"type": "pre", **entity, "language": last["language"]}
        return {"type": "pre", **entity}
    # tag.name == "code"
    if last is not None and same_span and last["type"] == "pre" and tag.argument:
        entities.pop()
        return {"type": "pre", **entity, "language": tag.argument}
    if tag.argument:
        # A language is kept only while a <pre> may still claim it; see the "pre" branch.
        return {"type": "code", **entity, "language": tag.argument}
    return {"type": "code", **entity}


def _strip_code_languages(entities: list[JsonDict]) -> list[JsonDict]:
    """Telegram keeps a language only on `pre` entities."""
    return [
        {k: v for k, v in e.items() if k != "language"} if e["type"] == "code" else e
        for e in entities
    ]


# ---------------------------------------------------------------------------------------------
# Request decoding
# ---------------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _decode_field(name: str, value: str) -> Any:
    """Undo aiogram's encoding of one form field (see `BaseSession.prepare_value`)."""
    if name in _TEXT_FIELDS:
        return value
    try:
        # NaN/Infinity are strings to us, not floats.
        return json.loads(value, parse_constant=_reject_constant)
    except ValueError:
        return value


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Parameters from the query string and a urlencoded, multipart or JSON body."""
    params: dict[str, Any] = {k: _decode_field(k, v) for k, v in request.query.items()}
    if not request.can_read_body:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as e:
            raise TelegramApiError(400, "Bad Request: can't parse JSON object") from e
        if not isinstance(body, dict):
            raise TelegramApiError(400, "Bad Request: parameters must be a JSON object")
        for key, value in body.items():
            # Some clients send nested objects JSON-encoded even inside a JSON body.
            is_encoded = isinstance(value, str) and key not in _TEXT_FIELDS
            params[key] = _decode_field(key, value) if is_encoded else value
        return params
    form = await request.post()
    for key, field_value in form.items():
        if isinstance(field_value, web.FileField):
            params[key] = field_value.file.read()
        elif isinstance(field_value, str):
            params[key] = _decode_field(key, field_value)
        else:
            params[key] = _decode_field(key, bytes(field_value).decode(errors="replace"))
    return params


def _chat_id_param(params: JsonDict, name: str = "chat_id") -> int | str:
    value = params.get(name)
    if value is None or value == "":
        raise TelegramApiError(400, f"Bad Request: {name} is empty")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TelegramApiError(400, f"Bad Request: invalid {name} specified")
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


def _int_param(params: JsonDict, name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    if value is None:
        raise TelegramApiError(400, f"Bad Request: {name} is empty")
    if isinstance(value, bool):
        raise TelegramApiError(400, f"Bad Request: invalid {name} specified")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise TelegramApiError(400, f"Bad Request: invalid {name} specified")


def _scope_key(scope: Any) -> str:
    """A canonical key for a BotCommandScope (chat ids compared as numbers when numeric)."""
    if scope is None or scope == "":
        scope = {"type": "default"}
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise TelegramApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
    normalized = dict(scope)
    for key in ("chat_id", "user_id"):
        if key in normalized:
            normalized[key] = _chat_id_param(normalized, key)
    return json.dumps(normalized, sort_keys=True)


def _inline_markup(params: JsonDict) -> JsonDict | None:
    """The inline keyboard of a request, validated like Telegram does; other keyboards → None.

    Only inline keyboards come back in `Message.reply_markup`.
    """
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise TelegramApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise TelegramApiError(400, 'Bad Request: field "inline_keyboard" must be an Array')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise TelegramApiError(400, "Bad Request: can't parse inline keyboard button")
            actions = _BUTTON_ACTIONS.intersection(button)
            if not actions:
                raise TelegramApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None:
                size = len(str(data).encode())
                if not 1 <= size <= CALLBACK_DATA_MAX_BYTES:
                    raise TelegramApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------


class FakeTelegramServer:
    """A Bot API server on 127.0.0.1 (OS-chosen port) with chats, messages and an update queue.

    `start()` (or `async with`) binds it; point a `Bot` at `base_url` (or use `make_bot`).
    Message dates come from `clock` (Unix seconds; default `time.time`).
    """

    def __init__(
        self,
        *,
        token: str = "123456:TEST-TOKEN",  # noqa: S107 - a fake token for a fake server
        bot_username: str = BOT_USERNAME,
        bot_id: int = BOT_ID,
        bot_first_name: str = BOT_FIRST_NAME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.bot_first_name = bot_first_name
        self._clock = clock
        self.calls: list[ApiCall] = []
        self.failed_calls: list[ApiCall] = []
        self._base_url: str | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False
        # Futures resolved whenever something a waiter may care about happened.
        self._waiters: set[asyncio.Future[None]] = set()
        self._scripts: dict[str, deque[_ScriptedFailure]] = {}
        self._updates: list[JsonDict] = []
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._chats: dict[int, JsonDict] = {}
        self._messages: dict[tuple[int, int], _StoredMessage] = {}
        self._last_message_id: dict[int, int] = {}
        self._commands: dict[tuple[str, str], list[JsonDict]] = {}
        self._methods: dict[str, Callable[[JsonDict], Any]] = {
            "getMe": self._get_me,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "sendChatAction": self._send_chat_action,
            "close": self._true,
            "logOut": self._true,
        }
        # getUpdates is asynchronous (it long-polls) and is served apart; it is listed here so
        # that method names, case-insensitive in the Bot API, resolve to one spelling.
        self._canonical = {name.lower(): name for name in [*self._methods, "getUpdates"]}

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>`; the Bot API lives at `{base_url}/bot{token}/{method}`."""
        if self._base_url is None:
            raise RuntimeError("the fake Telegram server is not started")
        return self._base_url

    async def start(self) -> str:
        """Listen on 127.0.0.1 on a free port; return `base_url`."""
        if self._runner is not None:
            raise RuntimeError("the fake Telegram server is already started")
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._unknown_path)
        # Waiting long polls are woken on stop, so a short shutdown timeout only guards bugs.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._closing = False
        host, port = runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"
        logger.debug("fake Telegram listening on %s", self._base_url)
        return self._base_url

    async def stop(self) -> None:
        """Answer every waiting long poll (with no updates) and close the listener."""
        self._closing = True
        self._wake()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def api_server(self) -> TelegramAPIServer:
        """aiogram's description of this server, for `AiohttpSession(api=...)`."""
        return TelegramAPIServer.from_base(self.base_url)

    def make_bot(self, token: str | None = None, **kwargs: Any) -> Bot:
        """A real aiogram `Bot` talking to this server; the caller closes `bot.session`."""
        session = AiohttpSession(api=self.api_server())
        return Bot(token or self.token, session=session, **kwargs)

    # -- scripting and feeding -----------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        raw_body: str | None = None,
    ) -> None:
        """Make the next `times` calls of `method` fail with HTTP `status`.

        The answer is `{"ok": false, "error_code": status, "description": …}` plus
        `"parameters": {"retry_after": N}` when `retry_after` is set (a 429 always carries one,
        default 1 s, as Telegram's does). `raw_body` replaces the JSON with a verbatim body,
        e.g. the HTML page a proxy answers with on 502.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if status == 429
                else _DEFAULT_DESCRIPTIONS.get(status, "Error")
            )
        error = TelegramApiError(status, description, retry_after=retry_after)
        self._script(method, _ScriptedFailure(error, raw_body), times)

    def disconnect_next(self, method: str, times: int = 1) -> None:
        """Make the next `times` calls of `method` lose their connection without an answer."""
        self._script(method, _ScriptedFailure(None), times)

    def push_update(self, update: JsonDict) -> JsonDict:
        """Queue `update` for getUpdates and return it (given an update_id if it had none).

        The chats and messages in it become known to the server, as with `observe_update`.
        """
        if "update_id" not in update:
            update["update_id"] = next_update_id()
        self.observe_update(update)
        self._updates.append(update)
        self._updates.sort(key=lambda u: int(u["update_id"]))
        self._wake()
        return update

    def observe_update(self, update: JsonDict) -> None:
        """Learn the chats and messages in `update` without queueing it.

        For tests that feed updates straight to a Dispatcher: afterwards the bot may delete the
        user's message, or edit its own message under a pressed button.
        """
        callback = update.get("callback_query")
        if isinstance(callback, dict) and isinstance(callback.get("message"), dict):
            message = callback["message"]
            author = message.get("from") or {}
            if (int(message["chat"]["id"]), int(message["message_id"])) not in self._messages:
                self._remember(message, by_bot=author.get("id") == self.bot_id)
        for kind in ("message", "edited_message", "channel_post", "edited_channel_post"):
            message = update.get(kind)
            if isinstance(message, dict):
                self._remember(message, by_bot=False)

    # -- inspection ----------------------------------------------------------------------------

    def calls_of(self, method: str) -> list[ApiCall]:
        """Successful calls of `method`, in order."""
        return [call for call in self.calls if call.method == method]

    def sent_texts(self) -> list[str]:
        """Texts of successful sendMessage and editMessageText calls, in order, as sent."""
        return [
            call.text
            for call in self.calls
            if call.method in ("sendMessage", "editMessageText") and call.text is not None
        ]

    def message(self, chat_id: int, message_id: int) -> JsonDict | None:
        """The message as it stands now (after edits), or None if unknown or deleted."""
        stored = self._messages.get((chat_id, message_id))
        return copy.deepcopy(stored.message) if stored else None

    def messages_in(self, chat_id: int) -> list[JsonDict]:
        """Messages of a chat that still exist, oldest first (the bot's and observed ones)."""
        found = [stored.message for (chat, _), stored in self._messages.items() if chat == chat_id]
        return copy.deepcopy(sorted(found, key=lambda m: int(m["message_id"])))

    def commands(self, scope: JsonDict | None = None, language_code: str = "") -> list[JsonDict]:
        """The command list set for `scope` (default scope if None) and language."""
        return copy.deepcopy(self._commands.get((_scope_key(scope), language_code), []))

    def pending_updates(self) -> list[JsonDict]:
        """Queued updates not yet confirmed by a getUpdates offset."""
        return copy.deepcopy(self._updates)

    async def wait_for_call(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a safety net, part of the fake's contract
        *,
        include_failed: bool = False,
    ) -> list[ApiCall]:
        """Wait until `method` has been called `count` times; return all its calls so far.

        Failed calls count only with `include_failed` (and are then returned too, in order of
        arrival within each list: successful first). `timeout` is a safety net in real seconds;
        on expiry TimeoutError names what did arrive.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout

        def matching() -> list[ApiCall]:
            found = self.calls_of(method)
            if include_failed:
                found += [call for call in self.failed_calls if call.method == method]
            return found

        while len(found := matching()) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = [call.method for call in self.calls]
                raise TimeoutError(
                    f"expected {count} call(s) of {method}, got {len(found)}; calls: {seen}"
                )
            await self._wait_for_activity(remaining)
        return found

    # -- HTTP ----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        method = self._canonical.get(name.lower(), name)
        try:
            params = await _read_params(request)
        except TelegramApiError as error:
            return self._fail(method, {}, error)
        if request.match_info["token"] != self.token:
            return self._fail(method, params, TelegramApiError(401, "Unauthorized"))

        scripted = self._pop_script(method)
        if scripted is not None:
            if scripted.error is None:
                return self._disconnect(request, method, params)
            return self._fail(method, params, scripted.error, raw_body=scripted.raw_body)

        if method == "getUpdates":
            return await self._get_updates(params)
        handler = self._methods.get(method)
        if handler is None:
            return self._fail(method, params, TelegramApiError(404, "Not Found: method not found"))
        try:
            result = handler(params)
        except TelegramApiError as error:
            return self._fail(method, params, error)
        self._record(ApiCall(method, params))
        return web.json_response({"ok": True, "result": result})

    async def _unknown_path(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    def _fail(
        self,
        method: str,
        params: JsonDict,
        error: TelegramApiError,
        *,
        raw_body: str | None = None,
    ) -> web.Response:
        self.failed_calls.append(ApiCall(method, params, error.status, error.description))
        self._wake()
        logger.debug("fake Telegram: %s -> %s %s", method, error.status, error.description)
        if raw_body is not None:
            return web.Response(status=error.status, text=raw_body, content_type="text/html")
        return self._error_response(error)

    @staticmethod
    def _error_response(error: TelegramApiError) -> web.Response:
        body: JsonDict = {
            "ok": False,
            "error_code": error.status,
            "description": error.description,
        }
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        return web.json_response(body, status=error.status)

    def _disconnect(self, request: web.Request, method: str, params: JsonDict) -> web.Response:
        self.failed_calls.append(ApiCall(method, params, 0, "connection dropped"))
        self._wake()
        logger.debug("fake Telegram: %s -> connection dropped", method)
        if request.transport is not None:
            request.transport.abort()
        # Nobody reads this: the socket is gone, and the client sees a disconnect.
        return web.Response(status=500)

    def _record(self, call: ApiCall) -> None:
        self.calls.append(call)
        self._wake()
        logger.debug("fake Telegram: %s -> ok", call.method)

    def _script(self, method: str, failure: _ScriptedFailure, times: int) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        queue = self._scripts.setdefault(self._canonical.get(method.lower(), method), deque())
        queue.extend([failure] * times)

    def _pop_script(self, method: str) -> _ScriptedFailure | None:
        queue = self._scripts.get(method)
        return queue.popleft() if queue else None

    # -- waiting -------------------------------------------------------------------------------

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def _wait_for_activity(self, seconds: float) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait([waiter], timeout=seconds)
        finally:
            self._waiters.discard(waiter)
            waiter.cancel()

    # -- getUpdates ----------------------------------------------------------------------------

    async def _get_updates(self, params: JsonDict) -> web.StreamResponse:
        try:
            offset = _int_param(params, "offset", 0)
            limit = min(max(_int_param(params, "limit", 100), 1), 100)
            timeout = max(_int_param(params, "timeout", 0), 0)
            allowed = params.get("allowed_updates")
            if allowed is not None and not (
                isinstance(allowed, list) and all(isinstance(kind, str) for kind in allowed)
            ):
                raise TelegramApiError(400, "Bad Request: can't parse allowed updates")
        except TelegramApiError as error:
            return self._fail("getUpdates", params, error)
        if allowed is not None:
            # Telegram remembers the last list it was given; [] means "the default kinds".
            self._allowed_updates = frozenset(allowed) if allowed else None
        self._confirm(offset)
        # A getUpdates is recorded when accepted, before its wait, so that tests can see a
        # poller is waiting; a newer poll ends this one with 409, as Telegram does.
        self._poll_generation += 1
        generation = self._poll_generation
        self._record(ApiCall("getUpdates", params))

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation and not self._closing:
                return self._error_response(TelegramApiError(409, CONFLICT_GET_UPDATES))
            batch = self._deliverable(offset, limit)
            if batch or self._closing:
                return web.json_response({"ok": True, "result": batch})
            remaining = deadline - loop.time()
            if remaining <= 0:
                return web.json_response({"ok": True, "result": []})
            await self._wait_for_activity(remaining)

    def _confirm(self, offset: int) -> None:
        """Forget updates confirmed by `offset` (Bot API getUpdates semantics)."""
        if offset > 0:
            self._updates = [u for u in self._updates if int(u["update_id"]) >= offset]
        elif offset < 0:
            # A negative offset keeps only the last -offset updates.
            self._updates = self._updates[offset:]

    def _deliverable(self, offset: int, limit: int) -> list[JsonDict]:
        found = []
        for update in self._updates:
            if offset > 0 and int(update["update_id"]) < offset:
                continue
            kind = update_type(update)
            if (self._allowed_updates is None and kind in _OPT_IN_UPDATES) or (
                self._allowed_updates is not None and kind not in self._allowed_updates
            ):
                continue
            found.append(update)
            if len(found) == limit:
                break
        return copy.deepcopy(found)

    # -- chats and messages --------------------------------------------------------------------

    def _bot_user(self) -> JsonDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _remember(self, message: JsonDict, *, by_bot: bool) -> None:
        chat = message["chat"]
        chat_id = int(chat["id"])
        message_id = int(message["message_id"])
        self._chats.setdefault(chat_id, copy.deepcopy(chat))
        previous = self._messages.get((chat_id, message_id))
        if previous is not None and previous.by_bot != by_bot:
            logger.warning("fake Telegram: message %s in chat %s reused", message_id, chat_id)
        self._messages[(chat_id, message_id)] = _StoredMessage(copy.deepcopy(message), by_bot)
        self._last_message_id[chat_id] = max(self._last_message_id.get(chat_id, 0), message_id)

    def _chat(self, params: JsonDict) -> JsonDict:
        """The chat a request addresses; unknown numeric ids are accepted (see module doc)."""
        chat_id = _chat_id_param(params)
        if isinstance(chat_id, str):
            username = chat_id.removeprefix("@").lower()
            for known in self._chats.values():
                if str(known.get("username", "")).lower() == username:
                    return known
            raise TelegramApiError(400, "Bad Request: chat not found")
        if chat_id not in self._chats:
            if chat_id > 0:
                chat: JsonDict = {"id": chat_id, "type": "private", "first_name": "Test"}
            else:
                kind = "supergroup" if str(chat_id).startswith("-100") else "group"
                chat = {"id": chat_id, "type": kind, "title": "Test group"}
            self._chats[chat_id] = chat
        return self._chats[chat_id]

    def _next_message_id(self, chat_id: int) -> int:
        # Increasing within the chat, and drawn from the counter the update builders use, so a
        # bot's message never takes the id of a user's message built later.
        message_id = max(self._last_message_id.get(chat_id, 0) + 1, next_message_id())
        self._last_message_id[chat_id] = message_id
        return message_id

    def _formatted_text(self, params: JsonDict) -> tuple[str, list[JsonDict]]:
        """Text and entities of a message as Telegram would store them."""
        raw = params.get("text")
        if not isinstance(raw, str) or not raw.strip():
            raise TelegramApiError(400, "Bad Request: message text is empty")
        parse_mode = params.get("parse_mode")
        explicit = params.get("entities")
        if isinstance(parse_mode, str) and parse_mode.lower() == "html":
            text, entities = parse_html(raw)
        elif parse_mode in (None, "") or (
            isinstance(parse_mode, str) and parse_mode.lower() in ("markdown", "markdownv2")
        ):
            text, entities = raw, explicit if isinstance(explicit, list) else []
        else:
            raise TelegramApiError(400, f"Bad Request: unsupported parse_mode {parse_mode}")
        if not text.strip():
            raise TelegramApiError(400, "Bad Request: message text is empty")
        if len(text) > MESSAGE_MAX_LENGTH:
            raise TelegramApiError(400, "Bad Request: message is too long")
        return text, entities

    def _editable(self, params: JsonDict, missing: str) -> _StoredMessage:
        chat = self._chat(params)
        message_id = _int_param(params, "message_id")
        stored = self._messages.get((int(chat["id"]), message_id))
        if stored is None:
            raise TelegramApiError(400, f"Bad Request: {missing}")
        if not stored.by_bot:
            raise TelegramApiError(400, "Bad Request: message can't be edited")
        return stored

    # -- methods -------------------------------------------------------------------------------

    @staticmethod
    def _true(params: JsonDict) -> bool:
        return True

    def _get_me(self, params: JsonDict) -> JsonDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _delete_webhook(self, params: JsonDict) -> bool:
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: JsonDict) -> JsonDict:
        pending = len(self._updates)
        return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}

    def _send_message(self, params: JsonDict) -> JsonDict:
        chat = self._chat(params)
        text, entities = self._formatted_text(params)
        markup = _inline_markup(params)
        chat_id = int(chat["id"])
        message: JsonDict = {
            "message_id": self._next_message_id(chat_id),
            "from": self._bot_user(),
            "chat": copy.deepcopy(chat),
            "date": int(self._clock()),
            "text": text,
        }
        if entities:
            message["entities"] = entities
        if markup is not None:
            message["reply_markup"] = markup
        reply_to = self._reply_target(params, chat_id)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        self._remember(message, by_bot=True)
        return message

    def _reply_target(self, params: JsonDict, chat_id: int) -> JsonDict | None:
        reply = params.get("reply_parameters")
        message_id = reply.get("message_id") if isinstance(reply, dict) else None
        if message_id is None:
            message_id = params.get("reply_to_message_id")
        if message_id is None:
            return None
        if isinstance(message_id, str) and message_id.isdigit():
            message_id = int(message_id)
        stored = self._messages.get((chat_id, message_id)) if isinstance(message_id, int) else None
        if stored is None:
            return None
        # Telegram nests one level only.
        return {k: v for k, v in copy.deepcopy(stored.message).items() if k != "reply_to_message"}

    def _edit_message_text(self, params: JsonDict) -> JsonDict | bool:
        if params.get("inline_message_id"):
            self._formatted_text(params)
            return True
        stored = self._editable(params, "message to edit not found")
        text, entities = self._formatted_text(params)
        markup = _inline_markup(params)
        return self._apply_edit(stored, text, entities, markup)

    def _edit_message_reply_markup(self, params: JsonDict) -> JsonDict | bool:
        if params.get("inline_message_id"):
            return True
        stored = self._editable(params, "message to edit not found")
        old = stored.message
        markup = _inline_markup(params)
        return self._apply_edit(stored, old.get("text", ""), old.get("entities", []), markup)

    def _apply_edit(
        self,
        stored: _StoredMessage,
        text: str,
        entities: list[JsonDict],
        markup: JsonDict | None,
    ) -> JsonDict:
        old = stored.message
        # An edit without reply_markup removes the keyboard, so "unchanged" includes it.
        if (old.get("text"), old.get("entities", []), old.get("reply_markup")) == (
            text,
            entities,
            markup,
        ):
            raise TelegramApiError(400, NOT_MODIFIED)
        new = {k: v for k, v in old.items() if k not in ("entities", "reply_markup")}
        new["text"] = text
        new["edit_date"] = int(self._clock())
        if entities:
            new["entities"] = entities
        if markup is not None:
            new["reply_markup"] = markup
        stored.message = new
        return copy.deepcopy(new)

    def _delete_message(self, params: JsonDict) -> bool:
        chat = self._chat(params)
        key = (int(chat["id"]), _int_param(params, "message_id"))
        if key not in self._messages:
            raise TelegramApiError(400, "Bad Request: message to delete not found")
        del self._messages[key]
        return True

    def _answer_callback_query(self, params: JsonDict) -> bool:
        if not params.get("callback_query_id"):
            raise TelegramApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        text = params.get("text")
        if isinstance(text, str) and len(text) > CALLBACK_ANSWER_MAX_LENGTH:
            raise TelegramApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _command_key(self, params: JsonDict) -> tuple[str, str]:
        language = params.get("language_code") or ""
        return _scope_key(params.get("scope")), str(language)

    def _set_my_commands(self, params: JsonDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise TelegramApiError(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > COMMANDS_MAX:
            raise TelegramApiError(400, "Bad Request: too many commands specified")
        for command in commands:
            if not isinstance(command, dict):
                raise TelegramApiError(400, "Bad Request: can't parse BotCommand JSON object")
            name = command.get("command")
            description = command.get("description")
            if not (
                isinstance(name, str)
                and 1 <= len(name) <= 32
                and all(ch.isascii() and (ch.islower() or ch.isdigit() or ch == "_") for ch in name)
            ):
                raise TelegramApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not (isinstance(description, str) and 1 <= len(description) <= 256):
                raise TelegramApiError(400, "Bad Request: command description is empty")
        key = self._command_key(params)
        if commands:
            self._commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self._commands.pop(key, None)
        return True

    def _delete_my_commands(self, params: JsonDict) -> bool:
        self._commands.pop(self._command_key(params), None)
        return True

    def _get_my_commands(self, params: JsonDict) -> list[JsonDict]:
        return copy.deepcopy(self._commands.get(self._command_key(params), []))

    def _send_chat_action(self, params: JsonDict) -> bool:
        self._chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise TelegramApiError(400, "Bad Request: wrong parameter action in request")
        return True


__all__ = [
    "ApiCall",
    "FakeTelegramServer",
    "TelegramApiError",
    "parse_html",
]
