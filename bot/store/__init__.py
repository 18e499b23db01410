"""Storage: accounts, members, audit and the quota ledger in SQLite (aiosqlite), keys
encrypted at rest, schema migrations.

- ``database``: ``Storage``, every query;
- ``connection``: the one connection: statements under one lock, transactions;
- ``migrations``: the schema as ordered forward migrations, the version in ``user_version``;
- ``records``: ``Account``, ``Member``, ``AuditEntry``, ``Rekeyed``, what the store hands out;
- ``errors``: ``StorageError`` and its subclasses;
- ``cipher``: API keys at rest (Fernet), fingerprints, the key file;
- ``pushes``: ``PushStore``, status pushes' secrets and the pushed status of each message;
- ``watches``: ``WatchStore``, on-call watches (one per chat and account) and their incidents.

May import: the standard library, aiosqlite, cryptography. Nothing else of ``bot/``.
"""

from bot.store.cipher import (
    CipherError,
    KeyCipher,
    fingerprint,
    insecure_permissions,
    key_id,
)
from bot.store.database import Storage
from bot.store.errors import AccountExists, KeyInUse, NoSuchAccount, StorageError
from bot.store.migrations import MIGRATIONS, schema_version
from bot.store.pushes import PUSHED_STATUS_DAYS, PushedStatus, PushSecrets, PushStore
from bot.store.records import Account, AuditEntry, Member, Rekeyed
from bot.store.watches import StoredIncident, Watch, WatchStore

__all__ = [
    "MIGRATIONS",
    "PUSHED_STATUS_DAYS",
    "Account",
    "AccountExists",
    "AuditEntry",
    "CipherError",
    "KeyCipher",
    "KeyInUse",
    "Member",
    "NoSuchAccount",
    "PushSecrets",
    "PushStore",
    "PushedStatus",
    "Rekeyed",
    "Storage",
    "StorageError",
    "StoredIncident",
    "Watch",
    "WatchStore",
    "fingerprint",
    "insecure_permissions",
    "key_id",
    "schema_version",
]
