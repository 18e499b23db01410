"""The entry point: ``python -m bot`` as a subprocess where the process matters (a refused
token, polling and SIGTERM), ``main()`` and ``run_polling`` in-process for the rest."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.app import StartError, run_polling
from bot.settings import Settings, load_settings
from bot.smsc.simulator import SimulatedSmsc
from tests.fakes.telegram import FakeTelegramServer
from tests.fakes.updates import message_update
from tests.harness import bot_env, start_polling


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


@pytest.fixture
def no_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment of ``bot_env`` for ``main()`` in this process: no setting inherited, no
    ``.env`` (the working folder is ``tmp_path``)."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "data" / "bot.sqlite3"))
    monkeypatch.chdir(tmp_path)


# A bad start is decided before anything runs, so these call ``main()`` in this process; the
# process itself (exit code, stderr, SIGTERM) is tested by the polling test below.


@pytest.mark.usefixtures("no_settings")
def test_missing_token_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    out, err = capsys.readouterr()
    assert err.strip() == "error: BOT_TOKEN: required to talk to Telegram (get one from @BotFather)"
    assert out == ""


@pytest.mark.usefixtures("no_settings")
def test_a_bad_setting_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_TOKEN", "1:x")
    monkeypatch.setenv("CACHE_TTL", "abc")
    assert main([]) == 2
    assert capsys.readouterr().err.strip() == "error: CACHE_TTL: expected a number"


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
        await run_polling(
            load_settings(
                None,
                bot_token="1:x",
                telegram_api_url="http://127.0.0.1:9",
                database_path=tmp_path / "bot.sqlite3",
            ),
            handle_signals=False,
        )


@pytest.mark.usefixtures("no_settings")
def test_help_lists_the_shell(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and "shell" in out and "--demo" in out


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
