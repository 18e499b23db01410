"""Settings: every variable of PRODUCT.md §3; a bad value is one line naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.settings import (
    MAX_USER_ID,
    Listen,
    RateLimit,
    SettingsError,
    load_settings,
    parse_user_id,
)

ENV_NAMES = (
    "BOT_TOKEN", "TELEGRAM_API_URL", "SMSC_BASE_URL", "DATABASE_PATH", "ADMIN_IDS",
    "ALLOW_SELF_LOGIN", "ENCRYPTION_KEY", "CACHE_TTL", "USER_RATE_LIMIT", "SMSC_HOURLY_BUDGET",
    "SMSC_TIMEOUT", "TIMEZONE", "LOG_LEVEL", "HTTP_LISTEN", "PUBLIC_URL", "TELEGRAM_WEBHOOK",
    "WATCH_BUDGET",
)  # fmt: skip


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_match_the_product_contract() -> None:
    settings = load_settings(None)
    assert settings.bot_token is None
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.smsc_base_url == "https://smsc.ru"
    assert settings.database_path == Path("data/bot.sqlite3")
    assert settings.admin_ids == frozenset()
    assert settings.allow_self_login is True
    assert settings.cache_ttl == 60
    assert settings.user_rate_limit == RateLimit(6, 60.0)
    assert settings.smsc_hourly_budget == 30
    assert settings.smsc_timeout == 10
    assert settings.timezone.key == "Europe/Moscow"
    assert settings.log_level == "INFO"
    assert settings.http_listen == Listen("127.0.0.1", 8080)
    assert settings.public_url is None
    assert settings.telegram_webhook is False
    assert settings.watch_budget == 6


def test_values_from_the_environment_and_env_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("ADMIN_IDS=1, 2,3\nUSER_RATE_LIMIT=10/120\nTIMEZONE=Asia/Almaty\n")
    monkeypatch.setenv("CACHE_TTL", "90")
    monkeypatch.setenv("SMSC_BASE_URL", "https://smscentre.com/")
    settings = load_settings(env_file)
    assert settings.admin_ids == frozenset({1, 2, 3})
    assert settings.user_rate_limit == RateLimit(10, 120.0)
    assert settings.timezone.key == "Asia/Almaty"
    assert settings.cache_ttl == 90
    assert settings.smsc_base_url == "https://smscentre.com"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CACHE_TTL", "abc"),
        ("CACHE_TTL", "5"),
        ("ADMIN_IDS", "x"),
        ("ADMIN_IDS", "12,-3"),
        ("ADMIN_IDS", "0"),
        ("ADMIN_IDS", str(MAX_USER_ID + 1)),
        ("ADMIN_IDS", "1 2"),
        ("ENCRYPTION_KEY", "not-a-fernet-key"),
        ("ENCRYPTION_KEY", "Ж" * 44),
        ("ENCRYPTION_KEY", Fernet.generate_key().decode()[:-2]),
        ("DATABASE_PATH", "."),
        ("USER_RATE_LIMIT", "5"),
        ("USER_RATE_LIMIT", "0/60"),
        ("SMSC_HOURLY_BUDGET", "31"),
        ("SMSC_HOURLY_BUDGET", "0"),
        ("SMSC_TIMEOUT", "-1"),
        ("TIMEZONE", "Mars/Olympus"),
        ("LOG_LEVEL", "loud"),
        ("ALLOW_SELF_LOGIN", "maybe"),
        ("SMSC_BASE_URL", "smsc.ru"),
        ("TELEGRAM_API_URL", "ftp://example"),
        ("HTTP_LISTEN", "8080"),
        ("HTTP_LISTEN", "127.0.0.1:port"),
        ("HTTP_LISTEN", "127.0.0.1:70000"),
        ("HTTP_LISTEN", ":8080"),
        ("PUBLIC_URL", "bot.example.com"),
        ("PUBLIC_URL", "https://bot.example.com/?x=1"),
        ("TELEGRAM_WEBHOOK", "sometimes"),
        ("WATCH_BUDGET", "31"),
        ("WATCH_BUDGET", "-1"),
        ("WATCH_BUDGET", "many"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(None)
    text = str(caught.value)
    assert text.startswith(f"{name}: ")
    assert "\n" not in text
    assert "expected" in text


# A well-formed Fernet key (43 url-safe base64 characters and "=") that is easy to search for.
READABLE_FERNET_KEY = "SECRET-FERNET-KEY-" + "A" * 25 + "="


def test_secrets_are_not_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123:SECRET-TOKEN")
    monkeypatch.setenv("ENCRYPTION_KEY", READABLE_FERNET_KEY)
    settings = load_settings(None)
    assert settings.encryption_key is not None
    assert settings.encryption_key.get_secret_value() == READABLE_FERNET_KEY
    assert "SECRET" not in repr(settings) and "SECRET" not in str(settings)


def test_a_malformed_encryption_key_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", "SECRET-but-not-a-key")
    with pytest.raises(SettingsError) as caught:
        load_settings(None)
    assert str(caught.value).startswith("ENCRYPTION_KEY: expected a Fernet key")
    assert "SECRET" not in str(caught.value)
    monkeypatch.setenv("ENCRYPTION_KEY", f"  {READABLE_FERNET_KEY}\n")  # pasted with spaces
    assert load_settings(None).encryption_key is not None


@pytest.mark.parametrize("text", ["1", " 42 ", "6061237890", str(MAX_USER_ID)])
def test_a_user_id_is_a_whole_number_from_1_to_the_bound(text: str) -> None:
    assert parse_user_id(text) == int(text)


@pytest.mark.parametrize(
    "text", ["0", "-5", "+5", "1.5", "1e3", "abc", "", "\u0663", str(MAX_USER_ID + 1), "9" * 30]
)
def test_anything_else_is_not_a_user_id(text: str) -> None:
    with pytest.raises(ValueError, match=f"from 1 to {MAX_USER_ID}"):
        parse_user_id(text)


def test_key_file_lives_beside_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_PATH", "/data/bot.sqlite3")
    assert load_settings(None).key_file == Path("/data/bot.sqlite3.key")


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("europe/moscow", "Europe/Moscow"),
        ("EUROPE/MOSCOW", "Europe/Moscow"),
        (" asia/almaty ", "Asia/Almaty"),
        ("utc", "UTC"),
        ("Europe/Moscow", "Europe/Moscow"),
    ],
)
def test_timezone_is_read_in_any_letter_case(
    monkeypatch: pytest.MonkeyPatch, typed: str, zone: str
) -> None:
    monkeypatch.setenv("TIMEZONE", typed)
    assert load_settings(None).timezone.key == zone  # the zone's own spelling


def test_a_timezone_that_does_not_exist_in_any_case_is_still_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TIMEZONE", "europe/mordor")
    with pytest.raises(SettingsError, match=r"^TIMEZONE: expected an IANA time zone"):
        load_settings(None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("off", None),
        (" OFF ", None),
        ("0.0.0.0:8080", Listen("0.0.0.0", 8080)),  # noqa: S104 - a value, not a bind
        ("[::1]:9000", Listen("::1", 9000)),
        ("localhost:0", Listen("localhost", 0)),
    ],
)
def test_http_listen_is_host_port_or_off(
    monkeypatch: pytest.MonkeyPatch, text: str, expected: Listen | None
) -> None:
    monkeypatch.setenv("HTTP_LISTEN", text)
    assert load_settings(None).http_listen == expected


def test_webhook_mode_needs_a_public_url_and_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK", "true")
    with pytest.raises(SettingsError, match=r"^TELEGRAM_WEBHOOK: true needs PUBLIC_URL"):
        load_settings(None)
    monkeypatch.setenv("PUBLIC_URL", "https://bot.example.com/")
    assert load_settings(None).public_url == "https://bot.example.com"
    monkeypatch.setenv("HTTP_LISTEN", "off")
    with pytest.raises(SettingsError, match=r"^TELEGRAM_WEBHOOK: true needs HTTP_LISTEN"):
        load_settings(None)


def test_watch_budget_more_than_the_hourly_budget_stops_the_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMSC_HOURLY_BUDGET", "10")
    monkeypatch.setenv("WATCH_BUDGET", "11")
    with pytest.raises(SettingsError) as caught:
        load_settings(None)
    assert str(caught.value) == (
        "WATCH_BUDGET: expected at most SMSC_HOURLY_BUDGET (10): watches spend a part of "
        "the account's hourly history requests"
    )
    monkeypatch.setenv("WATCH_BUDGET", "10")
    assert load_settings(None).watch_budget == 10
    monkeypatch.setenv("WATCH_BUDGET", "0")
    assert load_settings(None).watch_budget == 0


def test_the_default_watch_budget_fits_a_smaller_hourly_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMSC_HOURLY_BUDGET", "4")
    assert load_settings(None).watch_budget == 4
    monkeypatch.setenv("SMSC_HOURLY_BUDGET", "20")
    assert load_settings(None).watch_budget == 6
