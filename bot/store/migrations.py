"""The database schema as ordered forward migrations, and the schema version.

A database's schema version is SQLite's ``PRAGMA user_version``: how many of ``MIGRATIONS`` it
has applied. ``migrate`` applies the missing ones in order and sets the version with them; the
caller runs it inside one transaction, so a failing step leaves the database at its previous
version with nothing half-applied (SQLite's DDL and the version are transactional). A database
whose version is above ``len(MIGRATIONS)`` was written by a newer bot: it is refused with a
``StorageError`` and left untouched.

Rules for a change of schema:

- Append a migration; never edit or reorder a released one (users' files have applied it).
- Each migration is a sequence of SQL statements that works on a database holding data at the
  previous version.
- A change that moves or rewrites data gets an upgrade test over a fixture database made by the
  previous release (``tests/fixtures/README.md``).

Versions 1 and 2 kept the version in a one-row table ``schema_version`` instead; a database
with ``user_version`` 0 and that table is read as the table says, and migration 3 drops it.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiosqlite

from bot.store.errors import StorageError

MIGRATIONS: list[Sequence[str]] = [
    # 1: accounts, members, audit, the quota ledger.
    (
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
    ),
    # 2: an account id is never reused (buttons carry it: one of a deleted account must stay
    # refused). The table was made without AUTOINCREMENT, so deleted ids are kept here and new
    # ones are numbered above both tables (see `Storage._insert_account`).
    (
        "CREATE TABLE retired_account_ids (id INTEGER PRIMARY KEY)",
        """
        CREATE TRIGGER accounts_retire_id AFTER DELETE ON accounts
        BEGIN
            INSERT OR IGNORE INTO retired_account_ids (id) VALUES (old.id);
        END
        """,
    ),
    # 3: the version lives in PRAGMA user_version; the table that held it goes (a database
    # created at this version never had it).
    ("DROP TABLE IF EXISTS schema_version",),
    # 4: account names are case-insensitive slugs (PRODUCT.md §5), kept in lower case. Of names
    # that differ only in case ("demo", "DEMO"), the oldest keeps the name and the others get
    # their id after it ("demo-2"), at most 32 characters; then every name is lowered and a
    # unique index refuses a second spelling of one name from now on.
    (
        """
        UPDATE accounts
        SET name = substr(lower(name), 1, 31 - length(CAST(id AS TEXT))) || '-' || id
        WHERE EXISTS (
            SELECT 1 FROM accounts AS older
            WHERE lower(older.name) = lower(accounts.name) AND older.id < accounts.id
        )
        """,
        "UPDATE accounts SET name = lower(name) WHERE name <> lower(name)",
        "CREATE UNIQUE INDEX accounts_by_name_any_case ON accounts (name COLLATE NOCASE)",
    ),
    # 5 (status pushes): an account's push secret (encrypted like keys; the previous one kept
    # for an hour after a rotation) and the handler URL pushes are relayed to (encrypted: it
    # holds that system's secret), and the pushed status of each message, one row per message
    # (pruned after PUSHED_STATUS_DAYS, bot.store.pushes).
    (
        """
        CREATE TABLE push_secrets (
            account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
            secret_token BLOB NOT NULL,
            previous_token BLOB,
            previous_until REAL,
            relay_token BLOB,
            created_at REAL NOT NULL
        )
        """,
        """
        CREATE TABLE pushed_statuses (
            account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
            phone TEXT NOT NULL,
            message_id INTEGER NOT NULL,
            status INTEGER,
            err INTEGER,
            status_at REAL NOT NULL,
            received_at REAL NOT NULL,
            PRIMARY KEY (account_id, phone, message_id)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX pushed_statuses_by_time ON pushed_statuses (received_at)",
    ),
    # 6 (on-call watch, PRODUCT.md §10): one watch per chat and account, who set it and in
    # which language; whether it is paused (the bot was removed from the chat), blind (since
    # when), silenced (until when); and its incidents, at most one open per watch, with what
    # the last alert showed, so a restart neither repeats an alert nor loses a "resolved"
    # (bot.store.watches).
    (
        """
        CREATE TABLE watches (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL,
            account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
            percent INTEGER NOT NULL CHECK (percent BETWEEN 1 AND 100),
            minutes INTEGER NOT NULL CHECK (minutes BETWEEN 1 AND 1440),
            set_by INTEGER NOT NULL,
            language TEXT NOT NULL,
            created_at REAL NOT NULL,
            paused_at REAL,
            blind_since REAL,
            silenced_until REAL,
            UNIQUE (chat_id, account_id)
        )
        """,
        "CREATE INDEX watches_by_account ON watches (account_id)",
        """
        CREATE TABLE incidents (
            id INTEGER PRIMARY KEY,
            watch_id INTEGER NOT NULL REFERENCES watches (id) ON DELETE CASCADE,
            started_at REAL NOT NULL,
            alerted_at REAL,
            alerted_failures INTEGER NOT NULL DEFAULT 0,
            quiet_since REAL,
            resolved_at REAL
        )
        """,
        # At most one open incident per watch; closed ones stay for the record.
        "CREATE UNIQUE INDEX incidents_open ON incidents (watch_id) WHERE resolved_at IS NULL",
    ),
]


async def schema_version(connection: aiosqlite.Connection) -> int:
    """The number of migrations the database at ``connection`` has applied (0: a new file)."""
    async with connection.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = 0 if row is None else int(row[0])
    if version == 0:
        async with connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ) as cursor:
            legacy = await cursor.fetchone() is not None
        if legacy:
            async with connection.execute(
                "SELECT version FROM schema_version WHERE id = 1"
            ) as cursor:
                row = await cursor.fetchone()
            version = 0 if row is None else int(row[0])
    return version


async def migrate(connection: aiosqlite.Connection) -> tuple[int, int]:
    """Apply the migrations the database lacks; return its versions before and after.

    Run it inside a transaction. StorageError if the database is newer than this code;
    sqlite3 errors of a failing step propagate.
    """
    latest = len(MIGRATIONS)
    current = await schema_version(connection)
    if current > latest:
        raise StorageError(
            f"the database has schema version {current}, but this version of the bot knows "
            f"only up to {latest}: upgrade the bot or use another DATABASE_PATH"
        )
    for statements in MIGRATIONS[current:]:
        for statement in statements:
            async with connection.execute(statement):
                pass
    if current < latest:
        # A PRAGMA takes no parameters; `latest` is an int of ours.
        async with connection.execute(f"PRAGMA user_version = {latest:d}"):
            pass
    return current, latest
