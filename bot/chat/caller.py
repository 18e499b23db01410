"""Who is asking: roles of PRODUCT.md §4, decided once per update from settings and storage."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.store import Account, Member
from bot.text import Lang


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
    """The caller may not run this command (a lookup without membership, an admin command)."""

    def __init__(self, *, admin_only: bool = False) -> None:
        super().__init__("admin only" if admin_only else "not a member")
        self.admin_only = admin_only


class PrivateChatOnly(Exception):
    """The command is only accepted in a private chat."""


class BadArgument(Exception):
    """A command argument is wrong; ``reply`` is the one-line answer (HTML, already escaped)."""

    def __init__(self, reply: str) -> None:
        super().__init__("bad argument")
        self.reply = reply


def require_account(caller: Caller) -> Account:
    """The caller's account, or ``NotAuthorized`` (no SMS Center request is made for guests)."""
    if caller.member is None:
        raise NotAuthorized
    return caller.member.account


def require_admin(caller: Caller) -> None:
    """Raise ``NotAuthorized(admin_only=True)`` unless the caller is an admin."""
    if not caller.is_admin:
        raise NotAuthorized(admin_only=True)
