"""Settings: one ``Settings`` object read from the environment and ``.env`` (PRODUCT.md §3).

A bad value stops the start with one line naming the variable and what is expected
(``SettingsError``); ``python -m bot`` prints that line and exits, never a traceback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.store.cipher import CipherError, KeyCipher

# SMS Center refuses a 4th identical history request within a minute, so an answer must be
# served from cache for at least 20 s (three requests a minute at most).
MIN_CACHE_TTL = 20.0
# SMS Center answers at most 30 history requests an hour per account.
SMSC_HOURLY_LIMIT = 30
# History requests an hour an account's on-call watches may spend together (PRODUCT.md §10).
WATCH_BUDGET_DEFAULT = 6

# Telegram promises user ids of at most 52 significant bits; 2**53 is where a double (and so
# many a Bot API client) stops holding every integer exactly. Far inside SQLite's 64 bits.
MAX_USER_ID = 2**53

_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
_USER_ID_EXPECTED = f"expected a Telegram user id, a whole number from 1 to {MAX_USER_ID}"
_LISTEN_EXPECTED = "expected HOST:PORT (e.g. 127.0.0.1:8080 or 0.0.0.0:8080) or off"
_FERNET_KEY_EXPECTED = (
    "expected a Fernet key (32 url-safe base64-encoded bytes); generate one with: "
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


class SettingsError(Exception):
    """A setting has a bad value; ``str()`` is one line naming the variable."""


def parse_user_id(text: str) -> int:
    """Read a Telegram user id: ASCII digits, 1 to ``MAX_USER_ID``; ValueError saying so."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_USER_ID:
        raise ValueError(_USER_ID_EXPECTED)
    return int(text)


@dataclass(frozen=True)
class RateLimit:
    """``count`` lookups per ``window`` seconds (``USER_RATE_LIMIT=6/60``)."""

    count: int
    window: float

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """Parse ``"N/SECONDS"``; raises ``ValueError`` with what is expected."""
        count_text, sep, window_text = text.strip().partition("/")
        try:
            if not sep:
                raise ValueError
            count, window = int(count_text), float(window_text)
        except ValueError:
            raise ValueError("expected COUNT/SECONDS, e.g. 6/60") from None
        if count < 1 or not window > 0:
            raise ValueError("expected a positive count and window, e.g. 6/60")
        return cls(count=count, window=window)

    def __str__(self) -> str:
        return f"{self.count}/{self.window:g}"


@dataclass(frozen=True)
class Listen:
    """Where the HTTP server listens (``HTTP_LISTEN=127.0.0.1:8080``; port 0: any free one)."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Listen | None:
        """Parse ``"HOST:PORT"`` (an IPv6 host in brackets) or ``"off"`` (None); raises
        ``ValueError`` with what is expected."""
        text = text.strip()
        if text.lower() == "off":
            return None
        host, sep, port_text = text.rpartition(":")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if (
            not sep
            or not host
            or any(c.isspace() or c in "[]/" for c in host)
            or not (port_text.isascii() and port_text.isdigit())
            or int(port_text) > 65535
        ):
            raise ValueError(_LISTEN_EXPECTED)
        return cls(host=host, port=int(port_text))

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class Settings(BaseSettings):
    """Every variable of PRODUCT.md §3. Secrets are ``SecretStr``: never shown by ``repr``."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        hide_input_in_errors=True,
    )

    bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    smsc_base_url: str = "https://smsc.ru"
    database_path: Path = Path("data/bot.sqlite3")
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    allow_self_login: bool = True
    encryption_key: SecretStr | None = None
    cache_ttl: float = Field(default=60.0, ge=MIN_CACHE_TTL)
    user_rate_limit: Annotated[RateLimit, NoDecode] = RateLimit(6, 60.0)
    smsc_hourly_budget: int = Field(default=SMSC_HOURLY_LIMIT, ge=1, le=SMSC_HOURLY_LIMIT)
    # After smsc_hourly_budget: its validator reads it. 0: watches use status pushes only.
    watch_budget: int = Field(default=WATCH_BUDGET_DEFAULT, ge=0)
    smsc_timeout: float = Field(default=10.0, gt=0, le=120)
    batch_gather: float = Field(default=20.0, ge=0, le=60)
    timezone: Annotated[ZoneInfo, NoDecode] = ZoneInfo("Europe/Moscow")
    log_level: str = "INFO"
    http_listen: Annotated[Listen | None, NoDecode] = Listen("127.0.0.1", 8080)
    public_url: str | None = None
    # After http_listen and public_url: its validator reads them.
    telegram_webhook: bool = False

    @field_validator("telegram_api_url", "smsc_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")) or len(value) < len("http://x"):
            raise ValueError("expected an http(s) URL, e.g. https://smsc.ru")
        return value

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip().rstrip("/")
        if not value:
            return None
        if (
            not value.startswith(("http://", "https://"))
            or len(value) < len("http://x")
            or any(c.isspace() or c in "?#" for c in value)
        ):
            raise ValueError(
                "expected the http(s) base URL at which the bot's HTTP server is reached, "
                "e.g. https://bot.example.com (no query string)"
            )
        return value

    @field_validator("http_listen", mode="before")
    @classmethod
    def _listen(cls, value: Any) -> Any:
        return Listen.parse(value) if isinstance(value, str) else value

    @field_validator("telegram_webhook")
    @classmethod
    def _webhook_needs_a_server(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("public_url") is None:
            raise ValueError("true needs PUBLIC_URL (Telegram posts to {PUBLIC_URL}/telegram)")
        if value and "http_listen" in info.data and info.data["http_listen"] is None:
            raise ValueError("true needs HTTP_LISTEN (it is off, so nothing would listen)")
        return value

    @field_validator("watch_budget")
    @classmethod
    def _within_the_hour(cls, value: int, info: ValidationInfo) -> int:
        hourly = info.data.get("smsc_hourly_budget", SMSC_HOURLY_LIMIT)
        if value > hourly:
            raise ValueError(
                f"expected at most SMSC_HOURLY_BUDGET ({hourly}): watches spend a part of "
                "the account's hourly history requests"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _default_watch_budget_fits(cls, data: Any) -> Any:
        # Only a WATCH_BUDGET someone wrote stops the start; the default shrinks to fit a
        # smaller SMSC_HOURLY_BUDGET instead of refusing a setting nobody chose.
        if isinstance(data, dict) and data.get("watch_budget") is None:
            try:
                hourly = int(data.get("smsc_hourly_budget", SMSC_HOURLY_LIMIT))
            except (TypeError, ValueError):
                return data  # SMSC_HOURLY_BUDGET's own validator says what is wrong
            return {**data, "watch_budget": max(0, min(WATCH_BUDGET_DEFAULT, hourly))}
        return data

    @field_validator("database_path")
    @classmethod
    def _not_a_folder(cls, value: Path) -> Path:
        # A folder would only fail later, after a key file was made beside it.
        if value.is_dir():
            raise ValueError(
                "expected the database file's path, not a folder, e.g. data/bot.sqlite3"
            )
        return value

    @field_validator("bot_token", "encryption_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("encryption_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        # Checked here, not first when the database opens, so a typo stops every command at
        # once; the message never shows the value.
        if value is not None:
            try:
                KeyCipher(value.get_secret_value().strip().encode("ascii"))
            except (CipherError, UnicodeEncodeError):
                raise ValueError(_FERNET_KEY_EXPECTED) from None
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admin_ids(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return frozenset(parse_user_id(part) for part in value.split(",") if part.strip())
        except ValueError:
            raise ValueError(
                f"expected comma-separated Telegram user ids from 1 to {MAX_USER_ID}, "
                "e.g. 12345,67890"
            ) from None

    @field_validator("user_rate_limit", mode="before")
    @classmethod
    def _rate_limit(cls, value: Any) -> Any:
        return RateLimit.parse(value) if isinstance(value, str) else value

    @field_validator("timezone", mode="before")
    @classmethod
    def _timezone(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        zone = time_zone(value)
        if zone is None:
            raise ValueError("expected an IANA time zone, e.g. Europe/Moscow")
        return zone

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().upper() in _LOG_LEVELS:
            return value.strip().upper()
        raise ValueError("expected one of " + ", ".join(_LOG_LEVELS))

    @property
    def key_file(self) -> Path:
        """Where the generated encryption key lives when ``ENCRYPTION_KEY`` is unset."""
        return self.database_path.with_name(self.database_path.name + ".key")

    @property
    def log_level_number(self) -> int:
        """``LOG_LEVEL`` as a ``logging`` level number."""
        return logging.getLevelNamesMapping()[self.log_level]


def time_zone(name: str) -> ZoneInfo | None:
    """The IANA time zone ``name``, in any letter case (``europe/moscow``, ``UTC``), or None.

    The exact spelling is tried first; otherwise the name is matched against every zone this
    system knows, ignoring case, so the zone keeps its proper name (``Europe/Moscow``).
    """
    name = name.strip()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    folded = name.casefold()
    for known in available_timezones():
        if known.casefold() == folded:
            return ZoneInfo(known)
    return None


def load_settings(env_file: Path | str | None = ".env", **overrides: Any) -> Settings:
    """Read settings from the environment and ``env_file``; ``overrides`` win over both.

    Raises ``SettingsError`` whose text is one line naming the first bad variable.
    """
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    error = exc.errors(include_input=False, include_url=False)[0]
    name = str(error["loc"][0]).upper() if error["loc"] else "settings"
    message = error["msg"].removeprefix("Value error, ").replace("Input should be", "expected")
    if error["type"] in {"float_parsing", "int_parsing"}:
        message = "expected a number"
    elif error["type"] == "bool_parsing":
        message = "expected true or false"
    return f"{name}: {message}"
