"""The audit log of lookups: when, who, which chat, what was asked, and the outcome.

``AuditMiddleware`` is an inner middleware of the lookup router's message and button observers;
it wraps the role gate too, so a refused lookup is recorded as well (outcome ``NotAuthorized``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from bot.chat.press import PressAnswered
from bot.store import Storage

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
            outcome = type(cause).__name__
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
