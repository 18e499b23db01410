"""What the fake Bot API does with each method: chats, messages and command lists, kept as
Telegram keeps them, with Telegram's refusals and error texts.

HTML texts are parsed by the bot's own port of Telegram's parser (`bot.chat.telegram_html`):
an unescaped `<`, an unknown tag or an unclosed tag is 400 "Bad Request: can't parse
entities: …", and the returned `Message` carries the plain text and its entities. Texts over
4096 characters after parsing, empty texts, and inline buttons with 0 or over 64 bytes of
callback data are refused with Telegram's descriptions. Markdown parse modes are passed through
unparsed.

Leniencies, so that tests feeding updates straight to a Dispatcher need no set-up: a chat id
the fake has never seen is accepted (a private chat if positive, a group if negative), and a
reply to an unknown message is sent without `reply_to_message`. Edits and deletions, however,
need a message the fake knows: one the bot sent, or one seen in a pushed or observed update.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from bot.chat.session import BotApiError
from bot.chat.telegram_html import HtmlParseError, parse_html
from tests.fakes.api_params import chat_id_param, inline_markup, int_param, scope_key
from tests.fakes.updates import BOT_FIRST_NAME, BOT_ID, BOT_USERNAME, next_message_id

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]

MESSAGE_MAX_LENGTH: Final = 4096
CAPTION_MAX_LENGTH: Final = 1024
PHOTO_MAX_BYTES: Final = 10 * 1024 * 1024
PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC: Final = b"\xff\xd8\xff"
CALLBACK_ANSWER_MAX_LENGTH: Final = 200
COMMANDS_MAX: Final = 100

NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "of the message are exactly the same as a current content and reply markup of the message"
)

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


@dataclass
class _StoredMessage:
    """A message the server knows, as a Bot API `Message` object, and who wrote it."""

    message: JsonDict
    by_bot: bool


class BotApiMethods:
    """The bot's chats as Telegram keeps them, and the methods that act on them.

    `methods` maps each Bot API method served here to its handler, which takes the decoded
    parameters and returns the result or raises `BotApiError`. Message dates come from `clock`.
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
        self._chats: dict[int, JsonDict] = {}
        self._messages: dict[tuple[int, int], _StoredMessage] = {}
        self._last_message_id: dict[int, int] = {}
        self._commands: dict[tuple[str, str], list[JsonDict]] = {}
        self.methods: dict[str, Callable[[JsonDict], Any]] = {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
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

    # -- inspection ----------------------------------------------------------------------------

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
        return copy.deepcopy(self._commands.get((scope_key(scope), language_code), []))

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
        chat_id = chat_id_param(params)
        if isinstance(chat_id, str):
            username = chat_id.removeprefix("@").lower()
            for known in self._chats.values():
                if str(known.get("username", "")).lower() == username:
                    return known
            raise BotApiError(400, "Bad Request: chat not found")
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
            raise BotApiError(400, "Bad Request: message text is empty")
        parse_mode = params.get("parse_mode")
        explicit = params.get("entities")
        if isinstance(parse_mode, str) and parse_mode.lower() == "html":
            try:
                text, entities = parse_html(raw)
            except HtmlParseError as error:
                raise BotApiError(400, f"Bad Request: {error}") from None
        elif parse_mode in (None, "") or (
            isinstance(parse_mode, str) and parse_mode.lower() in ("markdown", "markdownv2")
        ):
            text, entities = raw, explicit if isinstance(explicit, list) else []
        else:
            raise BotApiError(400, f"Bad Request: unsupported parse_mode {parse_mode}")
        if not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        if len(text) > MESSAGE_MAX_LENGTH:
            raise BotApiError(400, "Bad Request: message is too long")
        return text, entities

    def _editable(self, params: JsonDict, missing: str) -> _StoredMessage:
        chat = self._chat(params)
        message_id = int_param(params, "message_id")
        stored = self._messages.get((int(chat["id"]), message_id))
        if stored is None:
            raise BotApiError(400, f"Bad Request: {missing}")
        if not stored.by_bot:
            raise BotApiError(400, "Bad Request: message can't be edited")
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

    def _send_message(self, params: JsonDict) -> JsonDict:
        chat = self._chat(params)
        text, entities = self._formatted_text(params)
        markup = inline_markup(params)
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

    def _send_photo(self, params: JsonDict) -> JsonDict:
        """A photo uploaded (bytes, in the field itself or ``attach://`` another field) with
        an optional caption of at most 1024 characters after parsing; the upload is kept in
        ``params["photo"]`` as bytes, so a test reads what was sent."""
        chat = self._chat(params)
        photo = params.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = params.get(photo.removeprefix("attach://"))
        if not isinstance(photo, bytes):
            raise BotApiError(400, "Bad Request: there is no photo in the request")
        if not photo.startswith((PNG_MAGIC, JPEG_MAGIC)) or len(photo) > PHOTO_MAX_BYTES:
            raise BotApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        params["photo"] = photo
        chat_id = int(chat["id"])
        message: JsonDict = {
            "message_id": self._next_message_id(chat_id),
            "from": self._bot_user(),
            "chat": copy.deepcopy(chat),
            "date": int(self._clock()),
            "photo": [
                {
                    "file_id": f"photo-{chat_id}-{len(photo)}",
                    "file_unique_id": "p",
                    "width": 800,
                    "height": 750,
                    "file_size": len(photo),
                }
            ],
        }
        if params.get("caption"):
            caption, entities = self._formatted_text({**params, "text": params["caption"]})
            if len(caption) > CAPTION_MAX_LENGTH:
                raise BotApiError(400, "Bad Request: message caption is too long")
            message["caption"] = caption
            if entities:
                message["caption_entities"] = entities
        markup = inline_markup(params)
        if markup is not None:
            message["reply_markup"] = markup
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
        markup = inline_markup(params)
        return self._apply_edit(stored, text, entities, markup)

    def _edit_message_reply_markup(self, params: JsonDict) -> JsonDict | bool:
        if params.get("inline_message_id"):
            return True
        stored = self._editable(params, "message to edit not found")
        old = stored.message
        markup = inline_markup(params)
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
            raise BotApiError(400, NOT_MODIFIED)
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
        key = (int(chat["id"]), int_param(params, "message_id"))
        if key not in self._messages:
            raise BotApiError(400, "Bad Request: message to delete not found")
        del self._messages[key]
        return True

    def _answer_callback_query(self, params: JsonDict) -> bool:
        if not params.get("callback_query_id"):
            raise BotApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        text = params.get("text")
        if isinstance(text, str) and len(text) > CALLBACK_ANSWER_MAX_LENGTH:
            raise BotApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _command_key(self, params: JsonDict) -> tuple[str, str]:
        language = params.get("language_code") or ""
        return scope_key(params.get("scope")), str(language)

    def _set_my_commands(self, params: JsonDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise BotApiError(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > COMMANDS_MAX:
            raise BotApiError(400, "Bad Request: too many commands specified")
        for command in commands:
            if not isinstance(command, dict):
                raise BotApiError(400, "Bad Request: can't parse BotCommand JSON object")
            name = command.get("command")
            description = command.get("description")
            if not (
                isinstance(name, str)
                and 1 <= len(name) <= 32
                and all(ch.isascii() and (ch.islower() or ch.isdigit() or ch == "_") for ch in name)
            ):
                raise BotApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not (isinstance(description, str) and 1 <= len(description) <= 256):
                raise BotApiError(400, "Bad Request: command description is empty")
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
            raise BotApiError(400, "Bad Request: wrong parameter action in request")
        return True
