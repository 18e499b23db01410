"""``GET /healthz``: a small JSON of what the bot can see, and 503 only for what a restart can
fix (PRODUCT.md §9).

503 when the database cannot be written (a write is tried at each check) or, in webhook mode,
when the webhook could not be set. Everything else is reported under 200: Telegram or SMS
Center being unreachable, an account backing off, an empty budget are not cured by restarting
the bot, and a container restarted for them would only lose its waiting answers. ::

    {"status": "ok",                      # or "failing" (with 503)
     "database": {"writable": true},      # or {"writable": false, "error": "..."}
     "telegram": {"mode": "polling", "last_contact": "2026-11-30T14:05:00+03:00"},
                 # webhook mode adds "webhook": "set" (or "not set: <reason>")
     "smsc": {"last_answer": "…", "last_outcome": "ok"},
     "accounts": {"main": {"last_smsc_answer": "…", "last_smsc_outcome": "ok",
                           "history_budget_left": 27, "backing_off": null,
                           "pushes": {"accepted": 120, "last_push": "…",
                                      "refused": {"bad_signature": 2},
                                      "last_refused": "…", "last_refusal": "bad_signature"}}},
     "refused_pushes_for_no_account": {"unknown_account": 3},
     "watches": [{"id": 1, "account": "main", "every": "20 % in 15 min",
                  "data_as_of": "…", "current": true, "blind_since": null,
                  "paused_since": null}]}

Times are ISO 8601 in ``TIMEZONE``, or null when nothing was seen yet. ``smsc`` is SMS Center's
last answer to the process (any call: the transport that sees it does not know accounts, and a
key is never looked at to tell); per account, ``last_smsc_*`` is its history requests' last
answer as the fetch layer's budget saw it (``ok``, ``error N``, ``unreachable``; a timeout or a
malformed body shows only under ``smsc``). Per account also: the history requests left this
hour, and the error it
is backing off after (e.g. ``SmscRateLimited``), or null, and its status pushes (null when it
has none): a wrong guess about the signature shows at once as ``bad_signature`` refusals.
``watches``: per on-call watch (§10), until when its data is current and whether that is
recent enough (within its period, or the spacing of its fetches without pushes), since when it
is blind and since when it is paused (the chat it alerts is not shown). An account appears by
its name; no key, fingerprint, secret or phone number is shown.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from aiohttp import web

from bot.fetch import Fetcher
from bot.store import Storage, StorageError, WatchStore
from bot.watch.runner import WatchRunner
from bot.web.pushes import PushKeys, PushTally

HEALTH_PATH = "/healthz"


@dataclass
class Pulse:
    """When Telegram and SMS Center last answered, and the webhook's state: written by the
    instruments (``bot.web.instruments``) and the composition root, read by ``/healthz``."""

    telegram_at: float | None = None
    smsc_at: float | None = None
    smsc_outcome: str | None = None
    webhook: str | None = None  # None: polling; "set", or "not set: <why>"

    def telegram_answered(self, at: float) -> None:
        """Telegram answered a call, or posted an update."""
        self.telegram_at = at

    def smsc_answered(self, at: float, outcome: str) -> None:
        """SMS Center answered a request (``outcome``: ``ok``, ``error_9``, ``http_502``, …)."""
        self.smsc_at, self.smsc_outcome = at, outcome


class Health:
    """Builds the ``/healthz`` report from the database, the fetch layer and the ``Pulse``."""

    def __init__(
        self,
        storage: Storage,
        fetcher: Fetcher,
        pulse: Pulse,
        push_keys: PushKeys,
        push_tally: PushTally,
        *,
        tz: tzinfo,
        clock: Callable[[], float] = time.time,
        watch_runner: WatchRunner | None = None,
    ) -> None:
        self._storage = storage
        self._fetcher = fetcher
        self._pulse = pulse
        self._push_keys = push_keys
        self._push_tally = push_tally
        self._tz = tz
        self._clock = clock
        self._runner = watch_runner

    async def report(self) -> tuple[int, dict[str, Any]]:
        """The HTTP status and the JSON body."""
        pulse = self._pulse
        database: dict[str, Any] = {"writable": True}
        try:
            await self._storage.check_writable(now=self._clock())
        except StorageError as exc:
            database = {"writable": False, "error": str(exc)}
        telegram: dict[str, Any] = {
            "mode": "polling" if pulse.webhook is None else "webhook",
            "last_contact": self._moment(pulse.telegram_at),
        }
        if pulse.webhook is not None:
            telegram["webhook"] = pulse.webhook
        failing = not database["writable"] or (pulse.webhook not in (None, "set"))
        body: dict[str, Any] = {
            "status": "failing" if failing else "ok",
            "database": database,
            "telegram": telegram,
            "smsc": {
                "last_answer": self._moment(pulse.smsc_at),
                "last_outcome": pulse.smsc_outcome,
            },
            "accounts": await self._accounts(),
            "refused_pushes_for_no_account": dict(self._push_tally.of("").refused),
            "watches": await self._watches(),
        }
        return (503 if failing else 200), body

    async def _accounts(self) -> dict[str, Any] | None:
        try:
            accounts = await self._storage.list_accounts()
        except StorageError:
            return None  # said under "database"
        report: dict[str, Any] = {}
        for account, _ in accounts:
            backoff = await self._fetcher.budget.backoff_error(account.key_id)
            answered = self._fetcher.budget.last_answer(account.key_id)
            report[account.name] = {
                "last_smsc_answer": self._moment(answered[0]) if answered else None,
                "last_smsc_outcome": answered[1] if answered else None,
                "history_budget_left": await self._fetcher.quota_left(account),
                "backing_off": type(backoff).__name__ if backoff is not None else None,
                "pushes": self._pushes(account.name),
            }
        return report

    async def _watches(self) -> list[dict[str, Any]] | None:
        runner = self._runner
        if runner is None:
            return []
        try:
            watches = await WatchStore(self._storage).all_watches()
        except StorageError:
            return None  # said under "database"
        return [
            {
                "id": watch.id,
                "account": watch.account_name,
                "every": f"{watch.percent} % in {watch.minutes} min",
                "data_as_of": self._moment(runner.data_as_of(watch)),
                "current": runner.current(watch),
                "blind_since": self._moment(watch.blind_since),
                "paused_since": self._moment(watch.paused_at),
            }
            for watch in watches
        ]

    def _pushes(self, account: str) -> dict[str, Any] | None:
        if self._push_keys.get(account) is None:
            return None
        tally = self._push_tally.of(account)
        return {
            "accepted": tally.accepted,
            "last_push": self._moment(tally.last_push_at),
            "refused": dict(tally.refused),
            "last_refused": self._moment(tally.last_refused_at),
            "last_refusal": tally.last_refusal,
        }

    def _moment(self, at: float | None) -> str | None:
        if at is None:
            return None
        return datetime.fromtimestamp(at, self._tz).isoformat(timespec="seconds")

    def route(self) -> web.RouteDef:
        """``GET /healthz``."""

        async def handle(request: web.Request) -> web.Response:
            status, body = await self.report()
            return web.Response(
                status=status,
                text=json.dumps(body, ensure_ascii=False, indent=1),
                content_type="application/json",
            )

        return web.get(HEALTH_PATH, handle)
