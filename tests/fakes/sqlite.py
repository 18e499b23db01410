"""A database connection that fails on cue, as SQLite does when the disk fills up or another
process holds the lock past ``busy_timeout``."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, cast

import aiosqlite

from bot.store import KeyCipher, Storage

DISK_FULL = "database or disk is full"
LOCKED = "database is locked"


class FailingConnection:
    """Wraps an aiosqlite connection; raises ``sqlite3.OperationalError(error)`` on every
    statement containing ``fail_on`` (``None``: none fails), counting the failures."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self.fail_on: str | None = None
        self.error = DISK_FULL
        self.failures = 0

    def execute(self, sql: str, parameters: Any = ()) -> Any:
        if self.fail_on is not None and self.fail_on in sql:
            self.failures += 1
            raise sqlite3.OperationalError(self.error)
        return self._connection.execute(sql, parameters)

    async def close(self) -> None:
        await self._connection.close()


async def open_failing(path: Path, cipher: KeyCipher) -> tuple[Storage, FailingConnection]:
    """A prepared ``Storage`` at ``path`` over a ``FailingConnection`` (nothing fails yet)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = await aiosqlite.connect(path, isolation_level=None)
    wrapper = FailingConnection(connection)
    storage = Storage(cast(aiosqlite.Connection, wrapper), cipher)
    await storage.prepare()
    return storage, wrapper
