"""Watches and incidents in SQLite (bot/store/watches.py): one watch per chat and account, a
second replaces the first, and an open incident survives closing and reopening the database."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.store import KeyCipher, NoSuchAccount, Storage, StoredIncident, WatchStore

T0 = 1_790_000_000.0
GROUP = -100_200
OTHER_CHAT = -100_300
KEY = "smscApiKeyWATCH-7Hq2Lx9Vb4Nz0Rt6"


@pytest.fixture
def cipher() -> KeyCipher:
    return KeyCipher(Fernet.generate_key())


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.sqlite3"


@pytest.fixture
async def store(db_path: Path, cipher: KeyCipher) -> AsyncIterator[Storage]:
    async with await Storage.open(db_path, cipher) as opened:
        await opened.add_account("team", KEY, added_by=1, now=T0)
        yield opened


async def test_a_watch_is_stored_with_who_set_it_and_their_language(store: Storage) -> None:
    watches = WatchStore(store)
    watch, replaced = await watches.set_watch(
        GROUP, "team", percent=20, minutes=15, set_by=7, language="ru", now=T0
    )
    assert replaced is None
    assert (watch.chat_id, watch.account_name, watch.percent, watch.minutes) == (
        GROUP,
        "team",
        20,
        15,
    )
    assert (watch.set_by, watch.language, watch.created_at) == (7, "ru", T0)
    assert (watch.paused_at, watch.blind_since, watch.silenced_until) == (None, None, None)
    assert await watches.watches_of_chat(GROUP) == [watch]
    assert await watches.watches_of_chat(OTHER_CHAT) == []
    assert await watches.get_watch(watch.id) == watch


async def test_a_second_watch_of_the_same_account_in_a_chat_replaces_the_first(
    store: Storage,
) -> None:
    watches = WatchStore(store)
    first, _ = await watches.set_watch(
        GROUP, "team", percent=20, minutes=15, set_by=7, language="en", now=T0
    )
    await watches.save_incident(
        StoredIncident(first.id, started_at=T0 + 60, alerted_at=T0 + 60, alerted_failures=6,
                       quiet_since=None)
    )  # fmt: skip
    second, replaced = await watches.set_watch(
        GROUP, "TEAM", percent=50, minutes=5, set_by=8, language="ru", now=T0 + 100
    )
    assert replaced == first
    assert second.id == first.id  # the same watch, its incident kept
    assert (second.percent, second.minutes, second.set_by, second.language) == (50, 5, 8, "ru")
    assert second.created_at == T0
    assert len(await watches.all_watches()) == 1
    incident = await watches.open_incident(second.id)
    assert incident is not None and incident.alerted_failures == 6
    # Another chat watching the same account is another watch.
    other, replaced_there = await watches.set_watch(
        OTHER_CHAT, "team", percent=20, minutes=15, set_by=7, language="en", now=T0
    )
    assert replaced_there is None and other.id != first.id


async def test_unwatch_removes_the_watch_and_its_incidents(store: Storage) -> None:
    watches = WatchStore(store)
    watch, _ = await watches.set_watch(
        GROUP, "team", percent=20, minutes=15, set_by=7, language="en", now=T0
    )
    await watches.save_incident(StoredIncident(watch.id, T0, T0, 5, None))
    assert await watches.unwatch(GROUP, "team") is True
    assert await watches.unwatch(GROUP, "team") is False
    assert await watches.watches_of_chat(GROUP) == []
    assert await watches.open_incident(watch.id) is None


async def test_a_watch_of_an_unknown_account_is_refused(store: Storage) -> None:
    with pytest.raises(NoSuchAccount):
        await WatchStore(store).set_watch(
            GROUP, "nope", percent=20, minutes=15, set_by=7, language="en", now=T0
        )


async def test_a_watch_goes_with_its_account(store: Storage) -> None:
    watches = WatchStore(store)
    await watches.set_watch(GROUP, "team", percent=20, minutes=15, set_by=7, language="en", now=T0)
    await store.delete_account("team")
    assert await watches.all_watches() == []


async def test_the_ranges_are_checked_by_the_database_too(store: Storage, db_path: Path) -> None:
    await WatchStore(store).set_watch(
        GROUP, "team", percent=20, minutes=15, set_by=7, language="en", now=T0
    )
    with sqlite3.connect(db_path) as raw:
        with pytest.raises(sqlite3.IntegrityError):
            raw.execute("UPDATE watches SET percent = 101")
        with pytest.raises(sqlite3.IntegrityError):
            raw.execute("UPDATE watches SET minutes = 0")
    raw.close()


async def test_an_open_incident_and_the_marks_survive_a_restart(
    db_path: Path, cipher: KeyCipher
) -> None:
    async with await Storage.open(db_path, cipher) as first:
        await first.add_account("team", KEY, added_by=1, now=T0)
        watches = WatchStore(first)
        watch, _ = await watches.set_watch(
            GROUP, "team", percent=20, minutes=15, set_by=7, language="en", now=T0
        )
        incident_id = await watches.save_incident(
            StoredIncident(watch.id, T0 + 60, alerted_at=T0 + 61, alerted_failures=9,
                           quiet_since=T0 + 300)
        )  # fmt: skip
        await watches.mark(watch.id, blind_since=T0 + 400, silenced_until=T0 + 4000)

    async with await Storage.open(db_path, cipher) as second:
        watches = WatchStore(second)
        (back,) = await watches.all_watches()
        incident = await watches.open_incident(back.id)
        assert (back.blind_since, back.silenced_until) == (T0 + 400, T0 + 4000)
        assert incident == StoredIncident(
            back.id, T0 + 60, T0 + 61, 9, T0 + 300, resolved_at=None, id=incident_id
        )
        # Saving it again (the same start) updates the one row; resolving closes it.
        again = await watches.save_incident(
            StoredIncident(back.id, T0 + 60, T0 + 61, 9, T0 + 300, resolved_at=T0 + 1300)
        )
        assert again == incident_id
        assert await watches.open_incident(back.id) is None


async def test_a_new_incident_closes_one_left_open(store: Storage) -> None:
    watches = WatchStore(store)
    watch, _ = await watches.set_watch(
        GROUP, "team", percent=20, minutes=15, set_by=7, language="en", now=T0
    )
    await watches.save_incident(StoredIncident(watch.id, T0, T0, 5, None))
    newer = await watches.save_incident(StoredIncident(watch.id, T0 + 900, T0 + 900, 7, None))
    incident = await watches.open_incident(watch.id)
    assert incident is not None and (incident.id, incident.started_at) == (newer, T0 + 900)


async def test_a_group_upgraded_to_a_supergroup_keeps_its_watches(store: Storage) -> None:
    watches = WatchStore(store)
    watch, _ = await watches.set_watch(
        GROUP, "team", percent=20, minutes=15, set_by=7, language="en", now=T0
    )
    await watches.save_incident(StoredIncident(watch.id, T0, T0, 5, None))
    supergroup = -1_000_000_000_000 + GROUP
    assert await watches.move_chat(GROUP, supergroup) == 1
    assert await watches.watches_of_chat(GROUP) == []
    (moved,) = await watches.watches_of_chat(supergroup)
    assert moved.id == watch.id and await watches.open_incident(moved.id) is not None


async def test_a_move_onto_a_chat_with_the_same_watch_keeps_the_new_chats(store: Storage) -> None:
    watches = WatchStore(store)
    await watches.set_watch(GROUP, "team", percent=20, minutes=15, set_by=7, language="en", now=T0)
    kept, _ = await watches.set_watch(
        OTHER_CHAT, "team", percent=50, minutes=5, set_by=8, language="en", now=T0
    )
    assert await watches.move_chat(GROUP, OTHER_CHAT) == 0
    assert await watches.all_watches() == [kept]


async def test_a_chat_the_bot_left_pauses_its_watches_once(store: Storage) -> None:
    watches = WatchStore(store)
    await watches.set_watch(GROUP, "team", percent=20, minutes=15, set_by=7, language="en", now=T0)
    (paused,) = await watches.pause_chat(GROUP, now=T0 + 5)
    assert paused.set_by == 7
    assert await watches.pause_chat(GROUP, now=T0 + 9) == []  # told once
    (watch,) = await watches.all_watches()
    assert watch.paused_at == T0 + 5
    assert await watches.resume_chat(GROUP) == 1
    (watch,) = await watches.all_watches()
    assert watch.paused_at is None
