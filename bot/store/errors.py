"""The store's exception tree. No message carries key material::

StorageError          any database failure (sqlite3 errors are translated into it), a
│                     database written by a newer bot, a key that does not decrypt
├── AccountExists     add_account with a name already taken
├── KeyInUse          add_account or rekey with a key another account has
└── NoSuchAccount     grant to an account name that does not exist
"""

from __future__ import annotations


class StorageError(Exception):
    """The database failed or holds something this code cannot use. Never carries key material."""


class AccountExists(StorageError):
    """An account named ``name`` already exists."""

    def __init__(self, name: str) -> None:
        super().__init__(f"an account named {name!r} already exists")
        self.name = name


class NoSuchAccount(StorageError):
    """No account is named ``name``."""

    def __init__(self, name: str) -> None:
        super().__init__(f"there is no account named {name!r}")
        self.name = name


class KeyInUse(StorageError):
    """The key is already the key of the account ``name`` (one key, one account)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the account {name!r} already has this key")
        self.name = name
