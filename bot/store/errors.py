"""The store's exception tree. No message carries key material::

StorageError          any database failure (sqlite3 errors are translated into it), a
│                     database written by a newer bot, a key that does not decrypt
├── AccountExists     add_account with a name already taken
└── NoSuchAccount     grant to an account name that does not exist
"""

from __future__ import annotations


class StorageError(Exception):
    """The database failed or holds something this code cannot use. Never carries key material."""


class AccountExists(StorageError):
    """An account with this name already exists."""


class NoSuchAccount(StorageError):
    """No account has this name."""
