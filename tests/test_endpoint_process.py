"""``python -m bot`` in webhook mode, then in polling mode on the same database: real processes,
real HTTP on 127.0.0.1, SIGTERM (PRODUCT.md §9)."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import aiohttp

from bot.settings import Listen
from bot.smsc.simulator import SimulatedSmsc
from bot.web.server import bind
from tests.fakes.telegram import FakeTelegramServer
from tests.fakes.updates import message_update
from tests.harness import ADMIN, start_polling


def free_port() -> int:
    """A port free on 127.0.0.1 a moment ago (the bot binds it next)."""
    sock = bind(Listen("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


async def stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    return err.decode()


async def test_webhook_mode_then_polling_after_it(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with FakeTelegramServer() as telegram, SimulatedSmsc() as smsc:
        process = await start_polling(
            tmp_path,
            telegram,
            smsc.base_url,
            TELEGRAM_WEBHOOK="true",
            PUBLIC_URL=base + "/",
            HTTP_LISTEN=f"127.0.0.1:{port}",
        )
        try:
            (set_webhook,) = await telegram.wait_for_call("setWebhook", timeout=30)
            assert set_webhook.params["url"] == base + "/telegram"
            assert telegram.webhook_secret  # a secret token was given
            assert await telegram.post_to_webhook(
                message_update("/whoami", user_id=ADMIN), without_secret=True
            ) == 401  # fmt: skip
            assert await telegram.post_to_webhook(
                message_update("/whoami", user_id=ADMIN), secret_token="guess"
            ) == 401  # fmt: skip
            assert telegram.calls_of("sendMessage") == []
            assert await telegram.post_to_webhook(message_update("/whoami", user_id=ADMIN)) == 200
            (answer,) = await telegram.wait_for_call("sendMessage", timeout=30)
            assert "admin" in (answer.text or "")
            async with aiohttp.ClientSession() as client:
                async with client.get(base + "/healthz") as response:
                    assert response.status == 200
                    health = json.loads(await response.text())
                async with client.get(base + "/metrics") as response:
                    assert response.status == 200
                    assert "smsbot_updates_total" in await response.text()
            assert health["telegram"] == {
                "mode": "webhook",
                "last_contact": health["telegram"]["last_contact"],
                "webhook": "set",
            }
        finally:
            err = await stop(process)
        assert process.returncode == 0, err
        assert "Traceback" not in err
        assert telegram.calls_of("getUpdates") == []  # never polled while the webhook was set
        assert telegram.webhook_secret is not None and telegram.webhook_secret not in err

        # The next start polls: it deletes the webhook first (keeping what waits), so the
        # updates that came meanwhile are received.
        telegram.push_update(message_update("/whoami", user_id=ADMIN))
        process = await start_polling(tmp_path, telegram, smsc.base_url)
        try:
            await telegram.wait_for_call("sendMessage", count=2, timeout=30)
        finally:
            err = await stop(process)
        assert process.returncode == 0, err
        (delete,) = telegram.calls_of("deleteWebhook")
        assert delete.params.get("drop_pending_updates") in (None, False)
        assert telegram.webhook_url == ""
