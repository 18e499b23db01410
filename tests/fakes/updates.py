"""Builders of Telegram updates as the Bot API sends them (plain JSON dicts).

Feed them to `FakeTelegramServer.push_update` (the bot receives them through getUpdates) or to
`Dispatcher.feed_raw_update`. Ids come from process-wide counters, so two builders never hand out
the same update id, message id or callback query id, and the fake server draws the ids of the
bot's own messages from the same counter: a user's message and a bot's message never collide.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any, Literal

JsonDict = dict[str, Any]
ChatType = Literal["private", "group", "supergroup"]

BOT_ID = 123456
"""The bot's user id; matches the default token of the fake server, `123456:TEST-TOKEN`."""
BOT_USERNAME = "smsc_status_bot"
BOT_FIRST_NAME = "SMSC Status"
DEFAULT_USER_ID = 1001

_update_ids = itertools.count(1)
_message_ids = itertools.count(1)
_callback_ids = itertools.count(1)

# Telegram's own rule for bot commands (tdlib's match_bot_commands): a slash not preceded by a
# word character or one of "/<>", 1-64 letters/digits/underscores, an optional @username of
# 3-32 such characters, and no word character or "/<>@" right after.
_BOT_COMMAND = re.compile(r"(?<![\w/<>])/[a-zA-Z0-9_]{1,64}(?:@[a-zA-Z0-9_]{3,32})?(?![\w/<>@])")


def next_update_id() -> int:
    """Return a fresh update id, larger than every one handed out before in this process."""
    return next(_update_ids)


def next_message_id() -> int:
    """Return a fresh message id, larger than every one handed out before in this process."""
    return next(_message_ids)


def utf16_length(text: str) -> int:
    """Length of `text` in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[JsonDict]:
    """The `bot_command` entities Telegram attaches to `text`, offsets in UTF-16 code units."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_length(text[: match.start()]),
            "length": utf16_length(match.group()),
        }
        for match in _BOT_COMMAND.finditer(text)
    ]


def user_json(
    user_id: int,
    *,
    first_name: str = "Test",
    username: str | None = None,
    language_code: str | None = "en",
    is_bot: bool = False,
) -> JsonDict:
    """A Bot API `User` object."""
    user: JsonDict = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if username is not None:
        user["username"] = username
    if language_code is not None:
        user["language_code"] = language_code
    return user


def bot_user_json(bot_id: int = BOT_ID, bot_username: str = BOT_USERNAME) -> JsonDict:
    """The `User` object of the bot itself, as it appears in `from` of the bot's messages."""
    return user_json(
        bot_id, first_name=BOT_FIRST_NAME, username=bot_username, language_code=None, is_bot=True
    )


def default_chat_id(user_id: int, chat_type: ChatType) -> int:
    """The chat id used when a builder is given none: the user's id for a private chat,
    a negative id for a group, and a `-100…` id for a supergroup (Telegram's conventions)."""
    if chat_type == "private":
        return user_id
    if chat_type == "group":
        return -user_id
    return -1_000_000_000_000 - user_id


def chat_json(chat_id: int, chat_type: ChatType, *, user: JsonDict | None = None) -> JsonDict:
    """A Bot API `Chat` object: a private chat mirrors the user, a group gets a title."""
    chat: JsonDict = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = user["first_name"] if user else "Test"
        if user and "username" in user:
            chat["username"] = user["username"]
    else:
        chat["title"] = "Test group"
    return chat


def message_update(
    text: str,
    *,
    user_id: int = DEFAULT_USER_ID,
    chat_id: int | None = None,
    chat_type: ChatType = "private",
    language_code: str | None = "en",
    username: str | None = None,
    first_name: str = "Test",
    message_id: int | None = None,
    update_id: int | None = None,
    date: int | None = None,
    entities: list[JsonDict] | None = None,
) -> JsonDict:
    """An update carrying a text message from a user.

    `chat_id` defaults to the user's id in a private chat (see `default_chat_id` for groups);
    `entities` default to the bot commands found in `text` (e.g. `/last@smsc_status_bot 7999…`
    gets one `bot_command` entity covering `/last@smsc_status_bot`); pass `[]` for none.
    """
    user = user_json(user_id, first_name=first_name, username=username, language_code=language_code)
    message: JsonDict = {
        "message_id": message_id if message_id is not None else next_message_id(),
        "from": user,
        "chat": chat_json(
            chat_id if chat_id is not None else default_chat_id(user_id, chat_type),
            chat_type,
            user=user,
        ),
        "date": date if date is not None else int(time.time()),
        "text": text,
    }
    found = command_entities(text) if entities is None else entities
    if found:
        message["entities"] = found
    return {
        "update_id": update_id if update_id is not None else next_update_id(),
        "message": message,
    }


def callback_update(
    data: str,
    *,
    message_id: int,
    user_id: int = DEFAULT_USER_ID,
    chat_id: int | None = None,
    chat_type: ChatType = "private",
    message_text: str = "(bot message)",
    reply_markup: JsonDict | None = None,
    language_code: str | None = "en",
    username: str | None = None,
    first_name: str = "Test",
    update_id: int | None = None,
    date: int | None = None,
    bot_id: int = BOT_ID,
    bot_username: str = BOT_USERNAME,
) -> JsonDict:
    """An update carrying a press of an inline button under the bot's message `message_id`.

    The pressed message is the bot's own (its `from` is the bot), as Telegram sends it.
    """
    user = user_json(user_id, first_name=first_name, username=username, language_code=language_code)
    resolved_chat_id = chat_id if chat_id is not None else default_chat_id(user_id, chat_type)
    message: JsonDict = {
        "message_id": message_id,
        "from": bot_user_json(bot_id, bot_username),
        "chat": chat_json(resolved_chat_id, chat_type, user=user),
        "date": date if date is not None else int(time.time()),
        "text": message_text,
    }
    if reply_markup is not None:
        message["reply_markup"] = reply_markup
    return {
        "update_id": update_id if update_id is not None else next_update_id(),
        "callback_query": {
            "id": str(4_000_000_000_000 + next(_callback_ids)),
            "from": user,
            "message": message,
            "chat_instance": str(-resolved_chat_id if resolved_chat_id < 0 else resolved_chat_id),
            "data": data,
        },
    }


def update_type(update: JsonDict) -> str:
    """The kind of an update (`message`, `callback_query`, …): its one key besides update_id."""
    for key in update:
        if key != "update_id":
            return key
    raise ValueError("an update needs a payload besides update_id")
