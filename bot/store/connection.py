"""One aiosqlite connection shared by every coroutine, with explicit transactions.

``StatementRunner`` is the base of ``Storage``: it runs one statement at a time under one lock
(a statement of one coroutine must never land inside another's transaction), turns sqlite3
errors into ``StorageError`` and gives a change of several statements one ``BEGIN IMMEDIATE``
… ``COMMIT``, rolled back on any error. Rows are read by column name (``sqlite3.Row``).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite

from bot.store.errors import StorageError

logger = logging.getLogger(__name__)


class StatementRunner:
    """Statements and transactions over one connection (opened with ``isolation_level=None``)."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._conn = connection
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        """Hold the lock and run the body in BEGIN IMMEDIATE … COMMIT, rolling back on error."""
        async with self._lock:
            # IMMEDIATE takes the write lock up front, so busy_timeout covers the whole wait and
            # a transaction never fails halfway upgrading a read lock.
            await self._execute("BEGIN IMMEDIATE")
            try:
                yield
                await self._execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise

    async def _rollback(self) -> None:
        try:
            await self._execute("ROLLBACK")
        except StorageError as exc:
            # SQLite rolls back by itself after some errors (e.g. a full disk); the original
            # error, re-raised by the caller, is the one that matters.
            logger.warning("rollback failed: %s", exc)

    async def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        try:
            async with self._conn.execute(sql, params) as cursor:
                return cursor.rowcount
        except sqlite3.Error as exc:
            raise StorageError(f"database error: {exc}") from exc

    async def _insert(self, sql: str, params: tuple[Any, ...]) -> int:
        """Run one INSERT; return the new row's id."""
        try:
            async with self._conn.execute(sql, params) as cursor:
                rowid = cursor.lastrowid
        except sqlite3.Error as exc:
            raise StorageError(f"database error: {exc}") from exc
        if rowid is None:
            raise StorageError("database error: no row id after insert")
        return rowid

    async def _fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> aiosqlite.Row | None:
        """Run one query; return its first row (columns by name), or None."""
        try:
            async with self._conn.execute(sql, params) as cursor:
                # Per cursor, not per connection: `__init__` may be handed a wrapped connection.
                cursor.row_factory = aiosqlite.Row
                return await cursor.fetchone()
        except sqlite3.Error as exc:
            raise StorageError(f"database error: {exc}") from exc

    async def _fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[aiosqlite.Row]:
        """Run one query; return its rows (columns by name)."""
        try:
            async with self._conn.execute(sql, params) as cursor:
                cursor.row_factory = aiosqlite.Row
                return list(await cursor.fetchall())
        except sqlite3.Error as exc:
            raise StorageError(f"database error: {exc}") from exc
