"""A simulated SMS Center: the real HTTP protocol and limits, on 127.0.0.1, with a demo account.

Demo mode (``--demo``) and the tests talk to it exactly as they would talk to ``smsc.ru``: the
client only changes its base URL. What it implements, from ``shared/smsc-api.md``:

- ``/sys/get.php?get_messages=1`` (history), ``/sys/status.php``, ``/sys/balance.php``; GET or
  POST (form-encoded), query and form merged (the form wins on a clash); auth by ``apikey``.
- ``fmt=3`` answers JSON. Other ``fmt`` values get SMS Center's plain-text forms for errors,
  balance and status, and a simple line per message for history: enough to make a client that
  forgot ``fmt=3`` fail loudly, no more.
- Bodies are encoded windows-1251 unless ``charset=utf-8`` (or ``koi8-r``) is sent, and the
  ``Content-Type`` says which.
- Errors are ``{"error": "<description>", "error_code": N}`` with HTTP 200. Order of checks: IP
  blocked (4), credentials (2), parameters (1), limits (9). A refused request does not count
  towards any quota.
- Limits per account, on the injected clock: history — more than 3 identical requests in 60 s or
  more than 30 in 3600 s; status — more than 5 requests for one message in 60 s, more than one
  multi-message request in 60 s, 5 or more in flight at once; balance — more than 10 in 60 s, 15
  or more in flight at once. Per client IP: 5 authorisation errors within 30 min block the IP
  for 30 min (error 4, whatever key is sent).

Choices where SMS Center's pages are silent (``(check)`` items of the protocol notes):

- only ``apikey`` authorises: a missing key is error 2 and counts as an authorisation error,
  like a wrong one (``login`` + ``psw`` are not supported and get the same answer);
- ``cnt`` missing means 100 (the page states no default; clients must send it);
- a history query that matches nothing answers ``[]``; the real service might answer error 3
  instead, so ``empty_as_error3=True`` switches to ``{"error": "no messages", "error_code": 3}``;
- an unknown phone + id on ``status.php`` answers only the ``all=0`` fields with status -3,
  empty ``last_date`` and zero ``last_timestamp``;
- ``status.php`` with ``all=1``/``2`` uses the text form's key names (``sender_id``, ``comment``)
  plus ``send_timestamp`` and ``sms_cnt``; a multi-message request (comma in ``id``) answers a
  JSON array of such objects, each with ``id`` and ``phone`` added.

Beside it: ``bot.smsc.wire`` (parameters and answer bodies), ``bot.smsc.records`` (a stored
message), ``bot.smsc.demo_history`` (the demo account's data). Test doubles extend it through
:meth:`SimulatedSmsc.intercept` and :meth:`SimulatedSmsc.hold` (``tests/fakes/smsc_faults.py``).
Run it alone with ``python -m bot.smsc --port 8080``.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Self
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.smsc import records
from bot.smsc.demo_history import (
    DEMO_ACCOUNT,
    DEMO_API_KEY,
    DEMO_BALANCE,
    DEMO_NUMBERS,
    demo_messages,
)
from bot.smsc.records import History, as_int, normalise_phone
from bot.smsc.wire import (
    Refusal,
    Reply,
    date_param,
    identity,
    int_param,
    months_before,
    numbers_only,
    phone_list,
    read_params,
)

__all__ = [
    "AUTH_FAILURES_TO_BLOCK",
    "AUTH_FAILURE_WINDOW",
    "BALANCE_CONCURRENT_REFUSED_AT",
    "BALANCE_MINUTE_LIMIT",
    "DEFAULT_HISTORY_COUNT",
    "DEMO_ACCOUNT",
    "DEMO_API_KEY",
    "DEMO_BALANCE",
    "DEMO_NUMBERS",
    "HISTORY_HOURLY_LIMIT",
    "HISTORY_IDENTICAL_LIMIT",
    "IP_BLOCK_SECONDS",
    "STATUS_CONCURRENT_REFUSED_AT",
    "STATUS_PER_MESSAGE_LIMIT",
    "RecordedRequest",
    "SimulatedSmsc",
]

logger = logging.getLogger(__name__)

# SMS Center's limits (shared/smsc-api.md), all per account except the IP block.
HISTORY_IDENTICAL_LIMIT: Final = 3  # identical history requests per HISTORY_IDENTICAL_WINDOW
HISTORY_IDENTICAL_WINDOW: Final = 60.0
HISTORY_HOURLY_LIMIT: Final = 30  # history requests per HISTORY_HOURLY_WINDOW
HISTORY_HOURLY_WINDOW: Final = 3600.0
STATUS_PER_MESSAGE_LIMIT: Final = 5  # status requests for one message per minute
STATUS_MULTI_LIMIT: Final = 1  # multi-message status requests per minute
STATUS_CONCURRENT_REFUSED_AT: Final = 5  # this many simultaneous status requests is refused
BALANCE_MINUTE_LIMIT: Final = 10
BALANCE_CONCURRENT_REFUSED_AT: Final = 15
MINUTE: Final = 60.0
AUTH_FAILURES_TO_BLOCK: Final = 5
AUTH_FAILURE_WINDOW: Final = 1800.0
IP_BLOCK_SECONDS: Final = 1800.0

MAX_HISTORY_COUNT: Final = 1000
#: Used when a history request has no ``cnt``: SMS Center's page states no default.
DEFAULT_HISTORY_COUNT: Final = 100
HISTORY_MONTHS: Final = 6  # how far back ``start`` may reach

_SCRIPTS: Final = ("get", "status", "balance")


@dataclass
class RecordedRequest:
    """One request as the simulator received it, before any check.

    ``params`` merges the query string and the POST form (the form wins). ``query_string`` is
    the raw URL query, so a test can assert that a key travelled in the body, not the URL.
    """

    script: str
    params: dict[str, str]
    at: float
    method: str
    query_string: str
    remote: str = ""


@dataclass
class _Account:
    apikey: str
    balance: str
    history: History
    history_hour: deque[float] = field(default_factory=deque)
    history_identical: dict[str, deque[float]] = field(default_factory=dict)
    status_per_message: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    status_multi: deque[float] = field(default_factory=deque)
    balance_minute: deque[float] = field(default_factory=deque)
    in_flight: Counter[str] = field(default_factory=Counter)

    def reset_limits(self) -> None:
        self.history_hour.clear()
        self.history_identical.clear()
        self.status_per_message.clear()
        self.status_multi.clear()
        self.balance_minute.clear()


def _recent(times: deque[float], now: float, window: float) -> int:
    """Drop moments older than ``window`` and say how many remain (a sliding window)."""
    while times and times[0] <= now - window:
        times.popleft()
    return len(times)


class SimulatedSmsc:
    """An SMS Center HTTP server with accounts, history and limits.

    ``accounts`` maps an API key to hand-made messages in sending order (oldest first); each is
    completed like :meth:`add_message` does. With ``with_demo`` the key :data:`DEMO_API_KEY`
    gets several hundred generated messages over the days before ``clock()`` at construction,
    the same for the same ``seed`` and clock. ``tz`` is the account time zone of formatted dates
    and of ``start``/``end``. Use as ``async with SimulatedSmsc() as sim: sim.base_url``.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        seed: int = 1,
        tz: str = "Europe/Moscow",
        accounts: Mapping[str, list[dict[str, Any]]] | None = None,
        with_demo: bool = True,
        empty_as_error3: bool = False,
        cnt_per_number: bool = False,
    ) -> None:
        self._clock = clock
        self._tz = ZoneInfo(tz)
        self.empty_as_error3 = empty_as_error3
        # Whether ``cnt`` caps each number of a ``phone`` list rather than the whole answer:
        # SMS Center's page does not say, so the bot is tested under both readings.
        self.cnt_per_number = cnt_per_number
        self.requests: list[RecordedRequest] = []
        self.refused: Counter[tuple[str, int]] = Counter()  # error answers by (script, code)
        self._accounts: dict[str, _Account] = {}
        self._auth_failures: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port: int | None = None
        if with_demo:
            self.add_account(DEMO_API_KEY, balance=DEMO_BALANCE)
            for fields in demo_messages(random.Random(seed), self._clock(), self._tz):
                self._accounts[DEMO_API_KEY].history.append(fields, self._clock())
        for apikey, messages in (accounts or {}).items():
            self.add_account(apikey, messages)
        self.app = web.Application()
        for script in _SCRIPTS:
            handler = self._handler(script)
            self.app.router.add_route("GET", f"/sys/{script}.php", handler)
            self.app.router.add_route("POST", f"/sys/{script}.php", handler)

    # --- accounts and data -------------------------------------------------------------------

    def add_account(
        self, apikey: str, messages: list[dict[str, Any]] | None = None, balance: str = "100.00"
    ) -> None:
        """Create (or replace) an account; ``messages`` are in sending order, oldest first."""
        account = _Account(apikey=apikey, balance=balance, history=History(self._tz))
        self._accounts[apikey] = account
        for fields in messages or ():
            account.history.append(fields, self._clock())

    def add_message(self, apikey: str, **fields: Any) -> dict[str, Any]:
        """Append a message as the account's newest and return it as history would show it.

        Missing fields get defaults, see :meth:`bot.smsc.records.History.append`.
        """
        record = self._account(apikey).history.append(fields, self._clock())
        return records.public(record)

    def set_balance(self, apikey: str, balance: str) -> None:
        """Change what ``balance.php`` answers for ``apikey``."""
        self._account(apikey).balance = balance

    def messages(self, apikey: str = DEMO_API_KEY) -> list[dict[str, Any]]:
        """The account's whole history as ``get.php`` would return it: newest first, copies."""
        account = self._account(apikey)
        account.history.settle(self._clock())
        return [records.public(record) for record in account.history.newest_first()]

    def count(self, script: str | None = None, apikey: str | None = None) -> int:
        """How many requests arrived (refused and intercepted ones too), optionally filtered."""
        return sum(
            1
            for request in self.requests
            if (script is None or request.script == script)
            and (apikey is None or request.params.get("apikey") == apikey)
        )

    def in_flight(self, script: str, apikey: str = DEMO_API_KEY) -> int:
        """Requests of ``script`` under ``apikey`` being answered right now (e.g. held)."""
        return self._account(apikey).in_flight[script]

    def reset_limits(self) -> None:
        """Forget every quota, authorisation failure and IP block (the data stays)."""
        for account in self._accounts.values():
            account.reset_limits()
        self._auth_failures.clear()
        self._blocked_until.clear()

    def _account(self, apikey: str) -> _Account:
        try:
            return self._accounts[apikey]
        except KeyError:
            raise KeyError("no such simulated account") from None

    # --- server lifecycle --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._port is None:
            raise RuntimeError("the simulator is not started")
        return f"http://{self._host}:{self._port}"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0: the OS picks) and return the base URL."""
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        # A short shutdown timeout: stop() must not wait out a request held by hold().
        runner = web.AppRunner(self.app, shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._host = host
        self._port = int(runner.addresses[0][1])
        logger.debug("simulated SMS Center listening on %s", self.base_url)
        return self.base_url

    async def stop(self) -> None:
        """Stop listening and close every connection; the data stays."""
        runner, self._runner = self._runner, None
        self._port = None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- requests ----------------------------------------------------------------------------

    def _handler(self, script: str) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._handle(script, request)

        return handle

    async def _handle(self, script: str, request: web.Request) -> web.StreamResponse:
        params = await read_params(request)
        now = self._clock()
        remote = request.remote or "unknown"
        self.requests.append(
            RecordedRequest(script, params, now, request.method, request.query_string, remote)
        )
        logger.debug("%s %s.php from %s", request.method, script, remote)
        reply = Reply(params)
        replaced = await self.intercept(script, request, reply)
        if replaced is not None:
            return replaced
        # From the record to the in-flight increment nothing suspends: a request that has been
        # recorded is already counted as in flight by the next one to arrive.
        try:
            account = self._authorise(params, remote, now)
            answer = self._admit(script, account, params, now)
        except Refusal as refusal:
            self.refused[(script, refusal.code)] += 1
            return reply.error(refusal.code, refusal.description)
        account.in_flight[script] += 1
        try:
            await self.hold(script, request)
            account.history.settle(self._clock())
            payload, text = answer()
        except Refusal as refusal:
            self.refused[(script, refusal.code)] += 1
            return reply.error(refusal.code, refusal.description)
        finally:
            account.in_flight[script] -= 1
        return reply.data(payload, text)

    async def intercept(
        self, script: str, request: web.Request, reply: Reply
    ) -> web.StreamResponse | None:
        """Extension seam for test doubles: an answer to send instead of SMS Center's, or None.

        Called once per recorded request of ``script`` (``get``, ``status``, ``balance``),
        before any check; ``reply`` writes in the format and charset the request asked for. An
        answer returned touches no account, quota or IP block. Returning ``None``, it must not
        have suspended: a recorded request is counted as in flight before the next one is
        looked at. The simulator itself lets every request through.
        """
        return None

    async def hold(self, script: str, request: web.Request) -> None:
        """Extension seam for test doubles: awaited while an admitted request counts as in
        flight (what the concurrency limits see), before its answer is computed. The simulator
        itself answers at once."""

    def _authorise(self, params: Mapping[str, str], remote: str, now: float) -> _Account:
        blocked_until = self._blocked_until.get(remote)
        if blocked_until is not None:
            if now < blocked_until:
                raise Refusal(4)
            del self._blocked_until[remote]
        account = self._accounts.get(params.get("apikey", "").strip())
        if account is not None:
            return account
        failures = self._auth_failures.setdefault(remote, deque())
        _recent(failures, now, AUTH_FAILURE_WINDOW)
        failures.append(now)
        if len(failures) >= AUTH_FAILURES_TO_BLOCK:
            logger.info("simulated SMS Center blocks %s for %.0f s", remote, IP_BLOCK_SECONDS)
            self._blocked_until[remote] = now + IP_BLOCK_SECONDS
            failures.clear()
        raise Refusal(2)

    def _admit(
        self, script: str, account: _Account, params: Mapping[str, str], now: float
    ) -> Callable[[], tuple[Any, str]]:
        """Validate and apply the limits; return what computes the answer (after :meth:`hold`)."""
        if script == "get":
            return self._admit_history(account, params, now)
        if script == "status":
            return self._admit_status(account, params, now)
        return self._admit_balance(account, now)

    def _admit_history(
        self, account: _Account, params: Mapping[str, str], now: float
    ) -> Callable[[], tuple[Any, str]]:
        if params.get("get_messages", "").strip() != "1":
            raise Refusal(1)
        cnt = int_param(params, "cnt", DEFAULT_HISTORY_COUNT)
        if not 1 <= cnt <= MAX_HISTORY_COUNT:
            raise Refusal(1)
        prev_id = int_param(params, "prev_id", None) if params.get("prev_id", "").strip() else None
        message_format = int_param(params, "format", 0)
        raw_phones = params.get("phone", "")
        phones = phone_list(raw_phones) if raw_phones.strip() else None
        if phones is not None and (not phones or not numbers_only(raw_phones)):
            raise Refusal(1)  # something was sent that is not a list of numbers
        today = datetime.fromtimestamp(now, self._tz).date()
        start = date_param(params, "start")
        end = date_param(params, "end")
        if start is not None and start < months_before(today, HISTORY_MONTHS):
            raise Refusal(1, "parameters error: start is more than six months ago")

        identical = account.history_identical.setdefault(identity(params), deque())
        if _recent(identical, now, HISTORY_IDENTICAL_WINDOW) >= HISTORY_IDENTICAL_LIMIT:
            raise Refusal(9, "duplicate request, wait a minute")
        if _recent(account.history_hour, now, HISTORY_HOURLY_WINDOW) >= HISTORY_HOURLY_LIMIT:
            raise Refusal(9, "too many requests, wait an hour")
        identical.append(now)
        account.history_hour.append(now)

        def answer() -> tuple[Any, str]:
            found: list[dict[str, Any]] = []
            if message_format == 8:  # e-mail history: this simulator sends no e-mail
                return self._history_answer(found)
            per_number: Counter[str] = Counter()
            for record in account.history.newest_first():
                if prev_id is not None and as_int(record["int_id"]) >= prev_id:
                    continue
                number = normalise_phone(str(record["phone"]))
                if phones is not None and number not in phones:
                    continue
                sent = datetime.fromtimestamp(as_int(record["send_timestamp"]), self._tz).date()
                if (start is not None and sent < start) or (end is not None and sent > end):
                    continue
                if self.cnt_per_number and phones is not None:
                    # The other reading of ``cnt`` for a list: up to cnt rows for each number.
                    if per_number[number] >= cnt:
                        continue
                    per_number[number] += 1
                    found.append(records.public(record))
                    continue
                found.append(records.public(record))
                if len(found) >= cnt:
                    break
            return self._history_answer(found)

        return answer

    def _history_answer(self, found: list[dict[str, Any]]) -> tuple[Any, str]:
        # Real SMS Center may answer error 3 here instead of [] (unconfirmed): a switch.
        if not found and self.empty_as_error3:
            raise Refusal(3)
        text = "\n".join(
            f"{m['send_date']}, {m['phone']}, status = {m['status']}, err = {m['err']}, "
            f"id = {m['id']}, int_id = {m['int_id']}"
            for m in found
        )
        return found, text

    def _admit_status(
        self, account: _Account, params: Mapping[str, str], now: float
    ) -> Callable[[], tuple[Any, str]]:
        if account.in_flight["status"] + 1 >= STATUS_CONCURRENT_REFUSED_AT:
            raise Refusal(9, "too many concurrent requests")
        raw_phones = params.get("phone", "")
        raw_ids = params.get("id", "")
        multi = "," in raw_phones or "," in raw_ids
        phones = [normalise_phone(p) for p in raw_phones.split(",")]
        ids = [i.strip() for i in raw_ids.split(",")]
        if multi:  # the trailing-comma form: "79…," asks for one message in the multi format
            phones = phones[:-1] if phones and not phones[-1] else phones
            ids = ids[:-1] if ids and not ids[-1] else ids
        if not phones or len(phones) != len(ids) or not all(phones) or not all(ids):
            raise Refusal(1)
        detail = params.get("all", "0").strip() or "0"
        if detail not in {"0", "1", "2"}:
            raise Refusal(1)
        if params.get("del", "").strip() == "1":
            raise Refusal(5)  # this simulator never deletes
        if multi:
            if _recent(account.status_multi, now, MINUTE) >= STATUS_MULTI_LIMIT:
                raise Refusal(9, "too many requests")
            account.status_multi.append(now)
        else:
            seen = account.status_per_message.setdefault((phones[0], ids[0]), deque())
            if _recent(seen, now, MINUTE) >= STATUS_PER_MESSAGE_LIMIT:
                raise Refusal(9, "too many requests")
            seen.append(now)

        def answer() -> tuple[Any, str]:
            results = [
                records.status_answer(account.history.find(p, i), int(detail))
                for p, i in zip(phones, ids, strict=True)
            ]
            lines = [
                f"Status = {r['status']}, check_time = {r['last_date']}, err = {r['err']}"
                for r in results
            ]
            if multi:
                listed = [
                    {"id": i, "phone": p, **r} for p, i, r in zip(phones, ids, results, strict=True)
                ]
                return listed, "\n".join(lines)
            return results[0], lines[0]

        return answer

    def _admit_balance(self, account: _Account, now: float) -> Callable[[], tuple[Any, str]]:
        if account.in_flight["balance"] + 1 >= BALANCE_CONCURRENT_REFUSED_AT:
            raise Refusal(9, "too many concurrent requests")
        if _recent(account.balance_minute, now, MINUTE) >= BALANCE_MINUTE_LIMIT:
            raise Refusal(9, "too many requests")
        account.balance_minute.append(now)
        return lambda: ({"balance": account.balance}, account.balance)
