"""The real entry point: ``python -m bot`` as a subprocess, and ``run_polling`` in-process."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from bot.app import StartError, run_polling
from bot.settings import load_settings
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


async def test_missing_token_is_one_clear_line(tmp_path: Path) -> None:
    code, out, err = await run_bot(tmp_path)
    assert code == 2
    assert err.strip() == "error: BOT_TOKEN: required to talk to Telegram (get one from @BotFather)"
    assert "Traceback" not in err + out


async def test_a_bad_setting_is_one_line_naming_it(tmp_path: Path) -> None:
    code, _, err = await run_bot(tmp_path, BOT_TOKEN="1:x", CACHE_TTL="abc")
    assert code == 2
    assert err.strip() == "error: CACHE_TTL: expected a number"


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


async def test_help_lists_the_shell(tmp_path: Path) -> None:
    code, out, _ = await run_bot(tmp_path, "--help")
    assert code == 0 and "shell" in out and "--demo" in out


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
