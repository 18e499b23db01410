"""The real entry point: ``python -m bot`` as a subprocess, and ``main``/``run_bot``
in-process.

Each subprocess costs an interpreter and every import (seconds of CPU on a busy machine), so
a process is started only where the process itself is under test: a refused start after
logging and the event loop are up (nothing but the one line may reach stderr), a token
Telegram refuses, polling and SIGTERM. What ``main`` decides before that (arguments,
settings) is run in-process.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.__main__ import main
from bot.app import StartError
from bot.app import run_bot as run_telegram_bot
from bot.settings import MAX_USER_ID, Settings, load_settings
from bot.smsc.simulator import SimulatedSmsc
from tests.fakes.telegram import FakeTelegramServer
from tests.fakes.updates import message_update
from tests.harness import bot_env, start_polling

FERNET_HINT = (
    "generate one with: python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'"
)


async def run_bot(
    tmp_path: Path, *args: str, within: float = 30, **values: str
) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        cwd=tmp_path, env=bot_env(tmp_path, **values),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), within)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


# -- main() in-process: arguments and settings -------------------------------------------------


@pytest.fixture
def clean_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No inherited settings and no .env (cwd is tmp_path); main()'s logging set-up undone."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    httpx_logger = logging.getLogger("httpx")
    level = httpx_logger.level
    yield tmp_path
    httpx_logger.setLevel(level)


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.usefixtures("clean_start")
@pytest.mark.parametrize(
    ("argv", "env", "line"),
    [
        ((), {}, "BOT_TOKEN: required to talk to Telegram (get one from @BotFather)"),
        ((), {"BOT_TOKEN": "1:x", "CACHE_TTL": "abc"}, "CACHE_TTL: expected a number"),
        (
            ("shell", "--demo"),
            {"ENCRYPTION_KEY": "not-a-key"},
            "ENCRYPTION_KEY: expected a Fernet key (32 url-safe base64-encoded bytes); "
            + FERNET_HINT,
        ),
        *(
            (
                ("shell", "--demo", "--user", user),
                {},
                f"--user: expected a Telegram user id, a whole number from 1 to {MAX_USER_ID}",
            )
            for user in ("0", "-5", "abc", str(MAX_USER_ID + 1))
        ),
    ],
)
def test_a_bad_argument_or_setting_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
    env: dict[str, str],
    line: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert run_main(capsys, *argv) == (2, "", f"error: {line}\n")


def test_help_lists_the_shell_and_its_options(
    capsys: pytest.CaptureFixture[str], clean_start: Path
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    assert "shell" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["shell", "--help"])
    out = capsys.readouterr().out
    assert "--demo" in out and "--user" in out and str(MAX_USER_ID) in out


async def test_a_malformed_token_is_refused_before_anything_is_opened(tmp_path: Path) -> None:
    settings = load_settings(
        None, bot_token="123456 :token with spaces", database_path=tmp_path / "bot.sqlite3"
    )
    with pytest.raises(StartError, match=r"^BOT_TOKEN: expected the token") as info:
        await run_telegram_bot(settings, handle_signals=False)
    assert "with spaces" not in str(info.value)
    assert not settings.database_path.exists() and not settings.key_file.exists()


# -- python -m bot: refused starts -------------------------------------------------------------


async def test_a_refused_start_is_one_line_on_stderr_and_exit_code_2(tmp_path: Path) -> None:
    # The processes run side by side; each refuses after logging and the event loop are up.
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    under_a_file = str(blocker / "bot.sqlite3")
    cases: list[tuple[list[str], dict[str, str], str]] = [
        ([], {"BOT_TOKEN": "12345-no-colon"}, "BOT_TOKEN: expected the token @BotFather gives"),
        (  # with ENCRYPTION_KEY no key file is made: the database itself is refused
            [],
            {
                "BOT_TOKEN": "1:x",
                "ENCRYPTION_KEY": Fernet.generate_key().decode(),
                "DATABASE_PATH": under_a_file,
            },
            f"DATABASE_PATH: cannot create or open {under_a_file}: File exists: {blocker}",
        ),
        (  # the console with the demo; the key file beside the database is refused first
            ["shell", "--demo"],
            {"DATABASE_PATH": under_a_file},
            f"DATABASE_PATH: cannot read the key file {blocker}/demo.sqlite3.key beside the "
            "database: Not a directory",
        ),
    ]
    folders = [tmp_path / f"case{i}" for i in range(len(cases))]
    for folder in folders:
        folder.mkdir()
    results = await asyncio.gather(
        *(
            run_bot(folder, *args, within=120, **values)
            for folder, (args, values, _) in zip(folders, cases, strict=True)
        )
    )

    for (args, values, line), (code, out, err) in zip(cases, results, strict=True):
        assert (code, out) == (2, ""), (args, values, err)
        assert err.startswith(f"error: {line}") and err.count("\n") == 1, err
        assert "12345-no-colon" not in err
    # A refused start leaves nothing behind.
    for folder in folders:
        assert list(folder.iterdir()) == []


async def test_a_token_telegram_refuses_is_one_clear_line(tmp_path: Path) -> None:
    async with FakeTelegramServer() as telegram:
        code, _, err = await run_bot(
            tmp_path, BOT_TOKEN="999:WRONG", TELEGRAM_API_URL=telegram.base_url
        )
    assert code == 2
    assert "BOT_TOKEN: Telegram refused this token" in err
    assert "Traceback" not in err and "WRONG" not in err


async def test_unreachable_telegram_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(StartError, match="TELEGRAM_API_URL: cannot reach"):
        await run_telegram_bot(
            load_settings(
                None,
                bot_token="1:x",
                telegram_api_url="http://127.0.0.1:9",
                database_path=tmp_path / "bot.sqlite3",
                http_listen="127.0.0.1:0",
            ),
            handle_signals=False,
        )


async def test_polls_answers_registers_menu_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    async with FakeTelegramServer() as telegram, SimulatedSmsc() as smsc:
        process = await start_polling(tmp_path, telegram, smsc.base_url)
        try:
            await telegram.wait_for_call("getUpdates", timeout=20)
            telegram.push_update(message_update("/whoami", user_id=500))
            await telegram.wait_for_call("sendMessage", timeout=20)
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0, err.decode()
    assert "admin" in telegram.sent_texts()[0]
    # The menu: member commands for everyone, admin commands in the admin's own chat.
    everyone = {c["command"] for c in telegram.commands()}
    admin = {c["command"] for c in telegram.commands({"type": "chat", "chat_id": 500})}
    assert "last" in everyone and "grant" not in everyone
    assert {"last", "grant", "audit"} <= admin
    assert {c["command"] for c in telegram.commands(language_code="ru")} == everyone
    assert "Traceback" not in err.decode()
