"""Storage: accounts, members, audit and the quota ledger in SQLite (aiosqlite), keys
encrypted at rest, schema migrations.

May import: the standard library, aiosqlite, cryptography. Nothing else of ``bot/``.
"""

from bot.store.cipher import (
    CipherError,
    KeyCipher,
    fingerprint,
    insecure_permissions,
    key_id,
)
from bot.store.database import (
    MIGRATIONS,
    Account,
    AccountExists,
    AuditEntry,
    Member,
    NoSuchAccount,
    Storage,
    StorageError,
)

__all__ = [
    "MIGRATIONS",
    "Account",
    "AccountExists",
    "AuditEntry",
    "CipherError",
    "KeyCipher",
    "Member",
    "NoSuchAccount",
    "Storage",
    "StorageError",
    "fingerprint",
    "insecure_permissions",
    "key_id",
]
