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

Test switches: :class:`Faults` (HTTP errors, malformed bodies, forced error codes, delays) and
:meth:`SimulatedSmsc.refuse` / :meth:`SimulatedSmsc.resume` (connection refused on the same
port). Run standalone with ``python -m bot.smsc.simulator --port 8080``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import random
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http import HTTPStatus
from types import MappingProxyType, TracebackType
from typing import Any, Final, Literal, Self
from zoneinfo import ZoneInfo

from aiohttp import web

__all__ = [
    "AUTH_FAILURES_TO_BLOCK",
    "AUTH_FAILURE_WINDOW",
    "BALANCE_CONCURRENT_REFUSED_AT",
    "BALANCE_MINUTE_LIMIT",
    "DEFAULT_HISTORY_COUNT",
    "DEMO_API_KEY",
    "DEMO_BALANCE",
    "DEMO_NUMBERS",
    "HISTORY_HOURLY_LIMIT",
    "HISTORY_IDENTICAL_LIMIT",
    "IP_BLOCK_SECONDS",
    "STATUS_CONCURRENT_REFUSED_AT",
    "STATUS_NAMES_RU",
    "STATUS_PER_MESSAGE_LIMIT",
    "Faults",
    "RecordedRequest",
    "SimulatedSmsc",
]

logger = logging.getLogger(__name__)

#: The demo account's key: a published constant, not a secret (it opens nothing but this server).
DEMO_ACCOUNT: Final = "demo"  # the name the demo registers its account under
DEMO_API_KEY: Final = "demo7f3a9c2e41b84d0e9a6c5b1f2e8d4c"
DEMO_BALANCE: Final = "1843.20"

#: Numbers of the demo account worth trying, and what their newest message shows.
DEMO_NUMBERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "79161234567": "delivered code (status 1)",
        "79031112233": "failed: subscriber offline (status 20, err 6), temporary",
        "79095550011": "failed: subscriber does not exist (status 20, err 1), permanent",
        "79772223344": "passed to the operator, no delivery report yet (status 0)",
        "79257654321": "long history (36 messages), newest delivered",
    }
)

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
#: How far back ``start`` may reach.
HISTORY_MONTHS: Final = 6

#: ``status_name`` as an account whose language is Russian receives it.
STATUS_NAMES_RU: Final[Mapping[int, str]] = MappingProxyType(
    {
        -3: "Сообщение не найдено",
        -2: "Остановлено",
        -1: "Ожидает отправки",
        0: "Передано оператору",
        1: "Доставлено",
        2: "Прочитано",
        3: "Просрочено",
        4: "Нажата ссылка",
        20: "Невозможно доставить",
        22: "Неверный номер",
        23: "Запрещено",
        24: "Недостаточно средств",
        25: "Недоступный номер",
    }
)

_ERROR_DESCRIPTIONS: Final[Mapping[int, str]] = MappingProxyType(
    {
        1: "parameters error",
        2: "authorise error",
        3: "no messages",
        4: "IP is blocked",
        5: "delete error",
        9: "too many requests",
    }
)

_SCRIPTS: Final = ("get", "status", "balance")
_CREDENTIALS: Final = frozenset({"apikey", "login", "psw"})
_CHARSETS: Final[Mapping[str, str]] = MappingProxyType(
    {"utf-8": "utf-8", "utf8": "utf-8", "koi8-r": "koi8-r", "koi8r": "koi8-r"}
)
_DEFAULT_CHARSET: Final = "windows-1251"

# The order of a history object's keys, as the protocol lists them.
_WIRE_FIELDS: Final = (
    "status",
    "last_date",
    "last_timestamp",
    "err",
    "send_date",
    "send_timestamp",
    "phone",
    "country",
    "operator",
    "region",
    "type",
    "cost",
    "sender",
    "status_name",
    "message",
    "mccmnc",
    "id",
    "int_id",
    "sms_cnt",
    "format",
    "crc",
)
# Kept beside a message but never sent in history: status.php's ``comment``, and a pending change
# of status (``(at, status, err)``) that makes in-progress demo messages settle as time passes.
_COMMENT: Final = "_comment"
_SETTLE: Final = "_settle"

MalformedKind = Literal["html", "truncated", "wrong_shape", "bad_types"]
_MALFORMED_KINDS: Final = frozenset({"html", "truncated", "wrong_shape", "bad_types"})


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
class Faults:
    """Switches that make the simulator misbehave; all off by default.

    Precedence when several are set: ``http_status``, then ``malformed``, then ``error_code``.
    ``delay`` applies on its own too: a normal answer comes after the sleep, and the request
    counts as in flight meanwhile (what the concurrency limits see). A faulted answer never
    touches accounts, quotas or the IP block. ``only`` restricts every switch to one script;
    ``times`` switches all faults off after that many affected requests (``None``: until reset).
    """

    http_status: int | None = None
    malformed: MalformedKind | None = None
    error_code: int | None = None
    delay: float = 0.0
    only: str | None = None
    times: int | None = None

    def applies_to(self, script: str) -> bool:
        """Whether any switch is on for ``script``."""
        if self.only is not None and self.only != script:
            return False
        return self.replaces_answer() or self.delay > 0

    def replaces_answer(self) -> bool:
        """Whether the answer is canned (an HTTP error, a broken body or a forced error code)."""
        return (
            self.http_status is not None
            or self.malformed is not None
            or self.error_code is not None
        )


class _Refusal(Exception):
    """An SMS Center error answer: raised inside a request, turned into the error body."""

    def __init__(self, code: int, description: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.description = description or _ERROR_DESCRIPTIONS.get(code, "error")


@dataclass
class _Account:
    apikey: str
    balance: str
    messages: list[dict[str, Any]] = field(default_factory=list)  # oldest first (int_id order)
    top_int_id: int = 1_000_000  # the highest int_id and id so far: the next message gets +1
    top_id: int = 0
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


class _Reply:
    """Builds answers in the format and charset a request asked for."""

    def __init__(self, params: Mapping[str, str]) -> None:
        self.fmt = params.get("fmt", "0").strip()
        self.charset = _CHARSETS.get(params.get("charset", "").strip().lower(), _DEFAULT_CHARSET)

    @property
    def json(self) -> bool:
        return self.fmt == "3"

    def body(self, text: str, content_type: str, status: int = 200) -> web.Response:
        # Characters the charset lacks become "?", as a legacy-encoded service would send them.
        data = text.encode(self.charset, errors="replace")
        return web.Response(
            body=data,
            status=status,
            headers={"Content-Type": f"{content_type}; charset={self.charset}"},
        )

    def data(self, payload: Any, text: str) -> web.Response:
        if self.json:
            return self.body(json.dumps(payload, ensure_ascii=False), "application/json")
        return self.body(text, "text/plain")

    def error(self, code: int, description: str) -> web.Response:
        if self.json:
            return self.data({"error": description, "error_code": code}, "")
        if self.fmt == "1":
            return self.body(f"0,-{code}", "text/plain")
        if self.fmt == "2":
            xml = f"<result><error>{description}</error><error_code>{code}</error_code></result>"
            return self.body(xml, "text/xml")
        return self.body(f"ERROR = {code} ({description})", "text/plain")


class SimulatedSmsc:
    """An SMS Center HTTP server with accounts, history, limits and fault switches.

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
    ) -> None:
        self._clock = clock
        self._tz = ZoneInfo(tz)
        self.faults = Faults()
        self.empty_as_error3 = empty_as_error3
        self.requests: list[RecordedRequest] = []
        self._accounts: dict[str, _Account] = {}
        self._auth_failures: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port: int | None = None
        if with_demo:
            self.add_account(DEMO_API_KEY, balance=DEMO_BALANCE)
            for fields in _demo_messages(random.Random(seed), self._clock(), self._tz):
                self._append(self._accounts[DEMO_API_KEY], fields)
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
        account = _Account(apikey=apikey, balance=balance)
        self._accounts[apikey] = account
        for fields in messages or ():
            self._append(account, dict(fields))

    def add_message(self, apikey: str, **fields: Any) -> dict[str, Any]:
        """Append a message as the account's newest and return it as history would show it.

        Missing fields get sane defaults: phone ``79990000001``, status 1, err 0, a code text,
        sender ``SMSC.RU``; operator, region and mccmnc from the number's prefix; cost from the
        operator's price and the number of parts; ``send_timestamp`` now, ``last_timestamp``
        equal to it; dates formatted in the account time zone; ``int_id`` and ``id`` one above
        the account's highest. Given values are kept as given (a test may pass ``"1"`` where
        SMS Center usually sends ``1``). ``comment`` sets status.php's comment.
        """
        record = self._append(self._account(apikey), fields)
        return _public(record)

    def set_balance(self, apikey: str, balance: str) -> None:
        """Change what ``balance.php`` answers for ``apikey``."""
        self._account(apikey).balance = balance

    def messages(self, apikey: str = DEMO_API_KEY) -> list[dict[str, Any]]:
        """The account's whole history as ``get.php`` would return it: newest first, copies."""
        account = self._account(apikey)
        self._settle(account, self._clock())
        return [_public(record) for record in reversed(account.messages)]

    def count(self, script: str | None = None, apikey: str | None = None) -> int:
        """How many requests arrived (refused and faulted ones included), optionally filtered."""
        return sum(
            1
            for request in self.requests
            if (script is None or request.script == script)
            and (apikey is None or request.params.get("apikey") == apikey)
        )

    def in_flight(self, script: str, apikey: str = DEMO_API_KEY) -> int:
        """Requests of ``script`` under ``apikey`` being answered right now (e.g. in a delay)."""
        return self._account(apikey).in_flight[script]

    def reset_limits(self) -> None:
        """Forget every quota, authorisation failure and IP block (data and faults stay)."""
        for account in self._accounts.values():
            account.reset_limits()
        self._auth_failures.clear()
        self._blocked_until.clear()

    def _account(self, apikey: str) -> _Account:
        try:
            return self._accounts[apikey]
        except KeyError:
            raise KeyError("no such simulated account") from None

    def _append(self, account: _Account, fields: Mapping[str, Any]) -> dict[str, Any]:
        record = _complete(fields, account, self._clock(), self._tz)
        account.messages.append(record)
        account.top_int_id = max(account.top_int_id, _as_int(record["int_id"]))
        account.top_id = max(account.top_id, _as_int(record["id"]))
        # History is ordered by int_id; hand-made data may give int_ids out of order.
        if len(account.messages) > 1 and _as_int(account.messages[-2]["int_id"]) > _as_int(
            record["int_id"]
        ):
            account.messages.sort(key=lambda message: _as_int(message["int_id"]))
        return record

    def _settle(self, account: _Account, now: float) -> None:
        for record in account.messages:
            pending = record.get(_SETTLE)
            if pending is not None and pending[0] <= now:
                at, status, err = pending
                record.update(
                    status=status,
                    err=err,
                    last_timestamp=at,
                    last_date=_format_date(at, self._tz),
                    status_name=STATUS_NAMES_RU.get(status, ""),
                )
                del record[_SETTLE]

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
        # A short shutdown timeout: stop() must not wait out a long fault delay.
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
        await self._close()
        self._port = None

    async def refuse(self) -> None:
        """Close the listening socket and open connections: clients get "connection refused"."""
        if self._runner is None:
            raise RuntimeError("the simulator is not started")
        await self._close()

    async def resume(self) -> str:
        """Listen again on the port :meth:`refuse` closed."""
        if self._port is None:
            raise RuntimeError("the simulator was never started")
        if self._runner is not None:
            return self.base_url
        return await self.start(self._host, self._port)

    async def _close(self) -> None:
        runner, self._runner = self._runner, None
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
        params = dict(request.query)
        if request.method == "POST":
            form = await request.post()
            params.update((key, value) for key, value in form.items() if isinstance(value, str))
        now = self._clock()
        remote = request.remote or "unknown"
        self.requests.append(
            RecordedRequest(script, params, now, request.method, request.query_string, remote)
        )
        logger.debug("%s %s.php from %s", request.method, script, remote)
        reply = _Reply(params)
        faults = self._take_faults(script)
        if faults is not None and faults.replaces_answer():
            if faults.delay > 0:
                await asyncio.sleep(faults.delay)
            return _faulted(faults, script, reply)
        # From here to the in-flight increment nothing awaits: a request that has been recorded
        # is already counted as in flight by the next one to arrive.
        try:
            account = self._authorise(params, remote, now)
            answer = self._admit(script, account, params, now)
        except _Refusal as refusal:
            return reply.error(refusal.code, refusal.description)
        account.in_flight[script] += 1
        try:
            if faults is not None and faults.delay > 0:
                await asyncio.sleep(faults.delay)
            self._settle(account, self._clock())
            payload, text = answer()
        except _Refusal as refusal:
            return reply.error(refusal.code, refusal.description)
        finally:
            account.in_flight[script] -= 1
        return reply.data(payload, text)

    def _take_faults(self, script: str) -> Faults | None:
        faults = self.faults
        if not faults.applies_to(script):
            return None
        if faults.malformed is not None and faults.malformed not in _MALFORMED_KINDS:
            raise ValueError(f"unknown malformed kind {faults.malformed!r}")
        if faults.times is not None:
            faults.times -= 1
            if faults.times <= 0:
                self.faults = Faults()
        return dataclasses.replace(faults)

    def _authorise(self, params: Mapping[str, str], remote: str, now: float) -> _Account:
        blocked_until = self._blocked_until.get(remote)
        if blocked_until is not None:
            if now < blocked_until:
                raise _Refusal(4)
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
        raise _Refusal(2)

    def _admit(
        self, script: str, account: _Account, params: Mapping[str, str], now: float
    ) -> Callable[[], tuple[Any, str]]:
        """Validate and apply the limits; return what computes the answer (after any delay)."""
        if script == "get":
            return self._admit_history(account, params, now)
        if script == "status":
            return self._admit_status(account, params, now)
        return self._admit_balance(account, now)

    def _admit_history(
        self, account: _Account, params: Mapping[str, str], now: float
    ) -> Callable[[], tuple[Any, str]]:
        if params.get("get_messages", "").strip() != "1":
            raise _Refusal(1)
        cnt = _int_param(params, "cnt", DEFAULT_HISTORY_COUNT)
        if not 1 <= cnt <= MAX_HISTORY_COUNT:
            raise _Refusal(1)
        prev_id = _int_param(params, "prev_id", None) if params.get("prev_id", "").strip() else None
        message_format = _int_param(params, "format", 0)
        raw_phones = params.get("phone", "")
        phones = _phone_list(raw_phones) if raw_phones.strip() else None
        if phones is not None and (not phones or not _numbers_only(raw_phones)):
            raise _Refusal(1)  # something was sent that is not a list of numbers
        today = datetime.fromtimestamp(now, self._tz).date()
        start = _date_param(params, "start")
        end = _date_param(params, "end")
        if start is not None and start < _months_before(today, HISTORY_MONTHS):
            raise _Refusal(1, "parameters error: start is more than six months ago")

        identical = account.history_identical.setdefault(_identity(params), deque())
        if _recent(identical, now, HISTORY_IDENTICAL_WINDOW) >= HISTORY_IDENTICAL_LIMIT:
            raise _Refusal(9, "duplicate request, wait a minute")
        if _recent(account.history_hour, now, HISTORY_HOURLY_WINDOW) >= HISTORY_HOURLY_LIMIT:
            raise _Refusal(9, "too many requests, wait an hour")
        identical.append(now)
        account.history_hour.append(now)

        def answer() -> tuple[Any, str]:
            found: list[dict[str, Any]] = []
            if message_format == 8:  # e-mail history: this simulator sends no e-mail
                return self._history_answer(found)
            for record in reversed(account.messages):
                if prev_id is not None and _as_int(record["int_id"]) >= prev_id:
                    continue
                if phones is not None and _normalise_phone(str(record["phone"])) not in phones:
                    continue
                sent = datetime.fromtimestamp(_as_int(record["send_timestamp"]), self._tz).date()
                if (start is not None and sent < start) or (end is not None and sent > end):
                    continue
                found.append(_public(record))
                if len(found) >= cnt:
                    break
            return self._history_answer(found)

        return answer

    def _history_answer(self, found: list[dict[str, Any]]) -> tuple[Any, str]:
        # Real SMS Center may answer error 3 here instead of [] (unconfirmed): a switch.
        if not found and self.empty_as_error3:
            raise _Refusal(3)
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
            raise _Refusal(9, "too many concurrent requests")
        raw_phones = params.get("phone", "")
        raw_ids = params.get("id", "")
        multi = "," in raw_phones or "," in raw_ids
        phones = [_normalise_phone(p) for p in raw_phones.split(",")]
        ids = [i.strip() for i in raw_ids.split(",")]
        if multi:  # the trailing-comma form: "79…," asks for one message in the multi format
            phones = phones[:-1] if phones and not phones[-1] else phones
            ids = ids[:-1] if ids and not ids[-1] else ids
        if not phones or len(phones) != len(ids) or not all(phones) or not all(ids):
            raise _Refusal(1)
        detail = params.get("all", "0").strip() or "0"
        if detail not in {"0", "1", "2"}:
            raise _Refusal(1)
        if params.get("del", "").strip() == "1":
            raise _Refusal(5)  # this simulator never deletes
        if multi:
            if _recent(account.status_multi, now, MINUTE) >= STATUS_MULTI_LIMIT:
                raise _Refusal(9, "too many requests")
            account.status_multi.append(now)
        else:
            seen = account.status_per_message.setdefault((phones[0], ids[0]), deque())
            if _recent(seen, now, MINUTE) >= STATUS_PER_MESSAGE_LIMIT:
                raise _Refusal(9, "too many requests")
            seen.append(now)

        def answer() -> tuple[Any, str]:
            results = [
                self._status_of(account, p, i, int(detail))
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

    def _status_of(self, account: _Account, phone: str, message_id: str, detail: int) -> Any:
        record = next(
            (
                r
                for r in reversed(account.messages)
                if _normalise_phone(str(r["phone"])) == phone and str(r["id"]).strip() == message_id
            ),
            None,
        )
        if record is None:
            return {"status": -3, "last_date": "", "last_timestamp": 0, "flag": 0, "err": 0}
        answer: dict[str, Any] = {
            "status": record["status"],
            "last_date": record["last_date"],
            "last_timestamp": record["last_timestamp"],
            "flag": 0,
            "err": record["err"],
        }
        if detail >= 1:
            answer.update(
                send_date=record["send_date"],
                send_timestamp=record["send_timestamp"],
                phone=record["phone"],
                cost=record["cost"],
                sender_id=record["sender"],
                status_name=record["status_name"],
                message=record["message"],
                comment=record.get(_COMMENT, ""),
                type=record["type"],
                sms_cnt=record["sms_cnt"],
            )
        if detail >= 2:
            answer.update(
                country=record["country"], operator=record["operator"], region=record["region"]
            )
        return answer

    def _admit_balance(self, account: _Account, now: float) -> Callable[[], tuple[Any, str]]:
        if account.in_flight["balance"] + 1 >= BALANCE_CONCURRENT_REFUSED_AT:
            raise _Refusal(9, "too many concurrent requests")
        if _recent(account.balance_minute, now, MINUTE) >= BALANCE_MINUTE_LIMIT:
            raise _Refusal(9, "too many requests")
        account.balance_minute.append(now)
        return lambda: ({"balance": account.balance}, account.balance)


# --- faults ----------------------------------------------------------------------------------

_TRUNCATED: Final[Mapping[str, str]] = MappingProxyType(
    {
        "get": '[{"status":1,"last_date":"24.11.2025 10:15:02","last_timestamp":17639',
        "status": '{"status":1,"last_date":"24.11.20',
        "balance": '{"balance":"18',
    }
)
_WRONG_SHAPE: Final[Mapping[str, Any]] = MappingProxyType(
    {
        "get": {"status": 1, "phone": "79161234567", "message": "an object, not an array"},
        "status": [{"status": 1, "err": 0}],
        "balance": "1843.20",
    }
)
_BAD_TYPES: Final[Mapping[str, Any]] = MappingProxyType(
    {
        "get": [
            {
                "status": "abc",
                "last_date": 20251124,
                "last_timestamp": "yesterday",
                "err": "none",
                "send_date": None,
                "send_timestamp": "abc",
                "phone": ["79161234567"],
                "cost": {"rub": 1},
                "sms_cnt": "many",
                "id": "x",
                "int_id": "abc",
                "message": 42,
            }
        ],
        "status": {"status": "abc", "last_date": 5, "last_timestamp": "x", "flag": 0, "err": "?"},
        "balance": {"balance": "abc"},
    }
)


def _faulted(faults: Faults, script: str, reply: _Reply) -> web.Response:
    if faults.http_status is not None:
        return web.Response(
            text=_html_page(faults.http_status), status=faults.http_status, content_type="text/html"
        )
    if faults.malformed == "html":
        return web.Response(text=_html_page(503), content_type="text/html")
    if faults.malformed == "truncated":
        return reply.body(_TRUNCATED[script], "application/json")
    if faults.malformed == "wrong_shape":
        return reply.body(json.dumps(_WRONG_SHAPE[script]), "application/json")
    if faults.malformed == "bad_types":
        return reply.body(json.dumps(_BAD_TYPES[script]), "application/json")
    assert faults.error_code is not None
    code = faults.error_code
    return reply.error(code, _ERROR_DESCRIPTIONS.get(code, "error"))


def _html_page(status: int) -> str:
    try:
        title = f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        title = str(status)
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )


# --- parameters ------------------------------------------------------------------------------


def _int_param(params: Mapping[str, str], name: str, default: int | None) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        if default is None:
            raise _Refusal(1)
        return default
    digits = raw.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise _Refusal(1)
    return int(raw)


def _date_param(params: Mapping[str, str], name: str) -> date | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        return datetime.strptime(raw, "%d.%m.%Y").date()
    except ValueError:
        raise _Refusal(1) from None


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):  # clamp the 31st to the month's last day
        with contextlib.suppress(ValueError):
            return date(year, month, candidate)
    raise AssertionError("unreachable")


def _normalise_phone(raw: str) -> str:
    """Digits only; a Russian ``8`` trunk prefix or a bare 10-digit ``9…`` becomes ``7…``."""
    digits = "".join(ch for ch in raw if ch.isascii() and ch.isdigit())
    if len(digits) == 11 and digits.startswith("8"):
        return "7" + digits[1:]
    if len(digits) == 10 and digits.startswith("9"):
        return "7" + digits
    return digits


def _numbers_only(raw: str) -> bool:
    """Whether every entry of a comma-separated list is written as a phone number."""
    allowed = set("0123456789+-() ")
    entries = [entry for entry in raw.replace(";", ",").split(",") if entry.strip()]
    return all(set(entry) <= allowed for entry in entries)


def _phone_list(raw: str) -> frozenset[str]:
    return frozenset(
        p for p in (_normalise_phone(x) for x in raw.replace(";", ",").split(",")) if p
    )


def _identity(params: Mapping[str, str]) -> str:
    """What makes two history requests "identical": every parameter except credentials."""
    items = []
    for key, value in params.items():
        if key in _CREDENTIALS:
            continue
        if key == "phone":
            value = ",".join(sorted(_phone_list(value)))
        items.append((key, value.strip()))
    return json.dumps(sorted(items))


# --- messages --------------------------------------------------------------------------------


def _format_date(timestamp: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(timestamp, tz).strftime("%d.%m.%Y %H:%M:%S")


def _as_int(value: Any) -> int:
    return int(float(value))


def _public(record: Mapping[str, Any]) -> dict[str, Any]:
    return {key: record[key] for key in _WIRE_FIELDS}


def _parts(text: str) -> int:
    # GSM-7 fits 160 characters (153 per part when split); anything else goes as UCS-2: 70 / 67.
    single, multi = (160, 153) if text.isascii() else (70, 67)
    return 1 if len(text) <= single else -(-len(text) // multi)


@dataclass(frozen=True)
class _Operator:
    name: str
    mccmnc: str
    prefixes: tuple[str, ...]
    price: str
    country: str = "Россия"


_OPERATORS: Final = (
    _Operator("МТС", "25001", ("916", "915", "985", "910", "919"), "4.35"),
    _Operator("МегаФон", "25002", ("926", "925", "929", "921", "937"), "4.15"),
    _Operator("Билайн", "25099", ("903", "905", "906", "909", "962"), "4.40"),
    _Operator("Tele2", "25020", ("977", "951", "900", "952"), "3.95"),
    _Operator("Yota", "25011", ("999", "958"), "3.95"),
)
_KCELL: Final = _Operator("Kcell", "40102", ("701",), "6.20", country="Казахстан")
_OPERATOR_WEIGHTS: Final = (30, 25, 20, 18, 7)
_REGIONS: Final = (
    "Москва",
    "Московская область",
    "Санкт-Петербург",
    "Краснодарский край",
    "Свердловская область",
    "Новосибирская область",
    "Республика Татарстан",
    "Нижегородская область",
)
_REGION_WEIGHTS: Final = (35, 20, 15, 8, 6, 6, 5, 5)


def _operator_of(phone: str) -> _Operator | None:
    for operator in (*_OPERATORS, _KCELL):
        if phone.startswith("7") and phone[1:4] in operator.prefixes:
            return operator
    return None


def _complete(
    fields: Mapping[str, Any], account: _Account, now: float, tz: ZoneInfo
) -> dict[str, Any]:
    """A full history record from partial ``fields`` (see :meth:`SimulatedSmsc.add_message`)."""
    given = dict(fields)
    comment = given.pop("comment", "")
    settle = given.pop(_SETTLE, None)
    unknown = set(given) - set(_WIRE_FIELDS)
    if unknown:
        raise ValueError(f"unknown message fields: {sorted(unknown)}")
    phone = str(given.get("phone", "79990000001"))
    operator = _operator_of(_normalise_phone(phone))
    status = given.get("status", 1)
    message = given.get("message", "Ваш код подтверждения: 1234")
    sms_cnt = given.get("sms_cnt", _parts(str(message)))
    send_ts = given.get("send_timestamp", int(now))
    last_ts = given.get("last_timestamp", send_ts)
    charged = _as_int(status) in {0, 1, 2, 3, 4, 20}
    price = operator.price if operator else "4.00"
    cost = f"{float(price) * _as_int(sms_cnt):.2f}" if charged else "0"
    next_int_id = account.top_int_id + 1
    next_id = account.top_id + 1
    defaults: dict[str, Any] = {
        "status": status,
        "last_date": _format_date(_as_int(last_ts), tz),
        "last_timestamp": last_ts,
        "err": 0,
        "send_date": _format_date(_as_int(send_ts), tz),
        "send_timestamp": send_ts,
        "phone": phone,
        "country": operator.country if operator else ("Россия" if phone.startswith("7") else ""),
        "operator": operator.name if operator else "",
        "region": "Москва" if operator and operator.country == "Россия" else "",
        "type": 0,
        "cost": cost,
        "sender": "SMSC.RU",
        "status_name": STATUS_NAMES_RU.get(_as_int(status), ""),
        "message": message,
        "mccmnc": operator.mccmnc if operator else "",
        "id": next_id,
        "int_id": next_int_id,
        "sms_cnt": sms_cnt,
        "format": 0,
        "crc": zlib.crc32(str(message).encode("utf-8")),
    }
    record = {key: given.get(key, defaults[key]) for key in _WIRE_FIELDS}
    record[_COMMENT] = comment
    if settle is not None:
        record[_SETTLE] = settle
    return record


# --- the demo account ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Subscriber:
    phone: str
    operator: _Operator | None  # None: SMS Center could not tell (no operator, region, mccmnc)
    region: str


def _demo_messages(rng: random.Random, now: float, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Several hundred messages over the four days before ``now``, oldest first.

    Deterministic for a given ``rng`` seed and ``now``. Mostly delivered, every history status
    present, failures with real ``err`` codes, a few mailings sharing one ``id`` (ids are unique
    per number, not globally), numbers with long histories, a burst of failures in the last hour
    and the numbers of :data:`DEMO_NUMBERS` with their promised newest message.
    """
    return _DemoHistory(rng, int(now), tz).build()


_DAY: Final = 86_400
_HOUR: Final = 3_600

# (status, err) of a failure, with weights; statuses 3, 20, 22, 23, 24, 25 of the protocol.
_FAILURES: Final = (
    ((20, 6), 30),
    ((20, 1), 10),
    ((20, 13), 8),
    ((20, 11), 6),
    ((20, 12), 2),
    ((20, 21), 1),
    ((20, 219), 5),
    ((20, 220), 4),
    ((3, 6), 6),
    ((3, 220), 3),
    ((3, 245), 5),
    ((22, 249), 2),
    ((23, 253), 3),
    ((23, 251), 2),
    ((23, 254), 2),
    ((23, 250), 1),
    ((25, 248), 3),
    ((25, 255), 3),
)
_FAILURE_OUTCOMES: Final = tuple(outcome for outcome, _ in _FAILURES)
_FAILURE_WEIGHTS: Final = tuple(weight for _, weight in _FAILURES)


# Kinds of demo texts: weight, then (sender, template) choices. Some carry "<", ">" and "&" so
# that a client's HTML escaping is exercised; all fit windows-1251.
_TEXTS: Final[Mapping[str, tuple[int, tuple[tuple[str, str], ...]]]] = MappingProxyType(
    {
        "code": (
            55,
            (
                ("MyBank", "Ваш код подтверждения: {code}"),
                ("MyBank", "Код для входа в MyBank: {code6}. Никому его не сообщайте"),
                ("SHOP", "{code} — ваш код для входа в SHOP"),
                ("SMSC.RU", "Ваш код подтверждения: {code}"),
            ),
        ),
        "order": (
            20,
            (
                (
                    "SHOP",
                    "Заказ №{order} передан в доставку. Отследить: https://shop.example/t/{order}",
                ),
                (
                    "SHOP",
                    "Заказ №{order} ждёт вас в пункте выдачи до {until}. Код получения: {code}",
                ),
                (
                    "SHOP",
                    "Заказ <№{order}> доставлен. Оцените покупку: https://shop.example/r/{order}",
                ),
            ),
        ),
        "bank": (
            11,
            (
                ("MyBank", "Списание {amount},00 руб. по карте *4417. Баланс: {left},55 руб."),
                ("MyBank", "Вход в MyBank с нового устройства. Не вы? Звоните 8 800 555-35-35"),
            ),
        ),
        "taxi": (8, (("Taxi", "Машина будет через {minutes} мин: белый Kia Rio, а{plate}вс 77"),)),
        "promo": (6, (("SHOP", "Tom & Jerry <3 скидки: 2 игрушки по цене 1 до воскресенья"),)),
    }
)


class _DemoHistory:
    """Builds the demo account's messages (see :func:`_demo_messages`)."""

    def __init__(self, rng: random.Random, now: int, tz: ZoneInfo) -> None:
        self.rng = rng
        self.now = now
        self.tz = tz
        self.specs: list[dict[str, Any]] = []
        self.group = 0
        self.pool = self._subscribers(90)

    def build(self) -> list[dict[str, Any]]:
        rng, now = self.rng, self.now
        long_lived = self.pool[:2]
        for _ in range(240):
            self._one(rng.choice(self.pool), self._daytime(now - 4 * _DAY, now - _HOUR))
        for subscriber, count in ((long_lived[0], 32), (long_lived[1], 30)):
            for _ in range(count):
                self._one(subscriber, self._daytime(now - 4 * _DAY, now - 2 * _HOUR))
        self._mailings()
        self._out_of_money()
        self._last_hour()
        self._notable()
        self.specs.sort(key=lambda spec: (spec["send_timestamp"], spec["_group"]))
        return self._numbered()

    # Numbers ---------------------------------------------------------------------------------

    def _subscribers(self, count: int) -> list[_Subscriber]:
        rng = self.rng
        taken = set(DEMO_NUMBERS)
        pool: list[_Subscriber] = []
        while len(pool) < count:
            if len(pool) < 2 or rng.random() > 0.03:
                operator: _Operator | None = rng.choices(_OPERATORS, _OPERATOR_WEIGHTS)[0]
            else:
                operator = _KCELL
            assert operator is not None
            phone = "7" + rng.choice(operator.prefixes) + f"{rng.randrange(10**7):07d}"
            if phone in taken:
                continue
            taken.add(phone)
            roll = rng.random()
            if roll < 0.05 and operator is not _KCELL:
                operator = rng.choice(_OPERATORS)  # ported: the prefix no longer tells
            elif roll < 0.09 and operator is not _KCELL:
                operator = None
            region = ""
            if operator is not None and operator is not _KCELL:
                region = rng.choices(_REGIONS, _REGION_WEIGHTS)[0]
            pool.append(_Subscriber(phone, operator, region))
        return pool

    @staticmethod
    def _fixed(phone: str, region: str = "Москва") -> _Subscriber:
        return _Subscriber(phone, _operator_of(phone), region)

    # Moments ---------------------------------------------------------------------------------

    def _daytime(self, earliest: int, latest: int) -> int:
        """A moment in [earliest, latest], more likely in the account's daytime."""
        while True:
            moment = self.rng.randint(earliest, latest)
            hour = datetime.fromtimestamp(moment, self.tz).hour
            weight = 0.12 if hour < 7 else 0.6 if hour < 9 else 1.0 if hour < 21 else 0.45
            if self.rng.random() < weight:
                return moment

    def _local(self, days_ago: int, hour: int, minute: int) -> int:
        day = datetime.fromtimestamp(self.now, self.tz).date() - timedelta(days=days_ago)
        return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.tz).timestamp())

    # Texts -----------------------------------------------------------------------------------

    def _text(self) -> tuple[str, str]:
        """A sender and a text from :data:`_TEXTS`, its blanks filled at random."""
        rng = self.rng
        kinds = tuple(_TEXTS)
        kind = rng.choices(kinds, tuple(_TEXTS[k][0] for k in kinds))[0]
        sender, template = rng.choice(_TEXTS[kind][1])
        day = datetime.fromtimestamp(self.now, self.tz).date() + timedelta(days=5)
        blanks = {
            "code": f"{rng.randrange(10**4):04d}",
            "code6": f"{rng.randrange(10**6):06d}",
            "order": str(rng.randrange(100_000, 999_999)),
            "until": day.strftime("%d.%m"),
            "amount": str(rng.randrange(100, 9000)),
            "left": str(rng.randrange(1000, 90000)),
            "minutes": str(rng.randrange(3, 12)),
            "plate": str(rng.randrange(100, 999)),
        }
        return sender, template.format(**blanks)

    # Messages --------------------------------------------------------------------------------

    def _one(
        self,
        subscriber: _Subscriber,
        sent: int,
        *,
        outcome: tuple[int, int] | None = None,
        text: tuple[str, str] | None = None,
        group: int | None = None,
        viber: bool = False,
        settles: bool = True,
    ) -> None:
        """Add one message; ``outcome`` (status, err) is drawn at random when not given."""
        rng = self.rng
        sender, message = text or self._text()
        if outcome is None:
            outcome = (
                (1, 0)
                if rng.random() < 0.82
                else rng.choices(_FAILURE_OUTCOMES, _FAILURE_WEIGHTS)[0]
            )
        status, err = outcome
        last, settle = self._timeline(sent, status, err, settles)
        if group is None:
            self.group += 1
            group = self.group
        operator = subscriber.operator
        kind = 10 if viber else 0
        spec: dict[str, Any] = {
            "_group": group,
            "phone": subscriber.phone,
            "send_timestamp": sent,
            "last_timestamp": last,
            "status": status if settle is None else settle[0],
            "err": err if settle is None else settle[1],
            "message": message,
            "sender": sender,
            "type": kind,
            "format": kind,
            "country": operator.country if operator else "Россия",
            "operator": operator.name if operator else "",
            "region": subscriber.region,
            "mccmnc": operator.mccmnc if operator else "",
        }
        if status == 22:  # a malformed number: SMS Center cannot place it
            spec.update(operator="", region="", mccmnc="")
        parts = _parts(message)
        price = "1.85" if viber else (operator.price if operator else "4.00")
        charged = spec["status"] in {0, 1, 2, 3, 4, 20}
        spec["sms_cnt"] = 1 if viber else parts
        spec["cost"] = f"{float(price) * spec['sms_cnt']:.2f}" if charged else "0"
        if settle is not None:
            spec[_SETTLE] = (settle[2], status, err)
        self.specs.append(spec)

    def _timeline(
        self, sent: int, status: int, err: int, settles: bool
    ) -> tuple[int, tuple[int, int, int] | None]:
        """When the status was last set; a final state still in the future is shown as in
        progress now, with the change pending (``(status, err, at)``)."""
        rng = self.rng
        if status in {1, 20}:
            delay = rng.randint(2, 40) if rng.random() < 0.9 else rng.randint(300, 4 * _HOUR)
        elif status == 3:
            delay = rng.randint(6 * _HOUR, 24 * _HOUR) if err != 245 else _DAY
        elif status in {2, 4}:
            delay = rng.randint(60, 6 * _HOUR)
        else:  # -2, -1, 0, 22, 23, 24, 25: decided when it was sent
            delay = rng.randint(0, 2)
        last = sent + delay
        if last < self.now or not settles:
            return min(last, self.now), None
        shown = (1, 0) if status in {2, 4} else (0, 0)
        return sent + (rng.randint(2, 20) if shown == (1, 0) else 1), (*shown, last)

    def _mailings(self) -> None:
        """Promotions sent to many numbers at once under one id; one was paused half-way (-2)."""
        rng = self.rng
        texts = (
            "<b>Чёрная пятница</b>: скидка 20% на всё & бесплатная доставка > https://shop.example/bf",
            "Только сегодня в SHOP: 2 товара по цене 1 & подарок к заказу от 3000 руб. https://shop.example/2for1",
            "Новая коллекция уже в SHOP: https://shop.example/new",
        )
        for index, (days_ago, hour, minute, size, paused) in enumerate(
            ((3, 12, 0, 14, False), (2, 15, 30, 12, True), (1, 11, 0, 12, False))
        ):
            self.group += 1
            group = self.group
            start = self._local(days_ago, hour, minute)
            recipients = rng.sample(self.pool[2:], size)
            for position, subscriber in enumerate(recipients):
                sent = start + position // 5
                if paused and position >= size // 2:
                    outcome: tuple[int, int] | None = (-2, 0)
                elif rng.random() < 0.3:
                    outcome = (4, 0)  # the link was opened
                else:
                    outcome = None
                viber = index == 2 and position < 3
                if viber:
                    outcome = (2, 0)  # read in Viber
                self._one(
                    subscriber,
                    sent,
                    outcome=outcome,
                    text=("SHOP", texts[index]),
                    group=group,
                    viber=viber,
                )

    def _out_of_money(self) -> None:
        """A few messages refused while the balance was empty."""
        start = self._local(2, 9, 14)
        for offset, subscriber in enumerate(self.rng.sample(self.pool[2:], 4)):
            self._one(subscriber, start + 40 * offset, outcome=(24, 0))

    def _last_hour(self) -> None:
        """Traffic of the last hour, failures included, so "/failed 1" has something to show."""
        now = self.now
        failures = ((20, 6), (20, 13), (25, 248), (23, 253), (22, 249), (20, 11))
        for index, outcome in enumerate(failures):
            sent = now - 3300 + index * 420
            self._one(self.rng.choice(self.pool), sent, outcome=outcome, settles=False)
        for _ in range(10):
            self._one(
                self.rng.choice(self.pool), self.rng.randint(now - 3500, now - 240), outcome=(1, 0)
            )
        for sent in (now - 170, now - 95):  # still on their way; delivered a few minutes later
            self._one(self.rng.choice(self.pool), sent, outcome=(1, 0))
            self.specs[-1].update(status=0, err=0, last_timestamp=sent + 1)
            self.specs[-1][_SETTLE] = (sent + self.rng.randint(200, 400), 1, 0)
        self._one(self.rng.choice(self.pool), now - 30, outcome=(-1, 0))
        self.specs[-1][_SETTLE] = (now + 60, 1, 0)

    def _notable(self) -> None:
        """The numbers of DEMO_NUMBERS, with the newest message each one promises."""
        now, rng = self.now, self.rng
        code = ("MyBank", "Ваш код подтверждения: {}")

        def text() -> tuple[str, str]:
            return code[0], code[1].format(f"{rng.randrange(10**4):04d}")

        delivered = self._fixed("79161234567")
        for days in (3, 1):
            self._one(
                delivered,
                self._daytime(now - days * _DAY - 6 * _HOUR, now - days * _DAY),
                outcome=(1, 0),
            )
        self._one(delivered, now - 420, outcome=(1, 0), text=text(), settles=False)

        offline = self._fixed("79031112233", "Санкт-Петербург")
        self._one(offline, now - 3 * _DAY + 2 * _HOUR, outcome=(1, 0))
        self._one(offline, now - 1860, outcome=(20, 6), text=text(), settles=False)
        self._one(offline, now - 1560, outcome=(20, 6), text=text(), settles=False)

        missing = self._fixed("79095550011", "Краснодарский край")
        self._one(missing, now - _DAY - 5 * _HOUR, outcome=(20, 1), text=text(), settles=False)
        self._one(missing, now - 2640, outcome=(20, 1), text=text(), settles=False)

        pending = self._fixed("79772223344", "Московская область")
        self._one(pending, now - 120, outcome=(0, 0), text=text(), settles=False)

        regular = self._fixed("79257654321")
        for _ in range(35):
            self._one(regular, self._daytime(now - 4 * _DAY, now - 3 * _HOUR))
        self._one(regular, now - 2940, outcome=(1, 0), text=text(), settles=False)

    def _numbered(self) -> list[dict[str, Any]]:
        """Ids in sending order: ``id`` per send (a mailing shares one), ``int_id`` global with
        gaps where other customers' messages went out."""
        rng = self.rng
        ids: dict[int, int] = {}
        int_id = 2_874_315_000 + rng.randrange(10_000)
        last_group: int | None = None
        numbered: list[dict[str, Any]] = []
        for spec in self.specs:
            group = spec.pop("_group")
            # Messages of one send go out back to back; between sends, other customers' do.
            int_id += 1 if group == last_group else rng.randint(40, 4_000)
            last_group = group
            message_id = ids.setdefault(group, 18_241 + len(ids))
            numbered.append({**spec, "id": message_id, "int_id": int_id})
        return numbered


# --- standalone ------------------------------------------------------------------------------


async def _serve(host: str, port: int) -> None:
    sim = SimulatedSmsc()
    base = await sim.start(host, port)
    try:
        # The demo key is a published constant that opens nothing but this server.
        print(f"simulated SMS Center on {base}; demo key: {DEMO_API_KEY}")
        for number, shows in DEMO_NUMBERS.items():
            print(f"  {number}: {shows}")
        await asyncio.Event().wait()
    finally:
        await sim.stop()


def main(argv: Iterable[str] | None = None) -> None:
    """``python -m bot.smsc.simulator [--host H] [--port P]``: serve the demo account.

    Until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(None if argv is None else list(argv))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port))


if __name__ == "__main__":
    main()
