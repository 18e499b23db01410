"""Status pushes in the database: each account's push secret, and the pushed status of each
message (one row per message).

``PushStore`` shares ``Storage``'s one connection, its lock and its transactions (it is a part
of the same store, kept in its own module). A push secret is stored as a Fernet token like an API
key; after a rotation the previous one is kept until ``previous_until`` (an hour), so pushes SMS
Center signs with it meanwhile are still accepted. The handler URL of another system that
verified pushes are relayed to is encrypted the same way (it carries that system's secret).
Pushed statuses are written in batches (``save_statuses``: one transaction for many rows),
idempotent (the row of a message is replaced only by a status at least as recent), and pruned
after ``PUSHED_STATUS_DAYS``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from bot.store.database import Storage
from bot.store.errors import NoSuchAccount

#: Days a pushed status is kept (SECURITY.md says so too): long enough for any question about
#: a message, short enough that the table holds no long record of who was sent what.
PUSHED_STATUS_DAYS = 7
DAY = 86_400.0
#: How long the previous secret is still accepted after a rotation.
PREVIOUS_SECRET_GRACE = 3600.0


@dataclass(frozen=True, slots=True)
class PushSecrets:
    """An account's push secrets: the current one, and the previous one while accepted."""

    account_id: int
    account_name: str
    key_id: str
    current: str
    previous: str | None
    previous_until: float | None
    relay: str | None = None  # the handler URL verified pushes are passed on to

    def accepted(self, now: float) -> list[str]:
        """The secrets a push may be signed with at ``now``."""
        if (
            self.previous is not None
            and self.previous_until is not None
            and now < self.previous_until
        ):
            return [self.current, self.previous]
        return [self.current]


@dataclass(frozen=True, slots=True)
class PushedStatus:
    """The pushed status of one message: its number (digits) and id, status, error, and when
    the status changed (the push's ``ts``, or when it was received)."""

    account_id: int
    phone: str
    message_id: int
    status: int | None
    err: int | None
    status_at: float
    received_at: float


class PushStore:
    """Push secrets and pushed statuses over ``storage``'s connection (see the module
    docstring)."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    async def set_secret(self, account_name: str, secret: str, *, now: float) -> None:
        """Make ``secret`` the account's push secret; the one it replaces stays accepted for
        ``PREVIOUS_SECRET_GRACE``. StorageError (NoSuchAccount) for an unknown account."""
        s = self._storage
        token = s._cipher.encrypt(secret)
        async with s._transaction():
            account_id = await s._account_id(account_name)
            if account_id is None:
                raise NoSuchAccount(account_name)
            row = await s._fetchone(
                "SELECT secret_token FROM push_secrets WHERE account_id = ?", (account_id,)
            )
            if row is None:
                await s._execute(
                    "INSERT INTO push_secrets (account_id, secret_token, created_at) "
                    "VALUES (?, ?, ?)",
                    (account_id, token, now),
                )
            else:
                await s._execute(
                    "UPDATE push_secrets SET secret_token = ?, previous_token = ?, "
                    "previous_until = ?, created_at = ? WHERE account_id = ?",
                    (token, row["secret_token"], now + PREVIOUS_SECRET_GRACE, now, account_id),
                )

    async def forget_secret(self, account_name: str) -> bool:
        """Turn pushes off for the account; whether it had a secret."""
        s = self._storage
        async with s._transaction():
            return (
                await s._execute(
                    "DELETE FROM push_secrets WHERE account_id = "
                    "(SELECT id FROM accounts WHERE name = ?)",
                    (account_name,),
                )
                > 0
            )

    async def set_relay(self, account_name: str, handler_url: str | None) -> bool:
        """Relay the account's verified pushes to ``handler_url`` (None: stop); whether the
        account has pushes on (nothing is changed when it has not)."""
        s = self._storage
        token = s._cipher.encrypt(handler_url) if handler_url is not None else None
        async with s._transaction():
            return (
                await s._execute(
                    "UPDATE push_secrets SET relay_token = ? WHERE account_id = "
                    "(SELECT id FROM accounts WHERE name = ?)",
                    (token, account_name),
                )
                > 0
            )

    async def all_secrets(self) -> list[PushSecrets]:
        """Every account's push secrets (decrypted), to hold in memory."""
        s = self._storage
        async with s._lock:
            rows = await s._fetchall(
                "SELECT p.account_id, a.name, a.key_id, p.secret_token, p.previous_token, "
                "p.previous_until, p.relay_token "
                "FROM push_secrets p JOIN accounts a ON a.id = p.account_id"
            )
        return [
            PushSecrets(
                account_id=int(row["account_id"]),
                account_name=str(row["name"]),
                key_id=str(row["key_id"]),
                current=s._cipher.decrypt(bytes(row["secret_token"])),
                previous=(
                    s._cipher.decrypt(bytes(row["previous_token"]))
                    if row["previous_token"] is not None
                    else None
                ),
                previous_until=row["previous_until"],
                relay=(
                    s._cipher.decrypt(bytes(row["relay_token"]))
                    if row["relay_token"] is not None
                    else None
                ),
            )
            for row in rows
        ]

    async def save_statuses(self, statuses: Sequence[PushedStatus]) -> None:
        """Write pushed statuses in one transaction; a message's row is replaced only by a
        status at least as recent (repeats and late arrivals change nothing)."""
        if not statuses:
            return
        s = self._storage
        async with s._transaction():
            for item in statuses:
                await s._execute(
                    # An account deleted since its push was verified takes its row with it.
                    "INSERT INTO pushed_statuses (account_id, phone, message_id, status, err, "
                    "status_at, received_at) SELECT ?, ?, ?, ?, ?, ?, ? "
                    "WHERE EXISTS (SELECT 1 FROM accounts WHERE id = ?) "
                    "ON CONFLICT (account_id, phone, message_id) DO UPDATE SET "
                    "status = excluded.status, err = excluded.err, "
                    "status_at = excluded.status_at, received_at = excluded.received_at "
                    "WHERE excluded.status_at >= pushed_statuses.status_at",
                    (
                        item.account_id,
                        item.phone,
                        item.message_id,
                        item.status,
                        item.err,
                        item.status_at,
                        item.received_at,
                        item.account_id,
                    ),
                )

    async def statuses_of(self, account_id: int, phone: str) -> list[PushedStatus]:
        """The pushed statuses of messages to ``phone`` (digits), newest status first."""
        s = self._storage
        async with s._lock:
            rows = await s._fetchall(
                "SELECT account_id, phone, message_id, status, err, status_at, received_at "
                "FROM pushed_statuses WHERE account_id = ? AND phone = ? "
                "ORDER BY status_at DESC",
                (account_id, phone),
            )
        return [_status(row) for row in rows]

    async def recent_statuses(self, *, since: float, limit: int) -> list[tuple[str, PushedStatus]]:
        """Pushed statuses received at or after ``since`` (the newest ``limit``), each with its
        account's ``key_id``: what a restart reads back."""
        s = self._storage
        async with s._lock:
            rows = await s._fetchall(
                "SELECT a.key_id, p.account_id, p.phone, p.message_id, p.status, p.err, "
                "p.status_at, p.received_at FROM pushed_statuses p "
                "JOIN accounts a ON a.id = p.account_id WHERE p.received_at >= ? "
                "ORDER BY p.received_at DESC LIMIT ?",
                (since, limit),
            )
        return [(str(row["key_id"]), _status(row)) for row in reversed(rows)]

    async def count_statuses(self) -> int:
        """How many pushed statuses are held (all accounts)."""
        s = self._storage
        async with s._lock:
            row = await s._fetchone("SELECT COUNT(*) AS n FROM pushed_statuses")
        return 0 if row is None else int(row["n"])

    async def prune(self, *, now: float) -> int:
        """Delete pushed statuses received more than ``PUSHED_STATUS_DAYS`` ago; how many."""
        s = self._storage
        async with s._transaction():
            return await s._execute(
                "DELETE FROM pushed_statuses WHERE received_at < ?",
                (now - PUSHED_STATUS_DAYS * DAY,),
            )


def _status(row: aiosqlite.Row) -> PushedStatus:
    return PushedStatus(
        account_id=int(row["account_id"]),
        phone=str(row["phone"]),
        message_id=int(row["message_id"]),
        status=row["status"],
        err=row["err"],
        status_at=float(row["status_at"]),
        received_at=float(row["received_at"]),
    )
