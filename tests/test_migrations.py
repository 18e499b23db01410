"""Schema versions and upgrades (bot/store/migrations.py): a database a user already has keeps
its accounts, members, audit and ledger when a newer bot opens it."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.store import (
    MIGRATIONS,
    AccountExists,
    KeyCipher,
    Storage,
    StorageError,
    fingerprint,
    key_id,
)
from bot.store import migrations as migrations_module

FIXTURES = Path(__file__).parent / "fixtures"
ADMIN = 1000
T0 = 1_790_000_000.0
KEY = "smscApiKeyALPHA-7Hq2Lx9Vb4Nz0Rt6"


@pytest.fixture
def cipher() -> KeyCipher:
    return KeyCipher(Fernet.generate_key())


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


def _user_version(path: Path) -> int:
    with sqlite3.connect(path) as raw:
        (version,) = raw.execute("PRAGMA user_version").fetchone()
    raw.close()
    return int(version)


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    raw.close()
    return {name for (name,) in rows}


# -- a database made by an earlier release -----------------------------------------------------


async def test_a_version_2_database_upgrades_with_every_row_intact(tmp_path: Path) -> None:
    # A copy: the fixture stands for a user's file and is never changed.
    path = tmp_path / "bot.sqlite3"
    shutil.copyfile(FIXTURES / "db_v2.sqlite3", path)
    shutil.copyfile(FIXTURES / "db_v2.sqlite3.key", tmp_path / "bot.sqlite3.key")
    with sqlite3.connect(path) as raw:
        (legacy,) = raw.execute("SELECT version FROM schema_version").fetchone()
    raw.close()
    assert (legacy, _user_version(path)) == (2, 0)

    cipher = KeyCipher.load(None, tmp_path / "bot.sqlite3.key")
    async with await Storage.open(path, cipher) as store:
        accounts = await store.list_accounts()
        members = await store.list_members()
        audit = await store.recent_audit(10)
        ledger_a = await store.upstream_since("a" * 64, 0)
        ledger_b = await store.upstream_since("b" * 64, 0)

    keys = {
        "ops": "fixtureKeyOPS-0002-bbbbbbbbbbbbb",
        "personal-3001": "fixtureKeyPERSONAL-0004-dddddddd",
        "team": "fixtureKeyTEAM-0001-aaaaaaaaaaaa",
    }
    assert [
        (a.id, a.name, a.apikey, a.added_by, a.added_at, a.personal, n) for a, n in accounts
    ] == [
        (2, "ops", keys["ops"], ADMIN, T0 + 1, False, 2),
        (4, "personal-3001", keys["personal-3001"], 3001, T0 + 20, True, 1),
        (1, "team", keys["team"], ADMIN, T0, False, 2),
    ]
    for account, _ in accounts:
        assert account.fingerprint == fingerprint(account.apikey)
        assert account.key_id == key_id(account.apikey)
    assert [(m.user_id, m.account.name, m.granted_by, m.granted_at) for m in members] == [
        (2003, "ops", ADMIN, T0 + 12),
        (3002, "ops", None, T0 + 21),
        (3001, "personal-3001", None, T0 + 20),
        (2001, "team", ADMIN, T0 + 10),
        (2002, "team", ADMIN, T0 + 11),
    ]
    rows = [(e.id, e.at, e.user_id, e.chat_id, e.command, e.argument, e.outcome) for e in audit]
    assert rows == [
        (3, T0 + 32, 3001, 3001, "history", "+79031112233 5", "QuotaExhausted"),
        (2, T0 + 31, 2003, -100500, "status", "42", "NotFound"),
        (1, T0 + 30, 2001, 2001, "last", "+79031112233", "ok"),
    ]  # fmt: skip
    assert (ledger_a, ledger_b) == ([T0 + 40, T0 + 41], [T0 + 42])

    # The version advanced into user_version; the table that held it is gone.
    assert _user_version(path) == len(MIGRATIONS) > 2
    assert "schema_version" not in _tables(path)
    # The deleted account's id stays retired, and the trigger keeps retiring ids.
    async with await Storage.open(path, cipher) as store:
        await store.delete_account("personal-3001")
        added = await store.add_account("new", KEY, added_by=ADMIN, now=T0 + 50)
    assert added.id == 5
    with sqlite3.connect(path) as raw:
        retired = {i for (i,) in raw.execute("SELECT id FROM retired_account_ids")}
    raw.close()
    assert retired == {3, 4}


# -- versions ----------------------------------------------------------------------------------


async def test_open_creates_the_folder_and_a_db_at_the_latest_version(
    db_path: Path, cipher: KeyCipher
) -> None:
    async with await Storage.open(db_path, cipher):
        pass

    assert _user_version(db_path) == len(MIGRATIONS)
    tables = _tables(db_path)
    assert {"accounts", "members", "audit", "quota_ledger", "retired_account_ids"} <= tables
    assert "schema_version" not in tables


async def test_reopening_is_idempotent_and_keeps_data(db_path: Path, cipher: KeyCipher) -> None:
    async with await Storage.open(db_path, cipher) as first:
        await first.add_account("team", KEY, added_by=ADMIN, now=T0)

    # Re-running migration 1 on an existing DB would fail ("table accounts already exists").
    async with await Storage.open(db_path, cipher) as second:
        account = await second.get_account("team")
    async with await Storage.open(db_path, cipher):
        pass

    assert account is not None
    assert account.apikey == KEY
    assert _user_version(db_path) == len(MIGRATIONS)


async def test_a_new_migration_is_applied_once_to_an_existing_db(
    db_path: Path, cipher: KeyCipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with await Storage.open(db_path, cipher) as first:
        await first.add_account("team", KEY, added_by=ADMIN, now=T0)
    extended = [*MIGRATIONS, ["CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"]]
    monkeypatch.setattr(migrations_module, "MIGRATIONS", extended)

    async with await Storage.open(db_path, cipher) as second:
        assert await second.get_account("team") is not None
    async with await Storage.open(db_path, cipher):
        pass  # would fail with "table notes already exists" if applied again

    assert _user_version(db_path) == len(extended)
    assert "notes" in _tables(db_path)


async def test_a_failing_migration_leaves_the_db_at_its_previous_version(
    db_path: Path, cipher: KeyCipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with await Storage.open(db_path, cipher):
        pass
    broken = [*MIGRATIONS, ["CREATE TABLE notes (id INTEGER PRIMARY KEY)", "NOT SQL AT ALL"]]
    monkeypatch.setattr(migrations_module, "MIGRATIONS", broken)

    with pytest.raises(StorageError, match="migration failed"):
        await Storage.open(db_path, cipher)

    assert _user_version(db_path) == len(MIGRATIONS)
    assert "notes" not in _tables(db_path)


async def test_a_db_from_a_newer_version_refuses_to_open_in_one_line(
    db_path: Path, cipher: KeyCipher
) -> None:
    async with await Storage.open(db_path, cipher):
        pass
    future = len(MIGRATIONS) + 5
    with sqlite3.connect(db_path) as raw:
        raw.execute(f"PRAGMA user_version = {future}")
    raw.close()

    with pytest.raises(StorageError) as info:
        await Storage.open(db_path, cipher)

    assert str(info.value) == (
        f"DATABASE_PATH: {db_path}: the database has schema version {future}, but this version "
        f"of the bot knows only up to {len(MIGRATIONS)}: upgrade the bot or use another "
        "DATABASE_PATH"
    )
    assert _user_version(db_path) == future


async def test_a_version_3_database_gets_one_name_per_spelling_and_keeps_every_row(
    tmp_path: Path,
) -> None:
    # Issue 15, item 13: "team" and "TEAM" were two accounts; "Ops" shared the key of "team".
    path = tmp_path / "bot.sqlite3"
    shutil.copyfile(FIXTURES / "db_v3.sqlite3", path)
    shutil.copyfile(FIXTURES / "db_v3.sqlite3.key", tmp_path / "bot.sqlite3.key")
    assert _user_version(path) == 3

    cipher = KeyCipher.load(None, tmp_path / "bot.sqlite3.key")
    async with await Storage.open(path, cipher) as store:
        accounts = await store.list_accounts()
        members = await store.list_members()
        audit = await store.recent_audit(10)
        upper = await store.get_account("TEAM-2")
        with pytest.raises(AccountExists):
            await store.add_account("Team", "fixtureKeyNEW-v4-0000-zzzzzzzzzz", added_by=1, now=0)

    team_key, upper_key = "fixtureKeyTEAM-v3-0001-aaaaaaaaaa", "fixtureKeyUPPER-v3-0002-bbbbbbbbb"
    assert [(a.id, a.name, a.apikey, n) for a, n in accounts] == [
        (3, "ops", team_key, 1),  # lowered; still shares the key it had
        (4, "personal-3001", "fixtureKeyPERSONAL-v3-0003-ccccc", 1),
        (1, "team", team_key, 1),  # the oldest keeps the name
        (2, "team-2", upper_key, 1),  # the other spelling gets its id after it
    ]
    assert upper is not None and upper.id == 2  # found in any case
    assert [(m.user_id, m.account.name) for m in members] == [
        (2003, "ops"), (3001, "personal-3001"), (2001, "team"), (2002, "team-2"),
    ]  # fmt: skip
    assert [(e.command, e.outcome) for e in audit] == [("last", "QuotaExhausted")]
    assert _user_version(path) == len(MIGRATIONS) == 6  # names (4), pushes (5), watches (6)
