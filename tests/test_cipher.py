"""KeyCipher, the key file, fingerprints and key ids (bot/store/cipher.py)."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.store import CipherError, KeyCipher, fingerprint, insecure_permissions, key_id

APIKEY = "smscApiKey-7Hq2Lx9Vb4Nz0Rt6Yw3Pd8"

# Keys of different shapes: letters, digits, hex-like (the hardest case for "no substring").
SAMPLE_KEYS = [
    APIKEY,
    "0123456789abcdef0123456789abcdef",
    "deadbeefcafebabe1234567890abcdef",
    "a" * 40,
    "ключ-с-кириллицей-2024",
]


def _substrings(text: str, length: int) -> set[str]:
    return {text[i : i + length] for i in range(len(text) - length + 1)}


# -- the key file ------------------------------------------------------------------------------


def test_key_file_is_created_with_mode_0600_in_new_folders(tmp_path: Path) -> None:
    key_file = tmp_path / "data" / "nested" / "bot.key"

    cipher = KeyCipher.load(None, key_file)

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    stored = key_file.read_bytes().strip()
    assert Fernet(stored).decrypt(cipher.encrypt(APIKEY)) == APIKEY.encode()
    # Only the key file: no temporary file is left beside it.
    assert [p.name for p in key_file.parent.iterdir()] == ["bot.key"]


def test_key_file_is_reused_on_the_second_load(tmp_path: Path) -> None:
    key_file = tmp_path / "bot.key"
    first = KeyCipher.load(None, key_file)
    content = key_file.read_bytes()

    second = KeyCipher.load(None, key_file)

    assert key_file.read_bytes() == content
    assert second.decrypt(first.encrypt(APIKEY)) == APIKEY


def test_key_file_created_concurrently_by_another_start_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "bot.key"
    winner = Fernet.generate_key()
    real_link = os.link

    def racing_link(src: os.PathLike[str], dst: os.PathLike[str]) -> None:
        # Another process creates the file between our read and our link.
        Path(dst).write_bytes(winner)
        real_link(src, dst)  # raises FileExistsError, as the real race would

    monkeypatch.setattr(os, "link", racing_link)

    cipher = KeyCipher.load(None, key_file)

    assert Fernet(winner).decrypt(cipher.encrypt(APIKEY)) == APIKEY.encode()
    assert key_file.read_bytes() == winner
    assert [p.name for p in tmp_path.iterdir()] == ["bot.key"]


def test_corrupt_key_file_is_refused_without_showing_its_content(tmp_path: Path) -> None:
    key_file = tmp_path / "bot.key"
    key_file.write_text("garbage-content-xyz\n")

    with pytest.raises(
        CipherError, match=r"^DATABASE_PATH: .* does not hold a valid Fernet key"
    ) as info:
        KeyCipher.load(None, key_file)

    assert "garbage" not in str(info.value)


def test_unreadable_key_file_raises_cipher_error(tmp_path: Path) -> None:
    key_file = tmp_path / "bot.key"
    key_file.mkdir()  # reading a directory fails even for root, unlike chmod 000

    with pytest.raises(CipherError, match=r"^DATABASE_PATH: cannot read the key file"):
        KeyCipher.load(None, key_file)


def test_a_key_file_under_a_file_is_one_line_naming_database_path(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")

    with pytest.raises(
        CipherError, match=r"^DATABASE_PATH: cannot read the key file .*: Not a directory$"
    ) as info:
        KeyCipher.load(None, blocker / "data" / "bot.sqlite3.key")

    assert "\n" not in str(info.value) and str(blocker) in str(info.value)


# -- ENCRYPTION_KEY ----------------------------------------------------------------------------


def test_encryption_key_is_used_when_given_and_no_key_file_is_made(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    key_file = tmp_path / "bot.key"

    cipher = KeyCipher.load(key.decode(), key_file)

    assert Fernet(key).decrypt(cipher.encrypt(APIKEY)) == APIKEY.encode()
    assert not key_file.exists()


def test_blank_encryption_key_falls_back_to_the_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "bot.key"

    KeyCipher.load("  ", key_file)

    assert key_file.exists()


@pytest.mark.parametrize(
    "bad_key",
    [
        "not-a-fernet-key",
        Fernet.generate_key().decode()[:-4],  # truncated
        "x" * 44,  # right length, not 32 bytes of base64
        "ключ" * 11,  # not ASCII
    ],
)
def test_invalid_encryption_key_raises_without_echoing_it(tmp_path: Path, bad_key: str) -> None:
    with pytest.raises(CipherError, match="ENCRYPTION_KEY is not a valid Fernet key") as info:
        KeyCipher.load(bad_key, tmp_path / "bot.key")

    assert bad_key not in str(info.value)
    # Nothing chained either: a traceback must not print the key through a nested error.
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
    assert not (tmp_path / "bot.key").exists()


# -- encrypt / decrypt -------------------------------------------------------------------------


@pytest.mark.parametrize("apikey", SAMPLE_KEYS)
def test_encrypt_decrypt_round_trip_and_token_hides_the_key(apikey: str) -> None:
    cipher = KeyCipher(Fernet.generate_key())

    token = cipher.encrypt(apikey)

    assert apikey.encode() not in token
    assert cipher.decrypt(token) == apikey


def test_decrypt_with_another_key_raises_cipher_error() -> None:
    token = KeyCipher(Fernet.generate_key()).encrypt(APIKEY)

    with pytest.raises(CipherError, match="does not decrypt") as info:
        KeyCipher(Fernet.generate_key()).decrypt(token)

    assert APIKEY not in str(info.value)
    assert token.decode() not in str(info.value)


def test_decrypt_of_a_tampered_token_raises_cipher_error() -> None:
    cipher = KeyCipher(Fernet.generate_key())
    token = bytearray(cipher.encrypt(APIKEY))
    token[-5] = ord("A") if token[-5] != ord("A") else ord("B")

    with pytest.raises(CipherError):
        cipher.decrypt(bytes(token))


def test_repr_does_not_show_the_key() -> None:
    key = Fernet.generate_key()
    cipher = KeyCipher(key)

    text = repr(cipher) + str(cipher)

    assert key.decode() not in text
    assert not _substrings(key.decode(), 8) & _substrings(text, 8)


def test_constructor_rejects_a_bad_key() -> None:
    with pytest.raises(CipherError):
        KeyCipher(b"short")


# -- fingerprint and key_id --------------------------------------------------------------------


@pytest.mark.parametrize("apikey", SAMPLE_KEYS)
def test_fingerprint_is_8_hex_digits_of_sha256(apikey: str) -> None:
    fp = fingerprint(apikey)

    assert re.fullmatch(r"[0-9a-f]{8}", fp)
    assert fp == hashlib.sha256(apikey.encode()).hexdigest()[:8]


@pytest.mark.parametrize("apikey", SAMPLE_KEYS)
def test_fingerprint_contains_no_part_of_the_key(apikey: str) -> None:
    fp = fingerprint(apikey)

    overlap = _substrings(fp.lower(), 4) & _substrings(apikey.lower(), 4)
    assert not overlap


def test_fingerprint_and_key_id_are_stable_and_tell_keys_apart() -> None:
    assert fingerprint(APIKEY) == fingerprint(APIKEY)
    assert key_id(APIKEY) == key_id(APIKEY)
    assert fingerprint(APIKEY) != fingerprint(APIKEY + "x")
    assert key_id(APIKEY) != key_id(APIKEY + "x")


def test_key_id_is_the_full_sha256_hex() -> None:
    assert key_id(APIKEY) == hashlib.sha256(APIKEY.encode()).hexdigest()
    assert key_id(APIKEY).startswith(fingerprint(APIKEY))


# -- permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "insecure"),
    [
        (0o600, False),
        (0o400, False),
        (0o700, False),
        (0o640, True),
        (0o620, True),
        (0o604, True),
        (0o602, True),
        (0o644, True),
    ],
)
def test_insecure_permissions(tmp_path: Path, mode: int, insecure: bool) -> None:
    path = tmp_path / "bot.key"
    path.write_bytes(b"x")
    path.chmod(mode)

    assert insecure_permissions(path) is insecure


def test_missing_file_is_not_insecure(tmp_path: Path) -> None:
    assert insecure_permissions(tmp_path / "absent") is False
