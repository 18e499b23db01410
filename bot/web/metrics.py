"""``GET /metrics``: the bot's Prometheus metrics, in a registry of its own (PRODUCT.md §9).

Every metric is named ``smsbot_…``. Labels are bounded, and an account appears at most by its
name (the admin's slug); a key, a key's fingerprint, a secret, a phone number or a message text
is never a label or a value. What each metric counts:

- ``smsbot_smsc_requests_total{call, outcome}``: requests to SMS Center by script (``get``,
  ``status``, ``balance``) and outcome (``ok``, ``error_<code>`` for SMS Center's own error
  answers, ``http_<status>``, ``timeout``, ``connect_error``, ``network_error``);
- ``smsbot_smsc_request_seconds{call}``: how long they took;
- ``smsbot_history_budget_left{account}``: history requests the account may still make this
  hour (read when scraped);
- ``smsbot_updates_total{outcome}`` and ``smsbot_update_seconds``: Telegram updates handled
  (``handled``, ``unhandled``, ``error``) and the time each took;
- ``smsbot_answers_total{origin}``: lookups answered, by where the data came from (``fresh``:
  asked now; ``cache``: held and younger than CACHE_TTL; ``stale``: older data held, a request
  being held back; ``pending``: batched, the answer edited in when it lands; ``pushed``: the
  status shown came in SMS Center's push; ``refused``);
- ``smsbot_telegram_calls_total{outcome}``: Bot API calls by final outcome, and
  ``smsbot_telegram_attempts_total{outcome}``: every attempt, retries included (``ok``,
  ``too_many_requests`` for 429, ``server_error``, ``network_error``, ``refused``); the
  difference of the two is the retries;
- ``smsbot_pushes_total{account, kind}``: verified pushes from SMS Center (``status``,
  ``incoming``, ``other``), and ``smsbot_push_refusals_total{account, reason}``: refused ones
  (``unknown_account``, ``unsigned``, ``bad_signature``, ``too_large``); ``account`` is empty
  for a request naming no known account (the path's name is never a label: anyone can make
  one up); ``smsbot_relays_total{account, outcome}``: verified pushes passed on to another
  system (``ok``, ``failed`` after the retries, ``bad_url``);
- ``smsbot_watches{account}``: on-call watches not paused, and ``smsbot_incidents_open{account}``:
  their incidents still open (both read when scraped); ``smsbot_watch_messages_total{account,
  kind}``: what the watches sent to their chats (``alert``, ``repeat``, ``resolved``, ``blind``,
  ``seeing``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.fetch import Fetcher
from bot.store import Storage, StorageError, Watch, WatchStore
from bot.watch import Alert, Blind, Event, Resolved

METRICS_PATH = "/metrics"


class Metrics:
    """The bot's metrics in their own ``CollectorRegistry`` (never the process-global one, so
    that every bot a test builds counts for itself)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.smsc_requests = Counter(
            "smsbot_smsc_requests", "Requests to SMS Center", ["call", "outcome"], registry=r
        )
        self.smsc_seconds = Histogram(
            "smsbot_smsc_request_seconds",
            "Time of one SMS Center request",
            ["call"],
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.budget_left = Gauge(
            "smsbot_history_budget_left",
            "History requests the account may still make in the sliding hour",
            ["account"],
            registry=r,
        )
        self.updates = Counter(
            "smsbot_updates", "Telegram updates handled", ["outcome"], registry=r
        )
        self.update_seconds = Histogram(
            "smsbot_update_seconds",
            "Time to handle one Telegram update",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.answers = Counter(
            "smsbot_answers", "Lookups answered, by where the data came from", ["origin"],
            registry=r,
        )  # fmt: skip
        self.telegram_calls = Counter(
            "smsbot_telegram_calls", "Bot API calls by final outcome", ["outcome"], registry=r
        )
        self.telegram_attempts = Counter(
            "smsbot_telegram_attempts",
            "Bot API call attempts, retries included",
            ["outcome"],
            registry=r,
        )

        self.pushes = Counter(
            "smsbot_pushes", "Verified pushes from SMS Center", ["account", "kind"], registry=r
        )
        self.push_refusals = Counter(
            "smsbot_push_refusals", "Refused pushes by reason", ["account", "reason"], registry=r
        )

        self.relays = Counter(
            "smsbot_relays", "Pushes relayed to another system", ["account", "outcome"],
            registry=r,
        )  # fmt: skip

        self.watches = Gauge(
            "smsbot_watches", "On-call watches not paused", ["account"], registry=r
        )
        self.incidents_open = Gauge(
            "smsbot_incidents_open", "Open incidents of on-call watches", ["account"], registry=r
        )
        self.watch_messages = Counter(
            "smsbot_watch_messages", "Messages the on-call watches sent", ["account", "kind"],
            registry=r,
        )  # fmt: skip

    def watch_sent(self, watch: Watch, event: Event) -> None:
        """A watch sent ``event`` to its chat (``bot.watch.runner.Sent``)."""
        if isinstance(event, Alert):
            kind = "repeat" if event.repeat else "alert"
        elif isinstance(event, Resolved):
            kind = "resolved"
        else:
            kind = "blind" if isinstance(event, Blind) else "seeing"
        self.watch_messages.labels(account=watch.account_name, kind=kind).inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


def metrics_route(metrics: Metrics, storage: Storage, fetcher: Fetcher) -> web.RouteDef:
    """``GET /metrics``; the gauges read at scrape time are refreshed first."""

    async def refresh() -> None:
        try:
            accounts = await storage.list_accounts()
        except StorageError:
            return  # the rest is still worth scraping; /healthz says what is wrong
        metrics.budget_left.clear()
        for account, _ in accounts:
            metrics.budget_left.labels(account=account.name).set(await fetcher.quota_left(account))
        await _count_watches(metrics, WatchStore(storage))

    return web.get(METRICS_PATH, _handler(metrics, refresh))


async def _count_watches(metrics: Metrics, store: WatchStore) -> None:
    """The watches not paused and their open incidents, by account."""
    try:
        watches = await store.all_watches()
        watching: dict[str, int] = {}
        incidents: dict[str, int] = {}
        for watch in watches:
            if watch.paused_at is not None:
                continue
            name = watch.account_name
            watching[name] = watching.get(name, 0) + 1
            opened = await store.open_incident(watch.id) is not None
            incidents[name] = incidents.get(name, 0) + opened
    except StorageError:
        return
    metrics.watches.clear()
    metrics.incidents_open.clear()
    for name, count in watching.items():
        metrics.watches.labels(account=name).set(count)
        metrics.incidents_open.labels(account=name).set(incidents[name])


def _handler(
    metrics: Metrics, refresh: Callable[[], Awaitable[None]]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        await refresh()
        response = web.Response(body=metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    return handle
