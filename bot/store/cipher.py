"""API keys at rest: Fernet encryption, fingerprints and the key file.

SMS Center API keys are stored only as Fernet tokens (AES-128-CBC with HMAC-SHA256, from
`cryptography`). The Fernet key comes from ``ENCRYPTION_KEY`` or, when that is unset, from a key
file beside the database that is created once with mode 0600 and reused afterwards.

Nothing in this module logs or puts into an exception message any key material: neither an API
key, nor a Fernet key, nor a token.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

logger = logging.getLogger(__name__)

# Group/other read or write bits: any of them lets another local user read or replace the key.
_SHARED_BITS = stat.S_IRGRP | stat.S_IWGRP | stat.S_IROTH | stat.S_IWOTH


class CipherError(Exception):
    """The encryption key is unusable or a token does not decrypt.

    Raised for an invalid ``ENCRYPTION_KEY``, an unreadable or corrupt key file, and a token that
    was made with another key or was tampered with. The message never contains key material.
    """


class KeyCipher:
    """Encrypts and decrypts API keys with one Fernet key; its repr never shows the key."""

    def __init__(self, fernet_key: bytes) -> None:
        """Use ``fernet_key`` (32 url-safe base64-encoded bytes); CipherError if it is not one."""
        try:
            self._fernet = Fernet(fernet_key)
        except (ValueError, TypeError):
            # `from None`: the underlying error is not needed and must not drag the key along.
            raise CipherError("not a valid Fernet key (32 url-safe base64-encoded bytes)") from None

    def __repr__(self) -> str:
        return "KeyCipher(<hidden>)"

    @classmethod
    def load(cls, encryption_key: str | None, key_file: Path) -> KeyCipher:
        """Build the cipher from ``ENCRYPTION_KEY``, or from ``key_file`` if that is unset or blank.

        A missing key file is created (parent folders too) with mode 0600 holding a new key; it
        appears under its name only once fully written, so a crash or a concurrent start never
        leaves an empty or half-written key file behind. CipherError when the given key or the
        file's content is not a Fernet key, or the file cannot be read or created; its one-line
        message names ``ENCRYPTION_KEY`` or ``DATABASE_PATH`` (the key file lives beside the
        database).
        """
        if encryption_key is not None and encryption_key.strip():
            try:
                return cls(encryption_key.strip().encode("ascii"))
            except (CipherError, UnicodeEncodeError):
                raise CipherError(
                    "ENCRYPTION_KEY is not a valid Fernet key (32 url-safe base64-encoded bytes); "
                    "generate one with: python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'"
                ) from None
        try:
            raw = key_file.read_bytes()
        except FileNotFoundError:
            raw = _create_key_file(key_file)
        except OSError as exc:
            raise CipherError(
                f"DATABASE_PATH: cannot read the key file {key_file} beside the database: "
                f"{exc.strerror}"
            ) from None
        try:
            return cls(raw.strip())
        except CipherError:
            raise CipherError(
                f"DATABASE_PATH: the key file {key_file} beside the database does not hold a "
                "valid Fernet key (restore it, or set ENCRYPTION_KEY to the key it held)"
            ) from None

    def encrypt(self, apikey: str) -> bytes:
        """Return a Fernet token for ``apikey``; only ``decrypt`` with the same key reverses it."""
        return self._fernet.encrypt(apikey.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        """Return the API key inside ``token``; CipherError if it was made with another key."""
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except (InvalidToken, UnicodeDecodeError, TypeError):
            raise CipherError(
                "stored API key does not decrypt with this encryption key "
                "(ENCRYPTION_KEY or key file changed?)"
            ) from None


def _create_key_file(key_file: Path) -> bytes:
    """Write a new Fernet key to ``key_file`` atomically with mode 0600 and return the key.

    The key is written to a private temporary file first and then hard-linked into place: the link
    fails if another process got there first, and then that process's key is used, so two starts
    racing never end up with two different keys.
    """
    key = Fernet.generate_key()
    # A random name: a leftover from a killed start (same pid in a container) cannot block us.
    tmp = key_file.with_name(f".{key_file.name}.{secrets.token_hex(8)}.tmp")
    try:
        key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # O_EXCL with 0o600: the file never exists, not even for a moment, with wider permissions.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, key_file)
        except FileExistsError:
            logger.info("key file %s was created concurrently; using it", key_file)
            return key_file.read_bytes()
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        raise CipherError(
            f"DATABASE_PATH: cannot create the key file {key_file} beside the database: "
            f"{exc.strerror}{where}"
        ) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    logger.info("created a new encryption key file %s", key_file)
    return key


def fingerprint(apikey: str) -> str:
    """Return a short public fingerprint of ``apikey``: the first 8 hex digits of its SHA-256.

    Safe to show in chats and logs: it is derived from a hash, never from the key's characters.
    """
    return key_id(apikey)[:8]


def key_id(apikey: str) -> str:
    """Return the full SHA-256 hex digest of ``apikey``.

    It identifies the SMS Center account behind a key for budgets and caches, so two account names
    registered with one key share one budget. Not for display: use ``fingerprint``.
    """
    return hashlib.sha256(apikey.encode("utf-8")).hexdigest()


def insecure_permissions(path: Path) -> bool:
    """Return True when ``path`` is readable or writable by its group or by others.

    Meant for a warning at start about the key file or the database. A missing file is not
    insecure (False).
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return False
    return bool(mode & _SHARED_BITS)
