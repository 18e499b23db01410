"""On-call watches and their incidents in the database (PRODUCT.md §10).

``WatchStore`` shares ``Storage``'s one connection, its lock and its transactions (a part of the
same store, kept in its own module, like ``PushStore``). A watch is one per chat and account: a
second ``set_watch`` for the same pair replaces the percent, the period, who set it and their
language, and keeps the watch's id, its open incident and its blind and silence marks (the
incident is the same failures, judged by the new numbers from the next evaluation on). A watch
goes with its account (``ON DELETE CASCADE``), its incidents with their watch.

An incident is what the evaluator keeps between two looks (``bot.watch``): when it started,
when the last alert went out and the failure count that alert showed, since when the share has
been under the threshold; ``resolved_at`` closes it. At most one incident per watch is open;
saving is an upsert by (watch, start), so saving the same incident twice changes one row. After
a restart the open incident is read back: no second alert for it, and its "resolved" still comes.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from bot.store.database import Storage
from bot.store.errors import NoSuchAccount

_WATCH_COLUMNS = (
    "SELECT w.id, w.chat_id, w.account_id, a.name, a.key_id, w.percent, w.minutes, w.set_by, "
    "w.language, w.created_at, w.paused_at, w.blind_since, w.silenced_until "
    "FROM watches w JOIN accounts a ON a.id = w.account_id"
)
_INCIDENT_COLUMNS = (
    "SELECT id, watch_id, started_at, alerted_at, alerted_failures, quiet_since, resolved_at "
    "FROM incidents"
)


@dataclass(frozen=True, slots=True)
class Watch:
    """A chat's watch of an account: fire at ``percent`` failed over ``minutes``; who set it
    (``set_by``) and the language its messages are in; paused (the bot left the chat), blind
    (since when it cannot see) and silenced (until when), each None when not."""

    id: int
    chat_id: int
    account_id: int
    account_name: str
    key_id: str
    percent: int
    minutes: int
    set_by: int
    language: str
    created_at: float
    paused_at: float | None = None
    blind_since: float | None = None
    silenced_until: float | None = None


@dataclass(frozen=True, slots=True)
class StoredIncident:
    """An incident of a watch as stored: when it started, when it was last alerted (None: not
    yet, e.g. while silenced) with how many failures, since when it has been quiet, and when it
    was resolved (None: open)."""

    watch_id: int
    started_at: float
    alerted_at: float | None
    alerted_failures: int
    quiet_since: float | None
    resolved_at: float | None = None
    id: int | None = None


class WatchStore:
    """Watches and incidents over ``storage``'s connection (see the module docstring)."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    async def set_watch(
        self,
        chat_id: int,
        account_name: str,
        *,
        percent: int,
        minutes: int,
        set_by: int,
        language: str,
        now: float,
    ) -> tuple[Watch, Watch | None]:
        """Watch ``account_name`` in ``chat_id``; returns the watch and the one it replaced
        (None: there was none). A replaced watch keeps its id, incident, blind and silence
        marks, and is resumed if it was paused. NoSuchAccount for an unknown account."""
        s = self._storage
        async with s._transaction():
            account_id = await s._account_id(account_name)
            if account_id is None:
                raise NoSuchAccount(account_name)
            before = await self._watch_row(chat_id, account_id)
            await s._execute(
                "INSERT INTO watches (chat_id, account_id, percent, minutes, set_by, language, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (chat_id, account_id) DO UPDATE SET percent = excluded.percent, "
                "minutes = excluded.minutes, set_by = excluded.set_by, "
                "language = excluded.language, paused_at = NULL",
                (chat_id, account_id, percent, minutes, set_by, language, now),
            )
            after = await self._watch_row(chat_id, account_id)
        assert after is not None  # written in this transaction
        return after, before

    async def unwatch(self, chat_id: int, account_name: str) -> bool:
        """Stop the chat's watch of ``account_name`` (its incidents go with it); whether there
        was one."""
        s = self._storage
        async with s._transaction():
            return (
                await s._execute(
                    "DELETE FROM watches WHERE chat_id = ? AND account_id = "
                    "(SELECT id FROM accounts WHERE name = ? COLLATE NOCASE)",
                    (chat_id, account_name),
                )
                > 0
            )

    async def watches_of_chat(self, chat_id: int) -> list[Watch]:
        """The chat's watches, by account name."""
        s = self._storage
        async with s._lock:
            rows = await s._fetchall(
                f"{_WATCH_COLUMNS} WHERE w.chat_id = ? ORDER BY a.name", (chat_id,)
            )
        return [_watch(row) for row in rows]

    async def all_watches(self) -> list[Watch]:
        """Every watch (paused ones too), by account name and chat."""
        s = self._storage
        async with s._lock:
            rows = await s._fetchall(f"{_WATCH_COLUMNS} ORDER BY a.name, w.chat_id")
        return [_watch(row) for row in rows]

    async def get_watch(self, watch_id: int) -> Watch | None:
        """The watch with ``watch_id`` (None: it was removed)."""
        s = self._storage
        async with s._lock:
            row = await s._fetchone(f"{_WATCH_COLUMNS} WHERE w.id = ?", (watch_id,))
        return None if row is None else _watch(row)

    async def mark(
        self,
        watch_id: int,
        *,
        blind_since: float | None,
        silenced_until: float | None,
    ) -> None:
        """Record whether the watch is blind (since when) and silenced (until when)."""
        s = self._storage
        async with s._transaction():
            await s._execute(
                "UPDATE watches SET blind_since = ?, silenced_until = ? WHERE id = ?",
                (blind_since, silenced_until, watch_id),
            )

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> int:
        """A group became a supergroup (``migrate_to_chat_id``): its watches move to the new
        chat id, with their incidents; how many moved. A watch the new chat already has for the
        same account wins over the old one."""
        s = self._storage
        async with s._transaction():
            moved = await s._execute(
                "UPDATE OR IGNORE watches SET chat_id = ? WHERE chat_id = ?",
                (new_chat_id, old_chat_id),
            )
            await s._execute("DELETE FROM watches WHERE chat_id = ?", (old_chat_id,))
        return moved

    async def pause_chat(self, chat_id: int, *, now: float) -> list[Watch]:
        """The bot was removed from ``chat_id``: its watches pause; the ones paused now (a
        watch already paused is not paused again)."""
        s = self._storage
        async with s._transaction():
            rows = await s._fetchall(
                f"{_WATCH_COLUMNS} WHERE w.chat_id = ? AND w.paused_at IS NULL", (chat_id,)
            )
            await s._execute(
                "UPDATE watches SET paused_at = ? WHERE chat_id = ? AND paused_at IS NULL",
                (now, chat_id),
            )
        return [_watch(row) for row in rows]

    async def resume_chat(self, chat_id: int) -> int:
        """The bot is back in ``chat_id``: its paused watches resume; how many."""
        s = self._storage
        async with s._transaction():
            return await s._execute(
                "UPDATE watches SET paused_at = NULL WHERE chat_id = ? AND paused_at IS NOT NULL",
                (chat_id,),
            )

    async def open_incident(self, watch_id: int) -> StoredIncident | None:
        """The watch's open incident, if any."""
        s = self._storage
        async with s._lock:
            row = await s._fetchone(
                f"{_INCIDENT_COLUMNS} WHERE watch_id = ? AND resolved_at IS NULL", (watch_id,)
            )
        return None if row is None else _incident(row)

    async def save_incident(self, incident: StoredIncident) -> int:
        """Write ``incident`` (the row of its watch and start, made or updated); its id.

        An open incident of the same watch that started at another time is closed first
        (resolved at this one's start): one open incident per watch."""
        s = self._storage
        async with s._transaction():
            await s._execute(
                "UPDATE incidents SET resolved_at = ? "
                "WHERE watch_id = ? AND resolved_at IS NULL AND started_at <> ?",
                (incident.started_at, incident.watch_id, incident.started_at),
            )
            row = await s._fetchone(
                "SELECT id FROM incidents WHERE watch_id = ? AND started_at = ?",
                (incident.watch_id, incident.started_at),
            )
            values = (
                incident.alerted_at,
                incident.alerted_failures,
                incident.quiet_since,
                incident.resolved_at,
            )
            if row is not None:
                await s._execute(
                    "UPDATE incidents SET alerted_at = ?, alerted_failures = ?, "
                    "quiet_since = ?, resolved_at = ? WHERE id = ?",
                    (*values, int(row["id"])),
                )
                return int(row["id"])
            return await s._insert(
                "INSERT INTO incidents (alerted_at, alerted_failures, quiet_since, "
                "resolved_at, watch_id, started_at) VALUES (?, ?, ?, ?, ?, ?)",
                (*values, incident.watch_id, incident.started_at),
            )

    async def _watch_row(self, chat_id: int, account_id: int) -> Watch | None:
        row = await self._storage._fetchone(
            f"{_WATCH_COLUMNS} WHERE w.chat_id = ? AND w.account_id = ?", (chat_id, account_id)
        )
        return None if row is None else _watch(row)


def _watch(row: aiosqlite.Row) -> Watch:
    return Watch(
        id=int(row["id"]),
        chat_id=int(row["chat_id"]),
        account_id=int(row["account_id"]),
        account_name=str(row["name"]),
        key_id=str(row["key_id"]),
        percent=int(row["percent"]),
        minutes=int(row["minutes"]),
        set_by=int(row["set_by"]),
        language=str(row["language"]),
        created_at=float(row["created_at"]),
        paused_at=row["paused_at"],
        blind_since=row["blind_since"],
        silenced_until=row["silenced_until"],
    )


def _incident(row: aiosqlite.Row) -> StoredIncident:
    return StoredIncident(
        id=int(row["id"]),
        watch_id=int(row["watch_id"]),
        started_at=float(row["started_at"]),
        alerted_at=row["alerted_at"],
        alerted_failures=int(row["alerted_failures"]),
        quiet_since=row["quiet_since"],
        resolved_at=row["resolved_at"],
    )
