"""Persistent state in one SQLite file (aiosqlite): accounts, members, audit log, quota ledger.

- **accounts**: a named SMS Center API key. The key is stored only as a Fernet token (see
  ``bot.store.cipher``) beside its public fingerprint and its ``key_id`` hash; it is decrypted
  when an ``Account`` is read.
- **members**: which account a Telegram user is mapped to (at most one), by an admin's grant or by
  the user's own login.
- **audit**: every lookup: when, who, which chat, what was asked, the outcome.
- **quota_ledger**: the times of upstream history requests per SMS Center account (``key_id``),
  so the hourly budget of PRODUCT.md §7 survives restarts.

Every change runs in one transaction (``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error),
so a failure leaves no half-written state; a change of one statement (an audit line, a ledger
row) is its own transaction in autocommit mode. Statements are serialised by one lock: all
coroutines share one connection, and a statement of one must never land inside another's
transaction.

Errors::

    StorageError          any database failure (sqlite3 errors are translated into it)
    ├── AccountExists     add_account with a name already taken
    └── NoSuchAccount     grant to an account name that does not exist

No message carries key material.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

from bot.store.cipher import CipherError, KeyCipher, fingerprint, key_id

logger = logging.getLogger(__name__)

# Ordered forward migrations; the schema version of a database is the number of them applied.
# Never edit or reorder a released entry: append a new one.
MIGRATIONS: list[list[str]] = [
    [
        """
        CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            apikey_token BLOB NOT NULL,
            fingerprint TEXT NOT NULL,
            key_id TEXT NOT NULL,
            added_by INTEGER NOT NULL,
            added_at REAL NOT NULL,
            personal INTEGER NOT NULL DEFAULT 0 CHECK (personal IN (0, 1))
        )
        """,
        "CREATE INDEX accounts_by_key_id ON accounts (key_id)",
        """
        CREATE TABLE members (
            user_id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
            granted_by INTEGER,
            granted_at REAL NOT NULL
        )
        """,
        "CREATE INDEX members_by_account ON members (account_id)",
        """
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            user_id INTEGER NOT NULL,
            chat_id INTEGER NOT NULL,
            command TEXT NOT NULL,
            argument TEXT NOT NULL,
            outcome TEXT NOT NULL
        )
        """,
        # SQLite appends the rowid (= id) to every index, so this serves "at DESC, id DESC".
        "CREATE INDEX audit_by_time ON audit (at)",
        """
        CREATE TABLE quota_ledger (
            key_id TEXT NOT NULL,
            at REAL NOT NULL
        )
        """,
        "CREATE INDEX quota_ledger_by_key_time ON quota_ledger (key_id, at)",
    ],
    [
        # An account id is never reused (buttons carry it: one of a deleted account must stay
        # refused). The table was made without AUTOINCREMENT, so deleted ids are kept here and
        # new ones are numbered above both tables (see `_insert_account`).
        "CREATE TABLE retired_account_ids (id INTEGER PRIMARY KEY)",
        """
        CREATE TRIGGER accounts_retire_id AFTER DELETE ON accounts
        BEGIN
            INSERT OR IGNORE INTO retired_account_ids (id) VALUES (old.id);
        END
        """,
    ],
]

_BUSY_TIMEOUT_MS = 5000

# Every query reading accounts lists these columns first, in this order (see `_account`).
_ACCOUNT_BY_NAME = (
    "SELECT a.id, a.name, a.apikey_token, a.fingerprint, a.key_id, a.added_by, a.added_at, "
    "a.personal FROM accounts a WHERE a.name = ?"
)
_ACCOUNTS_WITH_COUNTS = (
    "SELECT a.id, a.name, a.apikey_token, a.fingerprint, a.key_id, a.added_by, a.added_at, "
    "a.personal, COUNT(m.user_id) FROM accounts a LEFT JOIN members m ON m.account_id = a.id "
    "GROUP BY a.id ORDER BY a.name"
)
# Members: user_id, granted_by, granted_at, then the account columns.
_MEMBER_BY_USER = (
    "SELECT m.user_id, m.granted_by, m.granted_at, a.id, a.name, a.apikey_token, a.fingerprint, "
    "a.key_id, a.added_by, a.added_at, a.personal "
    "FROM members m JOIN accounts a ON a.id = m.account_id WHERE m.user_id = ?"
)
_ALL_MEMBERS = (
    "SELECT m.user_id, m.granted_by, m.granted_at, a.id, a.name, a.apikey_token, a.fingerprint, "
    "a.key_id, a.added_by, a.added_at, a.personal "
    "FROM members m JOIN accounts a ON a.id = m.account_id ORDER BY a.name, m.user_id"
)


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


class Storage:
    """The bot's persistent state over one aiosqlite connection.

    Build it with ``await Storage.open(path, cipher)``; or hand ``__init__`` an already-open
    connection (opened with ``isolation_level=None``) and ``await prepare()``. Close it with
    ``close()`` or use it as an async context manager.
    """

    def __init__(self, connection: aiosqlite.Connection, cipher: KeyCipher) -> None:
        """Wrap ``connection``; nothing is read or written until ``prepare()``."""
        self._conn = connection
        self._cipher = cipher
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path, cipher: KeyCipher) -> Self:
        """Open (creating the file and its folder) the database at ``path`` and migrate it.

        StorageError if the folder or the file cannot be created or opened, or the database was
        written by a newer version of the bot.
        """
        try:
            await asyncio.to_thread(path.parent.mkdir, mode=0o700, parents=True, exist_ok=True)
            # Created private: SQLite gives the -wal and -shm files the database file's mode.
            await asyncio.to_thread(path.touch, mode=0o600, exist_ok=True)
            # isolation_level=None: no implicit transactions; ours are explicit BEGIN … COMMIT.
            connection = await aiosqlite.connect(path, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open the database {path}: {exc}") from exc
        storage = cls(connection, cipher)
        try:
            await storage.prepare()
        except BaseException:
            await connection.close()
            raise
        return storage

    async def prepare(self) -> None:
        """Set the connection's pragmas and apply pending migrations in one transaction.

        StorageError if the database's schema version is newer than ``len(MIGRATIONS)``.
        """
        # WAL: readers never block the writer; busy_timeout: a briefly locked file (a backup,
        # a second process) is waited for instead of failing at once.
        await self._execute("PRAGMA journal_mode=WAL")
        await self._execute("PRAGMA foreign_keys=ON")
        await self._execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        latest = len(MIGRATIONS)
        async with self._transaction():
            await self._execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)"
            )
            await self._execute("INSERT OR IGNORE INTO schema_version (id, version) VALUES (1, 0)")
            row = await self._fetchone("SELECT version FROM schema_version WHERE id = 1")
            current = int(row[0]) if row is not None else 0
            if current > latest:
                raise StorageError(
                    f"the database has schema version {current}, but this version of the bot "
                    f"knows only up to {latest}: upgrade the bot or use another DATABASE_PATH"
                )
            for statements in MIGRATIONS[current:]:
                for statement in statements:
                    await self._execute(statement)
            if current < latest:
                await self._execute("UPDATE schema_version SET version = ? WHERE id = 1", (latest,))
                logger.info("database migrated from schema version %d to %d", current, latest)

    async def close(self) -> None:
        """Close the connection after any transaction in progress; closing twice is harmless."""
        async with self._lock:
            await self._conn.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- accounts ---------------------------------------------------------------------------

    async def add_account(self, name: str, apikey: str, *, added_by: int, now: float) -> Account:
        """Register ``apikey`` under ``name``; AccountExists if the name is taken.

        The same key may be registered under several names; they share one ``key_id``.
        """
        token = self._cipher.encrypt(apikey)
        async with self._transaction():
            if await self._account_id(name) is not None:
                raise AccountExists(name)
            account_id = await self._insert_account(
                name, token, apikey, added_by=added_by, now=now, personal=False
            )
        return Account(
            id=account_id,
            name=name,
            fingerprint=fingerprint(apikey),
            key_id=key_id(apikey),
            added_by=added_by,
            added_at=now,
            personal=False,
            apikey=apikey,
        )

    async def get_account(self, name: str) -> Account | None:
        """Return the account called ``name``, or None."""
        async with self._lock:
            row = await self._fetchone(_ACCOUNT_BY_NAME, (name,))
            return None if row is None else self._account(row)

    async def delete_account(self, name: str) -> int | None:
        """Delete the account ``name`` and its members' mappings together.

        Returns how many members lost access, or None if there is no such account.
        """
        async with self._transaction():
            account_id = await self._account_id(name)
            if account_id is None:
                return None
            lost = await self._execute("DELETE FROM members WHERE account_id = ?", (account_id,))
            await self._execute("DELETE FROM accounts WHERE id = ?", (account_id,))
        logger.info("account %d deleted; %d member(s) lost access", account_id, lost)
        return lost

    async def list_accounts(self) -> list[tuple[Account, int]]:
        """Return every account with its number of members, ordered by name."""
        async with self._lock:
            rows = await self._fetchall(_ACCOUNTS_WITH_COUNTS)
            return [(self._account(row), int(row[8])) for row in rows]

    # -- members ----------------------------------------------------------------------------

    async def grant(
        self, user_id: int, account_name: str, *, granted_by: int, now: float
    ) -> Member:
        """Map ``user_id`` to the account ``account_name``, replacing any earlier mapping.

        NoSuchAccount if there is no such account. A personal account the user leaves and that
        has no members left is deleted, as on login.
        """
        async with self._transaction():
            row = await self._fetchone(_ACCOUNT_BY_NAME, (account_name,))
            if row is None:
                raise NoSuchAccount(account_name)
            account = self._account(row)
            previous = await self._member_account_id(user_id)
            await self._map(user_id, account.id, granted_by=granted_by, now=now)
            if previous is not None and previous != account.id:
                await self._drop_if_orphaned_personal(previous)
        return Member(user_id=user_id, account=account, granted_by=granted_by, granted_at=now)

    async def login(self, user_id: int, apikey: str, *, now: float) -> Member:
        """Map ``user_id`` to their own key (a self-login; ``granted_by`` is None).

        If an account with the same key exists, the user joins it (their current account first,
        then a shared one, then the oldest). Otherwise a personal account named
        ``personal-{user_id}`` is created (``personal-{user_id}-2`` … if that name is taken). A
        personal account the user leaves that has no members left is deleted, key and all.
        """
        kid = key_id(apikey)
        token = self._cipher.encrypt(apikey)
        async with self._transaction():
            previous = await self._member_account_id(user_id)
            row = await self._fetchone(
                "SELECT id FROM accounts WHERE key_id = ? "
                "ORDER BY id = ? DESC, personal ASC, id ASC LIMIT 1",
                (kid, previous if previous is not None else -1),
            )
            if row is not None:
                account_id = int(row[0])
                await self._map(user_id, account_id, granted_by=None, now=now)
                if previous is not None and previous != account_id:
                    await self._drop_if_orphaned_personal(previous)
            else:
                # Leave the old account first, so that an old personal account is gone and its
                # name free before the new one is created.
                if previous is not None:
                    await self._execute("DELETE FROM members WHERE user_id = ?", (user_id,))
                    await self._drop_if_orphaned_personal(previous)
                name = await self._free_personal_name(user_id)
                account_id = await self._insert_account(
                    name, token, apikey, added_by=user_id, now=now, personal=True
                )
                await self._map(user_id, account_id, granted_by=None, now=now)
                logger.info("personal account %d created by self-login", account_id)
            member = await self._fetchone(_MEMBER_BY_USER, (user_id,))
            assert member is not None  # mapped just above, inside this transaction
            return self._member(member)

    async def revoke(self, user_id: int) -> bool:
        """Remove ``user_id``'s mapping; False if there was none.

        A personal account left without members is deleted, key and all.
        """
        async with self._transaction():
            previous = await self._member_account_id(user_id)
            if previous is None:
                return False
            await self._execute("DELETE FROM members WHERE user_id = ?", (user_id,))
            await self._drop_if_orphaned_personal(previous)
        return True

    async def get_member(self, user_id: int) -> Member | None:
        """Return ``user_id``'s mapping with its account, or None."""
        async with self._lock:
            row = await self._fetchone(_MEMBER_BY_USER, (user_id,))
            return None if row is None else self._member(row)

    async def list_members(self) -> list[Member]:
        """Return every mapping, ordered by account name, then user id."""
        async with self._lock:
            rows = await self._fetchall(_ALL_MEMBERS)
            return [self._member(row) for row in rows]

    # -- audit ------------------------------------------------------------------------------

    async def audit(
        self, *, at: float, user_id: int, chat_id: int, command: str, argument: str, outcome: str
    ) -> None:
        """Append one entry to the audit log. The caller must not pass key material."""
        async with self._lock:  # one statement is its own transaction: no BEGIN … COMMIT trips
            await self._execute(
                "INSERT INTO audit (at, user_id, chat_id, command, argument, outcome) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (at, user_id, chat_id, command, argument, outcome),
            )

    async def recent_audit(self, n: int) -> list[AuditEntry]:
        """Return the newest ``n`` audit entries, newest first (same time: last written first)."""
        if n <= 0:
            return []
        async with self._lock:
            rows = await self._fetchall(
                "SELECT id, at, user_id, chat_id, command, argument, outcome FROM audit "
                "ORDER BY at DESC, id DESC LIMIT ?",
                (n,),
            )
        return [
            AuditEntry(
                id=int(r[0]),
                at=float(r[1]),
                user_id=int(r[2]),
                chat_id=int(r[3]),
                command=str(r[4]),
                argument=str(r[5]),
                outcome=str(r[6]),
            )
            for r in rows
        ]

    # -- quota ledger -----------------------------------------------------------------------

    async def record_upstream(self, key_id: str, at: float) -> None:
        """Record one upstream history request for the SMS Center account ``key_id`` at ``at``."""
        async with self._lock:  # one statement, its own transaction
            await self._execute("INSERT INTO quota_ledger (key_id, at) VALUES (?, ?)", (key_id, at))

    async def upstream_since(self, key_id: str, since: float) -> list[float]:
        """Return the times (ascending) of ``key_id``'s upstream requests at or after ``since``."""
        async with self._lock:
            rows = await self._fetchall(
                "SELECT at FROM quota_ledger WHERE key_id = ? AND at >= ? ORDER BY at",
                (key_id, since),
            )
        return [float(r[0]) for r in rows]

    async def prune_ledger(self, before: float) -> int:
        """Delete ledger entries older than ``before`` (all accounts); return how many."""
        # A full scan, by design: pruning keeps the table at about an hour of requests.
        async with self._transaction():
            return await self._execute("DELETE FROM quota_ledger WHERE at < ?", (before,))

    # -- internals --------------------------------------------------------------------------

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

    async def _fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        try:
            async with self._conn.execute(sql, params) as cursor:
                return await cursor.fetchone()
        except sqlite3.Error as exc:
            raise StorageError(f"database error: {exc}") from exc

    async def _fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        try:
            async with self._conn.execute(sql, params) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.Error as exc:
            raise StorageError(f"database error: {exc}") from exc

    async def _account_id(self, name: str) -> int | None:
        row = await self._fetchone("SELECT id FROM accounts WHERE name = ?", (name,))
        return None if row is None else int(row[0])

    async def _member_account_id(self, user_id: int) -> int | None:
        row = await self._fetchone("SELECT account_id FROM members WHERE user_id = ?", (user_id,))
        return None if row is None else int(row[0])

    async def _insert_account(
        self, name: str, token: bytes, apikey: str, *, added_by: int, now: float, personal: bool
    ) -> int:
        return await self._insert(
            "INSERT INTO accounts "
            "(id, name, apikey_token, fingerprint, key_id, added_by, added_at, personal) "
            "VALUES (1 + (SELECT MAX(used) FROM ("
            "SELECT COALESCE(MAX(id), 0) AS used FROM accounts UNION ALL "
            "SELECT COALESCE(MAX(id), 0) FROM retired_account_ids)), ?, ?, ?, ?, ?, ?, ?)",
            (name, token, fingerprint(apikey), key_id(apikey), added_by, now, int(personal)),
        )

    async def _map(
        self, user_id: int, account_id: int, *, granted_by: int | None, now: float
    ) -> None:
        await self._execute(
            "INSERT INTO members (user_id, account_id, granted_by, granted_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
            "account_id = excluded.account_id, granted_by = excluded.granted_by, "
            "granted_at = excluded.granted_at",
            (user_id, account_id, granted_by, now),
        )

    async def _drop_if_orphaned_personal(self, account_id: int) -> None:
        """Delete ``account_id`` if it is personal and nobody is mapped to it any more."""
        deleted = await self._execute(
            "DELETE FROM accounts WHERE id = ? AND personal = 1 "
            "AND NOT EXISTS (SELECT 1 FROM members WHERE account_id = ?)",
            (account_id, account_id),
        )
        if deleted:
            logger.info("personal account %d deleted: its last member left", account_id)

    async def _free_personal_name(self, user_id: int) -> str:
        # The plain name is taken only in odd cases: an admin chose it, or the user's earlier
        # personal account is still shared by others who logged in with that key.
        name = f"personal-{user_id}"
        suffix = 2
        while await self._account_id(name) is not None:
            name = f"personal-{user_id}-{suffix}"
            suffix += 1
        return name

    def _account(self, row: sqlite3.Row, offset: int = 0) -> Account:
        """Build an Account from the account columns starting at ``row[offset]``."""
        r = row[offset : offset + 8]
        name = str(r[1])
        try:
            apikey = self._cipher.decrypt(bytes(r[2]))
        except CipherError as exc:
            raise StorageError(
                f"the API key of account {name!r} does not decrypt: ENCRYPTION_KEY or the key "
                "file changed since it was stored"
            ) from exc
        return Account(
            id=int(r[0]),
            name=name,
            fingerprint=str(r[3]),
            key_id=str(r[4]),
            added_by=int(r[5]),
            added_at=float(r[6]),
            personal=bool(r[7]),
            apikey=apikey,
        )

    def _member(self, row: sqlite3.Row) -> Member:
        """Build a Member from a ``_MEMBER_BY_USER`` / ``_ALL_MEMBERS`` row."""
        return Member(
            user_id=int(row[0]),
            account=self._account(row, offset=3),
            granted_by=None if row[1] is None else int(row[1]),
            granted_at=float(row[2]),
        )
