"""Who is asking: roles of PRODUCT.md §4, decided once per update from settings and storage,
and the gate that lets only the right role reach a router's handlers.

``CallerMiddleware`` (an update outer middleware) hands every handler its ``caller``;
``RoleGate`` (an inner middleware of a router's observers) refuses anyone else before the
handler runs and hands a member's handler its ``account``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.types import TelegramObject, User

from bot.settings import Settings
from bot.store import Account, Member, Storage
from bot.text import Lang, lang_for

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class Role(StrEnum):
    """What a user may do."""

    ADMIN = "admin"
    MEMBER = "member"
    GUEST = "guest"


@dataclass(frozen=True, slots=True)
class Caller:
    """The user behind an update: id, language, admin flag and their account mapping, if any.

    An admin is not a member by being an admin: lookups need a mapping (``/grant`` yourself).
    """

    user_id: int
    lang: Lang
    is_admin: bool
    member: Member | None

    @property
    def role(self) -> Role:
        """The highest role the user holds."""
        if self.is_admin:
            return Role.ADMIN
        return Role.MEMBER if self.member is not None else Role.GUEST

    @property
    def account(self) -> Account | None:
        """The SMS Center account the user's lookups use."""
        return self.member.account if self.member is not None else None


class NotAuthorized(Exception):
    """The caller may not run this command (a lookup without membership, an admin command).

    ``accounts``: for an admin refused a lookup, the shared accounts they could ``/grant``
    themselves (their names), so that the answer can show the exact command.
    """

    def __init__(self, *, admin_only: bool = False, accounts: tuple[str, ...] = ()) -> None:
        super().__init__("admin only" if admin_only else "not a member")
        self.admin_only = admin_only
        self.accounts = accounts


class PrivateChatOnly(Exception):
    """The command is only accepted in a private chat."""


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


class RoleGate(BaseMiddleware):
    """Let only ``role`` reach the handlers behind it; anyone else gets ``NotAuthorized``.

    An inner middleware, so it runs only once a handler's filters matched: a refused command is
    still handled (the error router answers it) rather than falling through unanswered, as a
    failing router filter would. ``Role.MEMBER`` hands the handler the caller's ``account``
    (no SMS Center request is ever made for a guest); ``Role.ADMIN`` needs the admin flag.
    """

    def __init__(self, role: Role) -> None:
        if role is Role.GUEST:
            raise ValueError("a guest needs no gate")
        self.role = role

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        caller: Caller | None = data.get("caller")
        if self.role is Role.ADMIN:
            if caller is None or not caller.is_admin:
                raise NotAuthorized(admin_only=True)
        else:
            if caller is None or caller.member is None:
                if caller is not None and caller.is_admin:
                    store: Storage = data["store"]
                    raise NotAuthorized(accounts=tuple(await store.account_names()))
                raise NotAuthorized
            data["account"] = caller.member.account
        return await handler(event, data)


def gate(router: Router, role: Role) -> Router:
    """Put ``router``'s messages and button presses behind ``RoleGate(role)``; returns it."""
    router.message.middleware(RoleGate(role))
    router.callback_query.middleware(RoleGate(role))
    return router
