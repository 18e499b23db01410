"""SMS Center HTTP client: three coroutines, typed results and an exception tree.

The protocol is SMS Center's published HTTP API (``shared/smsc-api.md``): every call is a POST
to ``{base}/sys/<script>.php`` with ``apikey``, ``fmt=3`` (JSON) and ``charset=utf-8`` in the
form body, so the key never appears in a URL or an access log. A failed connection is retried
once, by the transport (such a request never reached SMS Center, so it counts against no
limit); anything that may have arrived is never repeated.

Exceptions (httpx's transport errors are translated in one place, ``_transport_error``)::

    SmscError
    ├── SmscTransportError          no usable answer came back
    │   ├── SmscConnectError        could not connect (after the retry), or the connection broke
    │   ├── SmscTimeout             no answer within SMSC_TIMEOUT
    │   ├── SmscHTTPError           HTTP status other than 200 (``.status``)
    │   └── SmscMalformedResponse   the body is not the JSON the protocol promises
    └── SmscApiError                SMS Center answered {"error": …, "error_code": N}
        ├── SmscBadParameters       1
        ├── SmscBadCredentials      2  (wrong key, or the IP is not in the account's list)
        ├── SmscNotFound            3
        ├── SmscIPBlocked           4
        ├── SmscDeleteFailed        5
        ├── SmscRateLimited         9
        └── (SmscApiError itself)   any other code

No exception text contains the API key: requests carry it only in the body, and messages are
built from the script name, the HTTP status and SMS Center's own description.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import httpx

MAX_HISTORY_COUNT = 1000
USER_AGENT = "smsc-status-bot/0.1"
_DESCRIPTION_LIMIT = 200
_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10)


class SmscError(Exception):
    """Base of everything the SMS Center client raises."""


class SmscTransportError(SmscError):
    """No usable answer came back from SMS Center."""


class SmscConnectError(SmscTransportError):
    """Could not connect to SMS Center."""


class SmscTimeout(SmscTransportError):
    """SMS Center did not answer within the configured timeout."""


class SmscHTTPError(SmscTransportError):
    """SMS Center answered with an HTTP status other than 200."""

    def __init__(self, script: str, status: int) -> None:
        super().__init__(f"{script}.php answered HTTP {status}")
        self.status = status


class SmscMalformedResponse(SmscTransportError):
    """The body is not the JSON SMS Center's protocol promises."""


class SmscApiError(SmscError):
    """SMS Center answered with an error object; ``code`` is its ``error_code``."""

    code: ClassVar[int | None] = None

    def __init__(self, script: str, code: int, description: str) -> None:
        self.error_code = code
        self.description = description[:_DESCRIPTION_LIMIT]
        super().__init__(f"{script}.php error {code}: {self.description}")


class SmscBadParameters(SmscApiError):
    """Error 1: a parameter is wrong."""

    code = 1


class SmscBadCredentials(SmscApiError):
    """Error 2: wrong API key, or the request came from an IP outside the account's list.

    Never retry: five of these in 30 minutes get the IP blocked (error 4).
    """

    code = 2


class SmscNotFound(SmscApiError):
    """Error 3: nothing found (the history call may answer a query that matches nothing so)."""

    code = 3


class SmscIPBlocked(SmscApiError):
    """Error 4: the IP is temporarily blocked (after authorization errors or floods)."""

    code = 4


class SmscDeleteFailed(SmscApiError):
    """Error 5: deleting a message failed (status.php with ``del=1``; never sent by this bot)."""

    code = 5


class SmscRateLimited(SmscApiError):
    """Error 9: too many requests (history: 3 identical a minute, 30 an hour per account)."""

    code = 9


_API_ERRORS: dict[int, type[SmscApiError]] = {
    cls.code: cls
    for cls in (
        SmscBadParameters,
        SmscBadCredentials,
        SmscNotFound,
        SmscIPBlocked,
        SmscDeleteFailed,
        SmscRateLimited,
    )
    if cls.code is not None
}


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One message of the history (``get_messages``), or of ``status.php`` with ``all=2``.

    Every field may be missing or empty in an answer: strings default to ``""``, numbers to
    ``None``. Prefer the timestamps to the formatted dates (whose time zone is not stated).
    """

    status: int | None = None
    err: int | None = None
    last_date: str = ""
    last_timestamp: int | None = None
    send_date: str = ""
    send_timestamp: int | None = None
    phone: str = ""
    country: str = ""
    operator: str = ""
    region: str = ""
    type: int | None = None
    cost: Decimal | None = None
    sender: str = ""
    status_name: str = ""
    message: str = ""
    mccmnc: str = ""
    id: int | None = None
    int_id: int | None = None
    sms_cnt: int | None = None
    format: int | None = None
    crc: str = ""

    @property
    def sent_at(self) -> float | None:
        """Unix time the message was sent, if the answer said."""
        return float(self.send_timestamp) if self.send_timestamp else None

    @property
    def changed_at(self) -> float | None:
        """Unix time of the last status change, if the answer said."""
        return float(self.last_timestamp) if self.last_timestamp else None


@dataclass(frozen=True, slots=True)
class MessageStatus:
    """``status.php`` answer: the message (status -3 means SMS Center knows no such message)."""

    entry: HistoryEntry
    flag: int | None = None
    comment: str = ""

    @property
    def found(self) -> bool:
        """False when SMS Center answered status -3 (no message for that phone and id)."""
        return self.entry.status != -3


class SmscClient:
    """Async SMS Center client; it owns its ``httpx.AsyncClient`` (close it with ``aclose()`` or
    ``async with``).

    ``base_url`` is ``SMSC_BASE_URL`` (``https://smsc.ru``); ``timeout`` is ``SMSC_TIMEOUT``, for
    each of connecting, sending and reading. ``transport`` replaces the real one (tests inject
    faults with it); the connect retry is then the transport's own business. The client keeps
    no state between calls and never logs the key.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=f"{self._base_url}/sys/",
            timeout=timeout,
            transport=transport or httpx.AsyncHTTPTransport(retries=1, limits=_LIMITS),
            headers={"User-Agent": USER_AGENT},
        )

    def __repr__(self) -> str:
        return f"SmscClient(base_url={self._base_url!r})"

    async def __aenter__(self) -> SmscClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def get_messages(
        self,
        apikey: str,
        *,
        phone: str | None = None,
        cnt: int = 100,
        prev_id: int | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> list[HistoryEntry]:
        """The history of sent messages, newest first (``get.php?get_messages=1``).

        ``cnt`` is always sent (1…1000: the page states no default). A query that matches
        nothing is an empty list, whether SMS Center answers ``[]`` or error 3.
        """
        if not 1 <= cnt <= MAX_HISTORY_COUNT:
            raise ValueError(f"cnt must be 1..{MAX_HISTORY_COUNT}")
        params: dict[str, str] = {"get_messages": "1", "cnt": str(cnt)}
        if phone:
            params["phone"] = phone
        if prev_id is not None:
            params["prev_id"] = str(prev_id)
        if start is not None:
            params["start"] = start.strftime("%d.%m.%Y")
        if end is not None:
            params["end"] = end.strftime("%d.%m.%Y")
        try:
            body = await self._call("get", apikey, params)
        except SmscNotFound:
            return []
        if not isinstance(body, list):
            raise SmscMalformedResponse("get.php answered a JSON value that is not a list")
        return [_history_entry(item) for item in body]

    async def status(self, apikey: str, *, phone: str, message_id: int) -> MessageStatus:
        """One message's status with full information (``status.php``, ``all=2``)."""
        params = {"phone": phone, "id": str(message_id), "all": "2"}
        body = await self._call("status", apikey, params)
        if not isinstance(body, dict):
            raise SmscMalformedResponse("status.php answered a JSON value that is not an object")
        aliased = dict(body)
        if "sender" not in aliased and "sender_id" in aliased:
            aliased["sender"] = aliased["sender_id"]
        aliased.setdefault("phone", phone)
        aliased.setdefault("id", message_id)
        return MessageStatus(
            entry=_history_entry(aliased),
            flag=_int(body, "flag"),
            comment=_str(body, "comment"),
        )

    async def statuses(
        self, apikey: str, messages: Sequence[tuple[str, int]]
    ) -> list[MessageStatus]:
        """The current status of several messages, ``(phone, id)`` each, in one request
        (``status.php``, ``all=0``): several in the multi-message form, which SMS Center allows
        once a minute; one in the single form (five a minute per message), not the
        trailing-comma one, which counts as multi. The answer is matched by ``id`` and ``phone``
        where it names them, else by order; a message it does not answer is left out
        (``found`` tells status -3 apart).
        """
        if not messages:
            return []
        phones = ",".join(phone for phone, _ in messages)
        ids = ",".join(str(message_id) for _, message_id in messages)
        body = await self._call("status", apikey, {"phone": phones, "id": ids, "all": "0"})
        items = body if isinstance(body, list) else [body]
        if not all(isinstance(item, dict) for item in items):
            raise SmscMalformedResponse("status.php answered a value that is not a list of objects")
        found: list[MessageStatus] = []
        for n, item in enumerate(items):
            message_id = _int(item, "id")
            if message_id is None and len(items) == len(messages):
                phone, message_id = messages[n]
            else:
                phone = _str(item, "phone")
            match = next(
                (
                    (p, i)
                    for p, i in messages
                    if i == message_id and (not phone or _same_number(p, phone))
                ),
                None,
            )
            if match is None:
                continue
            fields = {**item, "phone": match[0], "id": match[1]}
            found.append(MessageStatus(entry=_history_entry(fields), flag=_int(item, "flag")))
        return found

    async def balance(self, apikey: str) -> Decimal:
        """The account's balance (``balance.php``): a cheap way to check a key."""
        body = await self._call("balance", apikey, {})
        if not isinstance(body, dict):
            raise SmscMalformedResponse("balance.php answered a JSON value that is not an object")
        value = _decimal(body, "balance")
        if value is None:
            raise SmscMalformedResponse("balance.php answered without a balance")
        return value

    async def _call(self, script: str, apikey: str, params: Mapping[str, str]) -> Any:
        data = {**params, "apikey": apikey, "fmt": "3", "charset": "utf-8"}
        try:
            response = await self._http.post(f"{script}.php", data=data)
        except httpx.TransportError as exc:
            raise _transport_error(script, exc) from exc
        if response.status_code != httpx.codes.OK:
            raise SmscHTTPError(script, response.status_code)
        try:
            # The decoded text, not ``response.json()``: a stray invalid byte in a field becomes
            # U+FFFD instead of refusing the whole answer.
            body = json.loads(response.text)
        except json.JSONDecodeError:
            raise SmscMalformedResponse(f"{script}.php answered a body that is not JSON") from None
        if isinstance(body, dict) and ("error_code" in body or "error" in body):
            raise _api_error(script, body)
        return body


def _same_number(asked: str, answered: str) -> bool:
    """The same number, however either side writes it (``+``, spaces)."""
    keep = "0123456789"
    return "".join(c for c in asked if c in keep) == "".join(c for c in answered if c in keep)


def _transport_error(script: str, exc: httpx.TransportError) -> SmscTransportError:
    """httpx's transport failure as the client's exception (the message names no key)."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return SmscConnectError(f"cannot connect to SMS Center ({script}.php)")
    if isinstance(exc, httpx.TimeoutException):
        return SmscTimeout(f"SMS Center did not answer in time ({script}.php)")
    return SmscConnectError(f"connection to SMS Center failed ({script}.php)")


def _api_error(script: str, body: Mapping[str, Any]) -> SmscApiError:
    code = _int(body, "error_code")
    description = _str(body, "error") or "no description"
    if code is None:
        raise SmscMalformedResponse(f"{script}.php answered an error without a code")
    return _API_ERRORS.get(code, SmscApiError)(script, code, description)


def _history_entry(item: Any) -> HistoryEntry:
    if not isinstance(item, dict):
        raise SmscMalformedResponse("a history entry is not a JSON object")
    return HistoryEntry(
        status=_int(item, "status"),
        err=_int(item, "err"),
        last_date=_str(item, "last_date"),
        last_timestamp=_int(item, "last_timestamp"),
        send_date=_str(item, "send_date"),
        send_timestamp=_int(item, "send_timestamp"),
        phone=_str(item, "phone"),
        country=_str(item, "country"),
        operator=_str(item, "operator"),
        region=_str(item, "region"),
        type=_int(item, "type"),
        cost=_decimal(item, "cost"),
        sender=_str(item, "sender"),
        status_name=_str(item, "status_name"),
        message=_str(item, "message"),
        mccmnc=_str(item, "mccmnc"),
        id=_int(item, "id"),
        int_id=_int(item, "int_id"),
        sms_cnt=_int(item, "sms_cnt"),
        format=_int(item, "format"),
        crc=_str(item, "crc"),
    )


# Values may arrive as strings or numbers and may be missing or empty ("tolerant"); a value of
# the wrong kind ("abc" where a number belongs, an object where text belongs) is refused
# ("strict"), because rendering a guess would mislead the person asking.


def _int(item: Mapping[str, Any], name: str) -> int | None:
    value = item.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise SmscMalformedResponse(f"field {name!r} is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        digits = text.removeprefix("-")
        if digits.isascii() and digits.isdigit():
            return int(text)
    raise SmscMalformedResponse(f"field {name!r} is not a whole number")


def _decimal(item: Mapping[str, Any], name: str) -> Decimal | None:
    value = item.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SmscMalformedResponse(f"field {name!r} is not a number")
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise SmscMalformedResponse(f"field {name!r} is not a number") from None
    if not number.is_finite():
        raise SmscMalformedResponse(f"field {name!r} is not a finite number")
    return number


def _str(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SmscMalformedResponse(f"field {name!r} is not text")
    return str(value)
