"""The one composition root: builds the store, the SMS Center client, the fetch layer, the
dispatcher and the HTTP server, and runs them as the Telegram bot (long polling or webhook) or
the console.

This package is the only part of ``bot/`` that imports ``handlers/`` (``services``: Services
and the Dispatcher; ``endpoint``: the HTTP server; ``run``: the console and the Telegram bot).
The Telegram bot, the console and every end-to-end test build one ``Services`` and hand its
parts to the Dispatcher as
workflow data (``Dispatcher(**services.workflow_data())``), so handlers receive them by
parameter name and nothing lives in module-level globals.

The Telegram bot (``run_bot``) binds ``HTTP_LISTEN`` first (a port in use stops the start
before anything is opened), then serves ``/healthz`` and ``/metrics`` there, and ``/telegram``
in webhook mode (``TELEGRAM_WEBHOOK=true``: ``setWebhook`` with ``{PUBLIC_URL}/telegram`` and a
secret token made at each start). Long polling, the default, calls ``deleteWebhook`` first
(pending updates kept), since a webhook left by an earlier run would make every ``getUpdates``
a 409. SIGTERM/SIGINT: the listening socket closes, updates in flight (webhook tasks, then the
dispatcher's) finish, waiting answers are edited, exit 0. The console starts no server.
"""

from bot.app.endpoint import Endpoint, make_endpoint, serve_until_stopped, set_webhook
from bot.app.run import checked_token, make_telegram_bot, open_bot_parts, run_bot, run_shell
from bot.app.services import (
    FOLLOW_UPS_AT_SHUTDOWN,
    Services,
    StartError,
    make_dispatcher,
    update_types,
)

__all__ = [
    "FOLLOW_UPS_AT_SHUTDOWN",
    "Endpoint",
    "Services",
    "StartError",
    "checked_token",
    "make_dispatcher",
    "make_endpoint",
    "make_telegram_bot",
    "open_bot_parts",
    "run_bot",
    "run_shell",
    "serve_until_stopped",
    "set_webhook",
    "update_types",
]
