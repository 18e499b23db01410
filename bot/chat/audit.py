"""The audit log of lookups: when, who, which chat, what was asked, and the outcome.

``AuditMiddleware`` is an inner middleware of the lookup router's message and button observers;
it wraps the role gate too, so a refused lookup is recorded as well (outcome ``NotAuthorized``).

An outcome is recorded as a code: the lookup's own (``fresh``, ``cache``, ``pending:…``), or
the class of the error that answered it, as its nearest ancestor the catalogue has words for
(``texts.AUDIT_OUTCOMES``; anything else is ``error``), so ``/audit`` can always say it in
words (``outcome_words``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from bot.chat.press import PressAnswered
from bot.store import Storage, StorageError
from bot.text import Lang
from bot.text import catalogue as texts

logger = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
# The argument as recorded: enough to see what was asked, never a whole pasted text.
ARGUMENT_LIMIT = 64


class AuditMiddleware(BaseMiddleware):
    """Write every lookup to the audit log: when, who, which chat, what was asked, the outcome.

    The handler returns its outcome (``fresh``/``cache``/``stale``/…); an exception is recorded
    by its class name and passed on to the error handlers.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        command, argument, chat_id = _what_was_asked(event)
        user: User | None = data.get("event_from_user")
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = str(result)
            return result
        except Exception as exc:
            # After a button press was answered, the error is the one inside.
            cause = exc.error if isinstance(exc, PressAnswered) else exc
            outcome = outcome_code(cause)
            raise
        finally:
            store: Storage = data["store"]
            clock: Callable[[], float] = data["clock"]
            try:
                await store.audit(
                    at=clock(),
                    user_id=user.id if user else 0,
                    chat_id=chat_id,
                    command=command,
                    argument=argument[:ARGUMENT_LIMIT],
                    outcome=outcome,
                )
            except Exception:
                # The answer matters more than its audit line; the failure is logged.
                logger.exception("could not write the audit entry for /%s", command)


def outcome_code(exc: BaseException) -> str:
    """The code recorded for a lookup answered by ``exc``: the nearest class of its ancestry
    that has words, ``StorageError`` for any database error, else ``error``."""
    if isinstance(exc, sqlite3.Error):
        return StorageError.__name__
    for cls in type(exc).__mro__:
        if cls.__name__ in texts.AUDIT_OUTCOMES:
            return cls.__name__
    return "error"


def outcome_words(code: str, lang: Lang) -> str:
    """A recorded outcome in words (plain text, to be escaped): every code this module records
    has them; a code of an older version without words is shown as it was recorded."""
    words = texts.AUDIT_OUTCOMES.get(code.split(":", 1)[0] if code.startswith("pending") else code)
    return words(lang) if words is not None else code


def _what_was_asked(event: TelegramObject) -> tuple[str, str, int]:
    if isinstance(event, Message):
        text = (event.text or "").strip()
        if text.startswith("/"):
            head, _, rest = text.partition(" ")
            return head[1:].split("@", 1)[0].lower(), rest.strip(), event.chat.id
        return "last", text, event.chat.id
    if isinstance(event, CallbackQuery):
        chat_id = event.message.chat.id if event.message else 0
        return "button", event.data or "", chat_id
    return "?", "", 0
