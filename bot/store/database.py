"""Persistent state in one SQLite file (aiosqlite): accounts, members, audit log, quota ledger.

- **accounts**: a named SMS Center API key. The key is stored only as a Fernet token (see
  ``bot.store.cipher``) beside its public fingerprint and its ``key_id`` hash; it is decrypted
  when an ``Account`` is read. Names are case-insensitive slugs kept in lower case; one key
  belongs to one account (compared by ``key_id``, so nothing is decrypted to find it; accounts
  that shared a key before that rule keep sharing it); ``rekey`` replaces an account's key.
- **members**: which account a Telegram user is mapped to (at most one), by an admin's grant or by
  the user's own login.
- **audit**: every lookup: when, who, which chat, what was asked, the outcome.
- **quota_ledger**: the times of upstream history requests per SMS Center account (``key_id``),
  so the hourly budget of PRODUCT.md §7 survives restarts.

Every change runs in one transaction (``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error),
so a failure leaves no half-written state; a change of one statement (an audit line, a ledger
row) is its own transaction in autocommit mode. Statements are serialised by one lock: all
coroutines share one connection, and a statement of one must never land inside another's
transaction (``bot.store.connection``).

The schema and its versions are in ``bot.store.migrations``, the records handed out in
``bot.store.records``, the errors in ``bot.store.errors``. Rows are read by column name
(``sqlite3.Row``). No message carries key material.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Self

import aiosqlite

from bot.store.cipher import CipherError, KeyCipher, fingerprint, key_id
from bot.store.connection import StatementRunner
from bot.store.errors import AccountExists, KeyInUse, NoSuchAccount, StorageError
from bot.store.migrations import migrate
from bot.store.records import Account, AuditEntry, Member, Rekeyed

logger = logging.getLogger(__name__)

_BUSY_TIMEOUT_MS = 5000
# SMS Center's quota window: the ledger rows a replaced key hands to the new one.
_LEDGER_HOUR = 3600.0

# Every query reading accounts selects the same account columns (read by name in `_account`),
# the account's own id as `account_id`, since a member row has ids of its own; member queries
# add the member's columns (read in `_member`). Written out whole: no SQL is built at run time.
_ACCOUNT_BY_NAME = (
    "SELECT a.id AS account_id, a.name, a.apikey_token, a.fingerprint, a.key_id, a.added_by, "
    "a.added_at, a.personal FROM accounts a WHERE a.name = ? COLLATE NOCASE"
)
_ACCOUNTS_WITH_COUNTS = (
    "SELECT a.id AS account_id, a.name, a.apikey_token, a.fingerprint, a.key_id, a.added_by, "
    "a.added_at, a.personal, COUNT(m.user_id) AS members "
    "FROM accounts a LEFT JOIN members m ON m.account_id = a.id GROUP BY a.id ORDER BY a.name"
)
_MEMBER_BY_USER = (
    "SELECT m.user_id, m.granted_by, m.granted_at, "
    "a.id AS account_id, a.name, a.apikey_token, a.fingerprint, a.key_id, a.added_by, "
    "a.added_at, a.personal "
    "FROM members m JOIN accounts a ON a.id = m.account_id WHERE m.user_id = ?"
)
_ALL_MEMBERS = (
    "SELECT m.user_id, m.granted_by, m.granted_at, "
    "a.id AS account_id, a.name, a.apikey_token, a.fingerprint, a.key_id, a.added_by, "
    "a.added_at, a.personal "
    "FROM members m JOIN accounts a ON a.id = m.account_id ORDER BY a.name, m.user_id"
)


class Storage(StatementRunner):
    """The bot's persistent state over one aiosqlite connection.

    Build it with ``await Storage.open(path, cipher)``; or hand ``__init__`` an already-open
    connection (opened with ``isolation_level=None``) and ``await prepare()``. Close it with
    ``close()`` or use it as an async context manager.
    """

    def __init__(self, connection: aiosqlite.Connection, cipher: KeyCipher) -> None:
        """Wrap ``connection``; nothing is read or written until ``prepare()``."""
        super().__init__(connection)
        self._cipher = cipher

    @classmethod
    async def open(cls, path: Path, cipher: KeyCipher) -> Self:
        """Open (creating the file and its folder) the database at ``path`` and migrate it.

        StorageError, one line starting ``DATABASE_PATH:``, if the folder or the file cannot be
        created or opened, the file is not a usable database, or it was written by a newer
        version of the bot.
        """
        try:
            await asyncio.to_thread(path.parent.mkdir, mode=0o700, parents=True, exist_ok=True)
            # Created private: SQLite gives the -wal and -shm files the database file's mode.
            await asyncio.to_thread(path.touch, mode=0o600, exist_ok=True)
            # isolation_level=None: no implicit transactions; ours are explicit BEGIN … COMMIT.
            connection = await aiosqlite.connect(path, isolation_level=None)
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            raise StorageError(
                f"DATABASE_PATH: cannot create or open {path}: {exc.strerror or exc}{where}"
            ) from exc
        except sqlite3.Error as exc:
            raise StorageError(f"DATABASE_PATH: cannot open {path}: {exc}") from exc
        storage = cls(connection, cipher)
        try:
            await storage.prepare()
        except StorageError as exc:
            await connection.close()
            raise StorageError(f"DATABASE_PATH: {path}: {exc}") from exc
        except BaseException:
            await connection.close()
            raise
        return storage

    async def prepare(self) -> None:
        """Set the connection's pragmas and apply pending migrations in one transaction.

        StorageError if a migration fails (the database stays at its previous version) or the
        database's schema version is newer than this code knows (``bot.store.migrations``).
        """
        # WAL: readers never block the writer; busy_timeout: a briefly locked file (a backup,
        # a second process) is waited for instead of failing at once.
        await self._execute("PRAGMA journal_mode=WAL")
        await self._execute("PRAGMA foreign_keys=ON")
        await self._execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        async with self._transaction():
            try:
                before, after = await migrate(self._conn)
            except sqlite3.Error as exc:
                raise StorageError(f"database migration failed: {exc}") from exc
        if before < after:
            logger.info("database migrated from schema version %d to %d", before, after)

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
        """Register ``apikey`` under ``name`` (kept in lower case).

        AccountExists if the name is taken in any letter case; KeyInUse, naming the account,
        if an account already has this key (compared by ``key_id``, nothing is decrypted).
        """
        name = name.lower()
        token = self._cipher.encrypt(apikey)
        async with self._transaction():
            if await self._account_id(name) is not None:
                raise AccountExists(name)
            holder = await self._holder(key_id(apikey))
            if holder is not None:
                raise KeyInUse(holder)
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

    async def account_holding(self, key_id: str) -> str | None:
        """The name of an account whose key has this ``key_id`` (a shared one first), or None."""
        async with self._lock:
            return await self._holder(key_id)

    async def rekey(self, name: str, apikey: str, *, now: float) -> Rekeyed:
        """Replace the key of the account ``name`` with ``apikey``, keeping the account: its id
        (so its buttons stay valid), members and settings.

        The last hour of the old key's quota ledger is copied to the new key: the hourly limit
        is SMS Center's per account, whichever key asks. NoSuchAccount; KeyInUse if another
        account has ``apikey``. Replacing a key with itself changes nothing.
        """
        new_id = key_id(apikey)
        token = self._cipher.encrypt(apikey)
        async with self._transaction():
            row = await self._fetchone(_ACCOUNT_BY_NAME, (name,))
            if row is None:
                raise NoSuchAccount(name)
            old = self._account(row)
            holder = await self._holder(new_id, besides=old.id)
            if holder is not None:
                raise KeyInUse(holder)
            await self._execute(
                "UPDATE accounts SET apikey_token = ?, fingerprint = ?, key_id = ? WHERE id = ?",
                (token, fingerprint(apikey), new_id, old.id),
            )
            if new_id != old.key_id:
                await self._execute(
                    "INSERT INTO quota_ledger (key_id, at) "
                    "SELECT ?, at FROM quota_ledger WHERE key_id = ? AND at >= ?",
                    (new_id, old.key_id, now - _LEDGER_HOUR),
                )
            members = await self._fetchone(
                "SELECT COUNT(*) AS n FROM members WHERE account_id = ?", (old.id,)
            )
            kept = await self._holder(old.key_id)
        logger.info("account %d has a new key", old.id)
        return Rekeyed(
            account=replace(old, fingerprint=fingerprint(apikey), key_id=new_id, apikey=apikey),
            old_fingerprint=old.fingerprint,
            old_key_id=old.key_id,
            old_key_kept=kept is not None,
            members=0 if members is None else int(members["n"]),
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

    async def account_names(self) -> list[str]:
        """The names of the shared accounts (not personal ones), in order; no key is decrypted."""
        async with self._lock:
            rows = await self._fetchall(
                "SELECT name FROM accounts WHERE personal = 0 ORDER BY name"
            )
        return [str(row["name"]) for row in rows]

    async def list_accounts(self) -> list[tuple[Account, int]]:
        """Return every account with its number of members, ordered by name."""
        async with self._lock:
            rows = await self._fetchall(_ACCOUNTS_WITH_COUNTS)
            return [(self._account(row), int(row["members"])) for row in rows]

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
                account_id = int(row["id"])
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
                id=int(r["id"]),
                at=float(r["at"]),
                user_id=int(r["user_id"]),
                chat_id=int(r["chat_id"]),
                command=str(r["command"]),
                argument=str(r["argument"]),
                outcome=str(r["outcome"]),
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
        return [float(r["at"]) for r in rows]

    async def prune_ledger(self, before: float) -> int:
        """Delete ledger entries older than ``before`` (all accounts); return how many."""
        # A full scan, by design: pruning keeps the table at about an hour of requests.
        async with self._transaction():
            return await self._execute("DELETE FROM quota_ledger WHERE at < ?", (before,))

    # -- health -----------------------------------------------------------------------------

    async def check_writable(self, *, now: float) -> None:
        """Write to the file and take it back (a ledger row no account has, inserted and deleted
        in one committed transaction, so the WAL is really appended to); StorageError when the
        disk is full, the file read-only or locked past the busy timeout."""
        async with self._transaction():
            await self._execute("INSERT INTO quota_ledger (key_id, at) VALUES ('', ?)", (now,))
            await self._execute("DELETE FROM quota_ledger WHERE key_id = ''")

    # -- internals --------------------------------------------------------------------------

    async def _account_id(self, name: str) -> int | None:
        row = await self._fetchone("SELECT id FROM accounts WHERE name = ? COLLATE NOCASE", (name,))
        return None if row is None else int(row["id"])

    async def _holder(self, key_id: str, *, besides: int | None = None) -> str | None:
        """The name of an account (not ``besides``) with this ``key_id``: a shared one first."""
        row = await self._fetchone(
            "SELECT name FROM accounts WHERE key_id = ? AND id IS NOT ? "
            "ORDER BY personal ASC, id ASC LIMIT 1",
            (key_id, besides),
        )
        return None if row is None else str(row["name"])

    async def _member_account_id(self, user_id: int) -> int | None:
        row = await self._fetchone("SELECT account_id FROM members WHERE user_id = ?", (user_id,))
        return None if row is None else int(row["account_id"])

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

    def _account(self, row: aiosqlite.Row) -> Account:
        """Build an Account from a row with the account columns (``_ACCOUNT_BY_NAME``'s)."""
        name = str(row["name"])
        try:
            apikey = self._cipher.decrypt(bytes(row["apikey_token"]))
        except CipherError as exc:
            raise StorageError(
                f"the API key of account {name!r} does not decrypt: ENCRYPTION_KEY or the key "
                "file changed since it was stored"
            ) from exc
        return Account(
            id=int(row["account_id"]),
            name=name,
            fingerprint=str(row["fingerprint"]),
            key_id=str(row["key_id"]),
            added_by=int(row["added_by"]),
            added_at=float(row["added_at"]),
            personal=bool(row["personal"]),
            apikey=apikey,
        )

    def _member(self, row: aiosqlite.Row) -> Member:
        """Build a Member from a ``_MEMBER_BY_USER`` / ``_ALL_MEMBERS`` row."""
        return Member(
            user_id=int(row["user_id"]),
            account=self._account(row),
            granted_by=None if row["granted_by"] is None else int(row["granted_by"]),
            granted_at=float(row["granted_at"]),
        )
