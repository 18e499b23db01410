"""Middlewares: edits read as new messages, who is asking (every update), the audit log (every
lookup), and the updates in flight."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User

from bot.chat.caller import Caller
from bot.settings import Settings
from bot.store import Storage
from bot.text import lang_for

logger = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
_ARGUMENT_LIMIT = 64


class EditsAsNew(BaseMiddleware):
    """An edited message is handled like a new one (an update outer middleware).

    Someone who fixes a typo in ``/last 7999…`` by editing it expects the answer to the corrected
    question; an edited ``/login`` with a key gets its message deleted like a new one. The answer
    is a new message, as for any command. Polling must ask Telegram for ``edited_message``
    updates for this to work: see ``handlers.update_types``.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update) and event.edited_message is not None and event.message is None:
            event = event.model_copy(
                update={"message": event.edited_message, "edited_message": None}
            )
        return await handler(event, data)


class CallerMiddleware(BaseMiddleware):
    """Load the user's role and account once per update and hand it to handlers as ``caller``.

    Runs for callback queries too: their data comes from the client and can be forged, so
    authorization is decided here again, never taken from the button.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is not None:
            settings: Settings = data["settings"]
            store: Storage = data["store"]
            # Set on the shared dict, so error handlers see the caller too.
            data["caller"] = Caller(
                user_id=user.id,
                lang=lang_for(user.language_code),
                is_admin=user.id in settings.admin_ids,
                member=await store.get_member(user.id),
            )
        return await handler(event, data)


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
            outcome = type(exc).__name__
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
                    argument=argument[:_ARGUMENT_LIMIT],
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


class InFlight(BaseMiddleware):
    """Track updates being handled, so that shutdown can let them finish (SIGTERM: in-flight
    answers are still sent before the database closes)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        task = asyncio.current_task()
        if task is None:
            return await handler(event, data)
        self._tasks.add(task)
        try:
            return await handler(event, data)
        finally:
            self._tasks.discard(task)

    async def drain(self, within: float) -> int:
        """Wait up to ``within`` seconds for updates in flight; returns how many were left."""
        pending = {task for task in self._tasks if task is not asyncio.current_task()}
        if not pending:
            return 0
        _, still = await asyncio.wait(pending, timeout=within)
        return len(still)
