"""Storage on real SQLite files (bot/store/database.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.store import (
    Account,
    AccountExists,
    KeyCipher,
    KeyInUse,
    NoSuchAccount,
    Storage,
    StorageError,
    fingerprint,
    key_id,
)
from tests.fakes.sqlite import FailingConnection, open_failing

KEY_A = "smscApiKeyALPHA-7Hq2Lx9Vb4Nz0Rt6"
KEY_B = "smscApiKeyBRAVO-3Pd8Yw1Ck5Fj2Ms9"
KEY_C = "smscApiKeyCHARLIE-6Gt4Ua0Qe7Zi3Xo"
ALL_KEYS = (KEY_A, KEY_B, KEY_C)

ADMIN = 1000
T0 = 1_790_000_000.0


@pytest.fixture
def cipher() -> KeyCipher:
    return KeyCipher(Fernet.generate_key())


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
async def store(db_path: Path, cipher: KeyCipher) -> AsyncIterator[Storage]:
    async with await Storage.open(db_path, cipher) as opened:
        yield opened


@pytest.fixture
async def failing(
    tmp_path: Path, cipher: KeyCipher
) -> AsyncIterator[tuple[Storage, FailingConnection]]:
    wrapped, wrapper = await open_failing(tmp_path / "failing.sqlite3", cipher)
    yield wrapped, wrapper
    await wrapped.close()


# -- opening ------------------------------------------------------------------------------------


async def test_database_uses_wal_journal(store: Storage, db_path: Path) -> None:
    with sqlite3.connect(db_path) as raw:
        (mode,) = raw.execute("PRAGMA journal_mode").fetchone()
    raw.close()

    assert mode == "wal"


async def test_open_reports_an_unusable_path_as_one_line_naming_database_path(
    tmp_path: Path, cipher: KeyCipher
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")

    for path in (blocker / "bot.sqlite3", blocker / "deeper" / "bot.sqlite3"):
        with pytest.raises(StorageError, match=r"^DATABASE_PATH: cannot create or open") as info:
            await Storage.open(path, cipher)
        assert "\n" not in str(info.value) and str(blocker) in str(info.value)


@pytest.fixture
def text_file(db_path: Path) -> Path:
    db_path.parent.mkdir()
    db_path.write_text("a text file, not SQLite\n" * 100)
    return db_path


async def test_a_file_that_is_not_a_database_is_one_line_naming_database_path(
    text_file: Path, cipher: KeyCipher
) -> None:
    with pytest.raises(StorageError, match=r"^DATABASE_PATH: .*not a database") as info:
        await Storage.open(text_file, cipher)
    assert "\n" not in str(info.value)


async def test_a_briefly_locked_db_is_waited_for(store: Storage, db_path: Path) -> None:
    raw = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    raw.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        write = asyncio.create_task(
            store.audit(at=T0, user_id=1, chat_id=1, command="last", argument="x", outcome="ok")
        )
        await asyncio.sleep(0.2)
        raw.execute("COMMIT")
        await write  # without busy_timeout: "database is locked"
    finally:
        raw.close()

    assert len(await store.recent_audit(10)) == 1


# -- keys at rest ------------------------------------------------------------------------------


def _bytes_of_every_file(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


async def test_api_keys_are_never_stored_in_plain_text(db_path: Path, cipher: KeyCipher) -> None:
    marker = "AUDIT-MARKER-visible-in-raw-bytes"
    storage = await Storage.open(db_path, cipher)
    try:
        await storage.add_account("team", KEY_A, added_by=ADMIN, now=T0)
        await storage.login(7, KEY_B, now=T0)
        await storage.login(8, KEY_A, now=T0)
        await storage.grant(9, "team", granted_by=ADMIN, now=T0)
        await storage.login(10, KEY_C, now=T0)
        await storage.revoke(10)  # deleted rows may linger in free pages: still no plain key
        await storage.audit(
            at=T0, user_id=7, chat_id=7, command="last", argument=marker, outcome="ok"
        )

        while_open = _bytes_of_every_file(db_path.parent)
    finally:
        await storage.close()
    after_close = _bytes_of_every_file(db_path.parent)

    # The scan sees the written data: the WAL while open, the main file after the checkpoint.
    assert any(name.endswith("-wal") for name in while_open)
    assert any(marker.encode() in content for content in while_open.values())
    assert marker.encode() in after_close[db_path.name]
    for files in (while_open, after_close):
        for name, content in files.items():
            for apikey in ALL_KEYS:
                assert apikey.encode() not in content, f"{apikey[:10]}… in {name}"


async def test_keys_decrypt_only_with_the_same_encryption_key(db_path: Path) -> None:
    async with await Storage.open(db_path, KeyCipher(Fernet.generate_key())) as first:
        await first.add_account("team", KEY_A, added_by=ADMIN, now=T0)

    async with await Storage.open(db_path, KeyCipher(Fernet.generate_key())) as second:
        with pytest.raises(StorageError, match=r"'team' does not decrypt.*ENCRYPTION_KEY") as info:
            await second.get_account("team")

    assert KEY_A not in str(info.value)


async def test_repr_of_account_and_member_hides_the_key(store: Storage) -> None:
    await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)
    member = await store.grant(5, "team", granted_by=ADMIN, now=T0)

    for text in (repr(member.account), str(member.account), repr(member)):
        assert KEY_A not in text
        assert fingerprint(KEY_A) in text


# -- accounts ----------------------------------------------------------------------------------


async def test_add_and_get_account(store: Storage) -> None:
    added = await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)

    got = await store.get_account("team")

    assert got == added
    assert got == Account(
        id=added.id,
        name="team",
        fingerprint=fingerprint(KEY_A),
        key_id=key_id(KEY_A),
        added_by=ADMIN,
        added_at=T0,
        personal=False,
        apikey=KEY_A,
    )
    assert await store.get_account("other") is None


async def test_duplicate_account_name_is_refused_and_keeps_the_first_key(store: Storage) -> None:
    await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)

    with pytest.raises(AccountExists, match="team") as info:
        await store.add_account("team", KEY_B, added_by=ADMIN, now=T0 + 1)

    assert KEY_B not in str(info.value)
    account = await store.get_account("team")
    assert account is not None
    assert account.apikey == KEY_A
    assert len(await store.list_accounts()) == 1


async def test_one_key_is_refused_under_a_second_name_naming_the_first(store: Storage) -> None:
    # Issue 15, item 13: compared by key_id (a hash), so nothing is decrypted to find it.
    await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)

    with pytest.raises(KeyInUse) as info:
        await store.add_account("team-alias", KEY_A, added_by=ADMIN, now=T0)

    assert info.value.name == "team" and KEY_A not in str(info.value)
    assert await store.get_account("team-alias") is None
    assert await store.account_holding(key_id(KEY_A)) == "team"
    assert await store.account_holding(key_id(KEY_B)) is None


async def test_names_are_one_name_in_any_letter_case(store: Storage) -> None:
    added = await store.add_account("Team", KEY_A, added_by=ADMIN, now=T0)
    assert added.name == "team"
    with pytest.raises(AccountExists):
        await store.add_account("TEAM", KEY_B, added_by=ADMIN, now=T0)
    found = await store.get_account("tEaM")
    assert found is not None and found.name == "team"
    await store.grant(7, "TEAM", granted_by=ADMIN, now=T0)
    assert await store.delete_account("Team") == 1


async def test_list_accounts_by_name_with_member_counts(store: Storage) -> None:
    await store.add_account("zeta", KEY_A, added_by=ADMIN, now=T0)
    await store.add_account("alpha", KEY_B, added_by=ADMIN, now=T0)
    await store.add_account("mid", KEY_C, added_by=ADMIN, now=T0)
    await store.grant(1, "zeta", granted_by=ADMIN, now=T0)
    await store.grant(2, "zeta", granted_by=ADMIN, now=T0)
    await store.grant(3, "alpha", granted_by=ADMIN, now=T0)

    listed = [(account.name, count) for account, count in await store.list_accounts()]

    assert listed == [("alpha", 1), ("mid", 0), ("zeta", 2)]


async def test_delete_account_removes_its_members_and_counts_them(store: Storage) -> None:
    await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)
    await store.add_account("other", KEY_B, added_by=ADMIN, now=T0)
    await store.grant(1, "team", granted_by=ADMIN, now=T0)
    await store.grant(2, "team", granted_by=ADMIN, now=T0)
    await store.grant(3, "other", granted_by=ADMIN, now=T0)

    lost = await store.delete_account("team")

    assert lost == 2
    assert await store.get_account("team") is None
    assert await store.get_member(1) is None
    assert await store.get_member(2) is None
    assert [m.user_id for m in await store.list_members()] == [3]
    assert await store.delete_account("team") is None
    assert await store.delete_account("other") == 1


async def test_delete_account_without_members_returns_zero(store: Storage) -> None:
    await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)

    assert await store.delete_account("team") == 0
    assert await store.list_accounts() == []


# -- members -----------------------------------------------------------------------------------


async def test_grant_maps_a_user(store: Storage) -> None:
    account = await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)

    member = await store.grant(5, "team", granted_by=ADMIN, now=T0 + 10)

    assert member.user_id == 5
    assert member.account == account
    assert member.granted_by == ADMIN
    assert member.granted_at == T0 + 10
    assert await store.get_member(5) == member
    assert await store.get_member(6) is None


async def test_grant_to_an_unknown_account_is_refused(store: Storage) -> None:
    with pytest.raises(NoSuchAccount, match="nope"):
        await store.grant(5, "nope", granted_by=ADMIN, now=T0)

    assert await store.get_member(5) is None


async def test_grant_replaces_the_previous_mapping(store: Storage) -> None:
    await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)
    await store.add_account("other", KEY_B, added_by=ADMIN, now=T0)
    await store.grant(5, "team", granted_by=ADMIN, now=T0)

    await store.grant(5, "other", granted_by=ADMIN + 1, now=T0 + 60)

    members = await store.list_members()
    assert len(members) == 1
    assert members[0].account.name == "other"
    assert members[0].granted_by == ADMIN + 1
    assert members[0].granted_at == T0 + 60
    assert [(a.name, n) for a, n in await store.list_accounts()] == [("other", 1), ("team", 0)]


async def test_list_members_by_account_then_user(store: Storage) -> None:
    await store.add_account("b-team", KEY_A, added_by=ADMIN, now=T0)
    await store.add_account("a-team", KEY_B, added_by=ADMIN, now=T0)
    await store.grant(30, "b-team", granted_by=ADMIN, now=T0)
    await store.grant(20, "a-team", granted_by=ADMIN, now=T0)
    await store.grant(10, "b-team", granted_by=ADMIN, now=T0)

    listed = [(m.account.name, m.user_id) for m in await store.list_members()]

    assert listed == [("a-team", 20), ("b-team", 10), ("b-team", 30)]


async def test_login_joins_the_account_with_the_same_key(store: Storage) -> None:
    team = await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)

    member = await store.login(5, KEY_A, now=T0 + 1)

    assert member.account == team
    assert member.granted_by is None
    assert member.granted_at == T0 + 1
    assert len(await store.list_accounts()) == 1


async def test_login_with_a_new_key_creates_a_personal_account(store: Storage) -> None:
    member = await store.login(5, KEY_B, now=T0)

    account = member.account
    assert account.name == "personal-5"
    assert account.personal is True
    assert account.apikey == KEY_B
    assert account.added_by == 5
    assert account.fingerprint == fingerprint(KEY_B)
    assert member.granted_by is None
    assert await store.get_account("personal-5") == account
    assert await store.get_member(5) == member


async def test_a_key_someone_logged_in_with_is_refused_under_a_name(store: Storage) -> None:
    await store.login(1, KEY_A, now=T0)  # personal-1 holds KEY_A

    with pytest.raises(KeyInUse, match="personal-1"):
        await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)


async def test_login_prefers_the_current_then_a_shared_account(
    store: Storage, db_path: Path, cipher: KeyCipher
) -> None:
    # Accounts that shared one key before one key had to be one account (a version-3 file).
    own = (await store.login(1, KEY_A, now=T0)).account  # personal-1 holds KEY_A
    with sqlite3.connect(db_path) as raw:
        raw.execute(
            "INSERT INTO accounts (id, name, apikey_token, fingerprint, key_id, added_by, "
            "added_at, personal) VALUES (9, 'team', ?, ?, ?, ?, ?, 0)",
            (cipher.encrypt(KEY_A), fingerprint(KEY_A), key_id(KEY_A), ADMIN, T0),
        )
    raw.close()
    team = await store.get_account("team")

    assert (await store.login(2, KEY_A, now=T0)).account == team  # shared beats personal
    assert (await store.login(1, KEY_A, now=T0)).account == own  # stays where they are


async def test_revoke_removes_a_personal_account_with_its_key(store: Storage) -> None:
    await store.login(5, KEY_B, now=T0)

    assert await store.revoke(5) is True

    assert await store.get_member(5) is None
    assert await store.get_account("personal-5") is None
    assert await store.list_accounts() == []
    assert await store.revoke(5) is False


async def test_revoke_keeps_a_shared_account(store: Storage) -> None:
    await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)
    await store.grant(5, "team", granted_by=ADMIN, now=T0)

    assert await store.revoke(5) is True

    assert await store.get_account("team") is not None


async def test_personal_account_lives_while_someone_uses_it(store: Storage) -> None:
    await store.login(1, KEY_A, now=T0)
    joined = await store.login(2, KEY_A, now=T0)
    assert joined.account.name == "personal-1"

    await store.revoke(1)
    assert await store.get_account("personal-1") is not None

    await store.revoke(2)
    assert await store.get_account("personal-1") is None


async def test_login_with_another_key_replaces_the_personal_account(store: Storage) -> None:
    await store.login(5, KEY_A, now=T0)

    member = await store.login(5, KEY_B, now=T0 + 1)

    assert member.account.name == "personal-5"
    assert member.account.apikey == KEY_B
    accounts = await store.list_accounts()
    assert [(a.name, a.key_id, n) for a, n in accounts] == [("personal-5", key_id(KEY_B), 1)]


async def test_login_with_another_key_while_the_old_one_is_shared(store: Storage) -> None:
    await store.login(1, KEY_A, now=T0)
    await store.login(2, KEY_A, now=T0)  # joins personal-1

    member = await store.login(1, KEY_B, now=T0)

    assert member.account.name == "personal-1-2"
    assert member.account.apikey == KEY_B
    stay = await store.get_member(2)
    assert stay is not None
    assert stay.account.name == "personal-1"
    assert stay.account.apikey == KEY_A


async def test_grant_away_from_a_personal_account_deletes_it(store: Storage) -> None:
    await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)
    await store.login(5, KEY_B, now=T0)

    await store.grant(5, "team", granted_by=ADMIN, now=T0)

    assert await store.get_account("personal-5") is None


async def test_login_moving_to_a_shared_account_deletes_the_personal_one(store: Storage) -> None:
    await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)
    await store.login(5, KEY_B, now=T0)

    member = await store.login(5, KEY_A, now=T0)

    assert member.account.name == "team"
    assert await store.get_account("personal-5") is None


# -- audit -------------------------------------------------------------------------------------


async def test_recent_audit_is_newest_first_and_limited(store: Storage) -> None:
    for i, at in enumerate([T0, T0 + 5, T0 + 5, T0 + 9, T0 + 2]):
        await store.audit(
            at=at, user_id=i, chat_id=-100, command="last", argument=f"+7999{i}", outcome="ok"
        )

    newest = await store.recent_audit(3)

    # Same time: the one written later counts as newer.
    assert [(e.at, e.user_id) for e in newest] == [(T0 + 9, 3), (T0 + 5, 2), (T0 + 5, 1)]
    assert newest[0].chat_id == -100
    assert newest[0].command == "last"
    assert newest[0].argument == "+79993"
    assert newest[0].outcome == "ok"
    assert len(await store.recent_audit(100)) == 5
    assert await store.recent_audit(0) == []


async def test_audit_survives_reopening(db_path: Path, cipher: KeyCipher) -> None:
    async with await Storage.open(db_path, cipher) as first:
        await first.audit(at=T0, user_id=1, chat_id=2, command="c", argument="a", outcome="o")

    async with await Storage.open(db_path, cipher) as second:
        entries = await second.recent_audit(5)

    assert [(e.user_id, e.chat_id, e.command) for e in entries] == [(1, 2, "c")]


# -- quota ledger ------------------------------------------------------------------------------


async def test_ledger_filters_by_account_and_time(store: Storage) -> None:
    kid_a, kid_b = key_id(KEY_A), key_id(KEY_B)
    for at in (T0 + 30, T0, T0 + 10):
        await store.record_upstream(kid_a, at)
    await store.record_upstream(kid_b, T0 + 20)

    assert await store.upstream_since(kid_a, T0) == [T0, T0 + 10, T0 + 30]
    assert await store.upstream_since(kid_a, T0 + 10) == [T0 + 10, T0 + 30]  # inclusive
    assert await store.upstream_since(kid_b, T0) == [T0 + 20]
    assert await store.upstream_since(key_id(KEY_C), T0) == []


async def test_ledger_survives_a_restart(db_path: Path, cipher: KeyCipher) -> None:
    kid = key_id(KEY_A)
    async with await Storage.open(db_path, cipher) as first:
        await first.record_upstream(kid, T0)
        await first.record_upstream(kid, T0 + 1)

    async with await Storage.open(db_path, cipher) as second:
        assert await second.upstream_since(kid, T0 - 3600) == [T0, T0 + 1]


async def test_prune_ledger_drops_only_older_entries(store: Storage) -> None:
    kid_a, kid_b = key_id(KEY_A), key_id(KEY_B)
    await store.record_upstream(kid_a, T0)
    await store.record_upstream(kid_b, T0 + 1)
    await store.record_upstream(kid_a, T0 + 3600)

    assert await store.prune_ledger(T0 + 1) == 1
    assert await store.prune_ledger(T0 + 1) == 0

    assert await store.upstream_since(kid_a, 0) == [T0 + 3600]
    assert await store.upstream_since(kid_b, 0) == [T0 + 1]


# -- transactions ------------------------------------------------------------------------------


async def test_failed_delete_account_leaves_account_and_members(
    failing: tuple[Storage, FailingConnection],
) -> None:
    store, conn = failing
    await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)
    await store.grant(1, "team", granted_by=ADMIN, now=T0)
    await store.grant(2, "team", granted_by=ADMIN, now=T0)
    conn.fail_on = "DELETE FROM accounts"  # after the members' rows are already deleted

    with pytest.raises(StorageError, match="disk is full"):
        await store.delete_account("team")

    assert conn.failures == 1
    conn.fail_on = None
    assert [(a.name, n) for a, n in await store.list_accounts()] == [("team", 2)]


async def test_failed_login_leaves_no_personal_account(
    failing: tuple[Storage, FailingConnection],
) -> None:
    store, conn = failing
    conn.fail_on = "INSERT INTO members"  # after the personal account is inserted

    with pytest.raises(StorageError) as info:
        await store.login(5, KEY_B, now=T0)

    assert KEY_B not in str(info.value)
    assert conn.failures == 1
    conn.fail_on = None
    assert await store.list_accounts() == []
    assert await store.get_member(5) is None


async def test_failed_relogin_keeps_the_old_personal_account(
    failing: tuple[Storage, FailingConnection],
) -> None:
    store, conn = failing
    await store.login(5, KEY_A, now=T0)
    conn.fail_on = "INSERT INTO accounts"  # after the old account is already deleted

    with pytest.raises(StorageError):
        await store.login(5, KEY_B, now=T0 + 1)

    assert conn.failures == 1
    conn.fail_on = None
    member = await store.get_member(5)
    assert member is not None
    assert member.account.apikey == KEY_A
    assert len(await store.list_accounts()) == 1


async def test_failed_commit_rolls_back_and_storage_stays_usable(
    failing: tuple[Storage, FailingConnection],
) -> None:
    store, conn = failing
    conn.fail_on = "COMMIT"

    with pytest.raises(StorageError):
        await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)

    conn.fail_on = None
    assert await store.get_account("team") is None
    # No transaction is left open: the next one begins and commits normally.
    await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)
    assert await store.get_account("team") is not None


async def test_refused_add_inside_a_transaction_leaves_nothing_open(store: Storage) -> None:
    await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)
    with pytest.raises(AccountExists):
        await store.add_account("team", KEY_B, added_by=ADMIN, now=T0)

    # The refused transaction was rolled back: a new one can begin and commit.
    await store.add_account("other", KEY_B, added_by=ADMIN, now=T0)
    assert [a.name for a, _ in await store.list_accounts()] == ["other", "team"]


async def test_concurrent_changes_do_not_interleave(store: Storage) -> None:
    await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)

    await asyncio.gather(
        *(store.login(user, KEY_B if user % 2 else KEY_C, now=T0) for user in range(20)),
        *(store.grant(100 + user, "team", granted_by=ADMIN, now=T0) for user in range(20)),
        *(store.record_upstream(key_id(KEY_A), T0 + i) for i in range(20)),
    )

    counts = {a.name: n for a, n in await store.list_accounts()}
    assert counts == {"team": 20, "personal-0": 10, "personal-1": 10}
    assert len(await store.upstream_since(key_id(KEY_A), T0)) == 20


async def test_a_new_database_and_its_wal_files_are_readable_by_the_owner_only(
    db_path: Path, cipher: KeyCipher
) -> None:
    async with await Storage.open(db_path, cipher) as opened:
        await opened.add_account("team", KEY_A, added_by=ADMIN, now=T0)
        files = [db_path, db_path.with_name(db_path.name + "-wal")]
        assert all(path.exists() for path in files)
        assert {oct(path.stat().st_mode & 0o777) for path in files} == {"0o600"}
    assert oct(db_path.parent.stat().st_mode & 0o777) == "0o700"


async def test_an_account_id_is_never_reused_after_deletion(store: Storage) -> None:
    first = await store.add_account("first", KEY_A, added_by=ADMIN, now=T0)
    newest = await store.add_account("newest", KEY_B, added_by=ADMIN, now=T0)
    await store.delete_account("newest")
    again = await store.add_account("again", KEY_C, added_by=ADMIN, now=T0)
    personal = await store.login(5, KEY_B, now=T0)  # a personal account, then dropped
    await store.revoke(5)
    after = await store.add_account("after", KEY_B, added_by=ADMIN, now=T0)
    ids = [first.id, newest.id, again.id, personal.account.id, after.id]
    assert ids == sorted(set(ids))  # strictly increasing: no id handed out twice


# -- /rekey (issue 15, item 13) ---------------------------------------------------------------


async def test_rekey_keeps_the_account_its_members_and_the_hours_ledger(store: Storage) -> None:
    team = await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)
    await store.grant(7, "team", granted_by=ADMIN, now=T0)
    await store.grant(8, "team", granted_by=ADMIN, now=T0)
    await store.record_upstream(team.key_id, T0 - 4000)  # older than the hour: not carried
    await store.record_upstream(team.key_id, T0 - 100)
    await store.record_upstream(team.key_id, T0 - 50)

    rekeyed = await store.rekey("TEAM", KEY_B, now=T0)

    assert rekeyed.account.id == team.id and rekeyed.account.name == "team"
    assert rekeyed.account.apikey == KEY_B and rekeyed.account.key_id == key_id(KEY_B)
    assert rekeyed.account.fingerprint == fingerprint(KEY_B)
    assert (rekeyed.old_fingerprint, rekeyed.old_key_id) == (team.fingerprint, team.key_id)
    assert rekeyed.members == 2 and rekeyed.old_key_kept is False
    stored = await store.get_account("team")
    assert stored == rekeyed.account
    member = await store.get_member(7)
    assert member is not None and member.account == rekeyed.account
    assert await store.upstream_since(key_id(KEY_B), T0 - 3600) == [T0 - 100, T0 - 50]
    assert await store.account_holding(key_id(KEY_A)) is None


async def test_rekey_refuses_a_key_another_account_has_and_an_unknown_name(
    store: Storage,
) -> None:
    await store.add_account("team", KEY_A, added_by=ADMIN, now=T0)
    await store.add_account("ops", KEY_B, added_by=ADMIN, now=T0)

    with pytest.raises(KeyInUse, match="ops"):
        await store.rekey("team", KEY_B, now=T0)
    with pytest.raises(NoSuchAccount):
        await store.rekey("nope", KEY_C, now=T0)

    team = await store.get_account("team")
    assert team is not None and team.apikey == KEY_A  # nothing changed
