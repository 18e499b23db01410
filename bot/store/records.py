"""What the store hands out: accounts, members and audit entries, as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Account:
    """A named SMS Center API key. ``personal`` marks one created by a user's own /login.

    ``key_id`` (SHA-256 of the key) identifies the SMS Center account for budgets and caches;
    ``fingerprint`` is the short form safe to show. ``apikey`` is left out of the repr.
    """

    id: int
    name: str
    fingerprint: str
    key_id: str
    added_by: int
    added_at: float
    personal: bool
    apikey: str = field(repr=False)


@dataclass(frozen=True)
class Member:
    """A user mapped to an account; ``granted_by`` is the admin, or None for a self-login."""

    user_id: int
    account: Account
    granted_by: int | None
    granted_at: float


@dataclass(frozen=True)
class AuditEntry:
    """One audit-log line: when, who, which chat, what was asked, the outcome."""

    id: int
    at: float
    user_id: int
    chat_id: int
    command: str
    argument: str
    outcome: str


@dataclass(frozen=True)
class Rekeyed:
    """An account whose key was replaced: the account with its new key, the old key's
    fingerprint and ``key_id``, whether another account still has the old key, and how many
    members kept their access."""

    account: Account
    old_fingerprint: str
    old_key_id: str
    old_key_kept: bool
    members: int
