"""A Bot API request's parameters, as the fake Bot API reads them.

Over HTTP they arrive as a query string and a urlencoded, multipart or JSON body
(`read_params`); in-process they are taken from an aiogram method the way aiogram encodes it
for a form (`method_params`). Both end in one decoding (`decode_field`), so a test sees the same
`params` whichever way the call came. The readers below turn a parameter into what the Bot API
takes it for, or into Telegram's 400.
"""

from __future__ import annotations

import json
from typing import Any, Final

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.types import BufferedInputFile
from aiohttp import web

from bot.chat.session import BotApiError

JsonDict = dict[str, Any]

CALLBACK_DATA_MAX_BYTES: Final = 64

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


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def decode_field(name: str, value: str) -> Any:
    """Undo aiogram's encoding of one form field (see `BaseSession.prepare_value`)."""
    if name in _TEXT_FIELDS:
        return value
    try:
        # NaN/Infinity are strings to us, not floats.
        return json.loads(value, parse_constant=_reject_constant)
    except ValueError:
        return value


async def read_params(request: web.Request) -> dict[str, Any]:
    """Parameters from the query string and a urlencoded, multipart or JSON body."""
    params: dict[str, Any] = {k: decode_field(k, v) for k, v in request.query.items()}
    if not request.can_read_body:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as e:
            raise BotApiError(400, "Bad Request: can't parse JSON object") from e
        if not isinstance(body, dict):
            raise BotApiError(400, "Bad Request: parameters must be a JSON object")
        for key, value in body.items():
            # Some clients send nested objects JSON-encoded even inside a JSON body.
            is_encoded = isinstance(value, str) and key not in _TEXT_FIELDS
            params[key] = decode_field(key, value) if is_encoded else value
        return params
    form = await request.post()
    for key, field_value in form.items():
        if isinstance(field_value, web.FileField):
            params[key] = field_value.file.read()
        elif isinstance(field_value, str):
            params[key] = decode_field(key, field_value)
        else:
            params[key] = decode_field(key, bytes(field_value).decode(errors="replace"))
    return params


def chat_id_param(params: JsonDict, name: str = "chat_id") -> int | str:
    """Parameter `name` as a chat id: a number, or an `@username` string."""
    value = params.get(name)
    if value is None or value == "":
        raise BotApiError(400, f"Bad Request: {name} is empty")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BotApiError(400, f"Bad Request: invalid {name} specified")
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


def int_param(params: JsonDict, name: str, default: int | None = None) -> int:
    """Parameter `name` as an integer (typed or a string of digits), else `default`."""
    value = params.get(name, default)
    if value is None:
        raise BotApiError(400, f"Bad Request: {name} is empty")
    if isinstance(value, bool):
        raise BotApiError(400, f"Bad Request: invalid {name} specified")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise BotApiError(400, f"Bad Request: invalid {name} specified")


def scope_key(scope: Any) -> str:
    """A canonical key for a BotCommandScope (chat ids compared as numbers when numeric)."""
    if scope is None or scope == "":
        scope = {"type": "default"}
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise BotApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
    normalized = dict(scope)
    for key in ("chat_id", "user_id"):
        if key in normalized:
            normalized[key] = chat_id_param(normalized, key)
    return json.dumps(normalized, sort_keys=True)


def inline_markup(params: JsonDict) -> JsonDict | None:
    """The inline keyboard of a request, validated like Telegram does; other keyboards → None.

    Only inline keyboards come back in `Message.reply_markup`.
    """
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise BotApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise BotApiError(400, 'Bad Request: field "inline_keyboard" must be an Array')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise BotApiError(400, "Bad Request: can't parse inline keyboard button")
            actions = _BUTTON_ACTIONS.intersection(button)
            if not actions:
                raise BotApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None:
                size = len(str(data).encode())
                if not 1 <= size <= CALLBACK_DATA_MAX_BYTES:
                    raise BotApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def method_params(session: BaseSession, bot: Bot, method: TelegramMethod[Any]) -> JsonDict:
    """The parameters `method` reaches the Bot API with: each field encoded as aiogram
    encodes a form field (`BaseSession.prepare_value`; empty ones left out), then decoded by
    `decode_field`; an in-memory upload (`BufferedInputFile`) becomes a field of its own, as
    over HTTP."""
    files: dict[str, Any] = {}
    params: JsonDict = {}
    for key, value in method.model_dump(warnings=False).items():
        prepared = session.prepare_value(value, bot=bot, files=files)
        if prepared:
            params[key] = decode_field(key, prepared)
    for key, file in files.items():
        # An upload reaches the server as a form field of its own (``attach://key``).
        if not isinstance(file, BufferedInputFile):
            raise NotImplementedError("the in-process fake Bot API takes in-memory files only")
        params[key] = file.data
    return params
