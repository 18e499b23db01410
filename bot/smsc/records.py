"""A message as the simulated SMS Center keeps it: the history fields in the protocol's order,
defaults completed from the number's operator, and a pending change of status that lands when
the clock reaches it.

May import: the standard library. Used by the simulator and the demo data generator.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final
from zoneinfo import ZoneInfo

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

#: A history object's keys, in the order the protocol lists them.
WIRE_FIELDS: Final = (
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
#: Kept beside a message, never sent in history: status.php's ``comment``.
COMMENT: Final = "_comment"
#: Kept beside a message, never sent in history: a pending change of status ``(at, status,
#: err)``, which makes a message in progress settle as time passes.
SETTLE: Final = "_settle"

#: Statuses SMS Center charges for: the message left for the operator.
_CHARGED: Final = frozenset({0, 1, 2, 3, 4, 20})


@dataclass(frozen=True)
class Operator:
    """A mobile operator: its name, network code, number prefixes and price of one part."""

    name: str
    mccmnc: str
    prefixes: tuple[str, ...]
    price: str
    country: str = "Россия"


#: Russia's operators, the big four first.
OPERATORS: Final = (
    Operator("МТС", "25001", ("916", "915", "985", "910", "919"), "4.35"),
    Operator("МегаФон", "25002", ("926", "925", "929", "921", "937"), "4.15"),
    Operator("Билайн", "25099", ("903", "905", "906", "909", "962"), "4.40"),
    Operator("Tele2", "25020", ("977", "951", "900", "952"), "3.95"),
    Operator("Yota", "25011", ("999", "958"), "3.95"),
)
#: A foreign operator reached through the same +7 country code.
KCELL: Final = Operator("Kcell", "40102", ("701",), "6.20", country="Казахстан")
#: The price of one part when the operator is unknown.
UNKNOWN_PRICE: Final = "4.00"


def operator_of(phone: str) -> Operator | None:
    """The operator a normalised ``7…`` number's prefix belongs to, if any."""
    for operator in (*OPERATORS, KCELL):
        if phone.startswith("7") and phone[1:4] in operator.prefixes:
            return operator
    return None


@functools.lru_cache(maxsize=200_000)  # every history request reads every record's number
def normalise_phone(raw: str) -> str:
    """Digits only; a Russian ``8`` trunk prefix or a bare 10-digit ``9…`` becomes ``7…``."""
    digits = "".join(ch for ch in raw if ch.isascii() and ch.isdigit())
    if len(digits) == 11 and digits.startswith("8"):
        return "7" + digits[1:]
    if len(digits) == 10 and digits.startswith("9"):
        return "7" + digits
    return digits


def format_date(timestamp: float, tz: ZoneInfo) -> str:
    """A moment as SMS Center writes dates: ``dd.mm.yyyy hh:mm:ss`` in the account's zone."""
    return datetime.fromtimestamp(timestamp, tz).strftime("%d.%m.%Y %H:%M:%S")


def as_int(value: Any) -> int:
    """A wire number that may arrive as a string (``"1"``) or a float, as an int."""
    return int(float(value))


def parts(text: str) -> int:
    """How many SMS parts ``text`` takes."""
    # GSM-7 fits 160 characters (153 per part when split); anything else goes as UCS-2: 70 / 67.
    single, multi = (160, 153) if text.isascii() else (70, 67)
    return 1 if len(text) <= single else -(-len(text) // multi)


def cost(price: str, status: int, sms_cnt: int) -> str:
    """What a message cost: ``price`` per part when its status is charged, else ``"0"``."""
    return f"{float(price) * sms_cnt:.2f}" if status in _CHARGED else "0"


def public(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored record as history sends it: the wire fields only, in order, as a copy."""
    return {key: record[key] for key in WIRE_FIELDS}


def _complete(
    fields: Mapping[str, Any], *, next_id: int, next_int_id: int, now: float, tz: ZoneInfo
) -> dict[str, Any]:
    """A full stored record from partial ``fields`` (see :meth:`History.append`)."""
    given = dict(fields)
    comment = given.pop("comment", "")
    settle = given.pop(SETTLE, None)
    unknown = set(given) - set(WIRE_FIELDS)
    if unknown:
        raise ValueError(f"unknown message fields: {sorted(unknown)}")
    phone = str(given.get("phone", "79990000001"))
    operator = operator_of(normalise_phone(phone))
    status = given.get("status", 1)
    message = given.get("message", "Ваш код подтверждения: 1234")
    sms_cnt = given.get("sms_cnt", parts(str(message)))
    send_ts = given.get("send_timestamp", int(now))
    last_ts = given.get("last_timestamp", send_ts)
    price = operator.price if operator else UNKNOWN_PRICE
    defaults: dict[str, Any] = {
        "status": status,
        "last_date": format_date(as_int(last_ts), tz),
        "last_timestamp": last_ts,
        "err": 0,
        "send_date": format_date(as_int(send_ts), tz),
        "send_timestamp": send_ts,
        "phone": phone,
        "country": operator.country if operator else ("Россия" if phone.startswith("7") else ""),
        "operator": operator.name if operator else "",
        "region": "Москва" if operator and operator.country == "Россия" else "",
        "type": 0,
        "cost": cost(price, as_int(status), as_int(sms_cnt)),
        "sender": "SMSC.RU",
        "status_name": STATUS_NAMES_RU.get(as_int(status), ""),
        "message": message,
        "mccmnc": operator.mccmnc if operator else "",
        "id": next_id,
        "int_id": next_int_id,
        "sms_cnt": sms_cnt,
        "format": 0,
        "crc": zlib.crc32(str(message).encode("utf-8")),
    }
    record = {key: given.get(key, defaults[key]) for key in WIRE_FIELDS}
    record[COMMENT] = comment
    if settle is not None:
        record[SETTLE] = settle
    return record


def _settle(record: dict[str, Any], now: float, tz: ZoneInfo) -> bool:
    """Apply the record's pending change of status if its moment has come; whether it did."""
    pending = record.get(SETTLE)
    if pending is None or pending[0] > now:
        return False
    at, status, err = pending
    record.update(
        status=status,
        err=err,
        last_timestamp=at,
        last_date=format_date(at, tz),
        status_name=STATUS_NAMES_RU.get(status, ""),
    )
    del record[SETTLE]
    return True


class History:
    """One account's messages as SMS Center keeps them, in ``int_id`` order (the newest last).

    Dates are formatted in ``tz``. A message in progress settles (takes its pending status) when
    :meth:`settle` is called at or after the moment of the change. ``listeners`` are called with
    the record after each change of status: a new message, and each settling (the push sender,
    ``bot.smsc.pusher``, listens).
    """

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        self._records: list[dict[str, Any]] = []
        self._top_int_id = 1_000_000  # the highest int_id and id so far: the next gets +1
        self._top_id = 0

    def append(self, fields: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Store a message from ``fields`` and return the stored record.

        Missing fields get sane defaults: phone ``79990000001``, status 1, err 0, a code text,
        sender ``SMSC.RU``; operator, region and mccmnc from the number's prefix; cost from the
        operator's price and the number of parts; ``send_timestamp`` ``now``,
        ``last_timestamp`` equal to it; dates formatted in ``tz``; ``int_id`` and ``id`` one
        above the highest so far. Given values are kept as given (a test may pass ``"1"`` where
        SMS Center usually sends ``1``). ``comment`` sets status.php's comment. A field the
        protocol does not have is a ``ValueError``.
        """
        record = _complete(
            fields, next_id=self._top_id + 1, next_int_id=self._top_int_id + 1, now=now, tz=self.tz
        )
        self._records.append(record)
        self._top_int_id = max(self._top_int_id, as_int(record["int_id"]))
        self._top_id = max(self._top_id, as_int(record["id"]))
        # Hand-made data may give int_ids out of order.
        if len(self._records) > 1 and as_int(self._records[-2]["int_id"]) > as_int(
            record["int_id"]
        ):
            self._records.sort(key=lambda message: as_int(message["int_id"]))
        for listener in self.listeners:
            listener(record)
        return record

    def settle(self, now: float) -> None:
        """Apply every pending change of status whose moment has come by ``now``."""
        for record in self._records:
            if _settle(record, now, self.tz):
                for listener in self.listeners:
                    listener(record)

    def newest_first(self) -> Iterator[dict[str, Any]]:
        """The stored records, newest first (not copies: see :func:`public`)."""
        newest: Iterator[dict[str, Any]] = reversed(self._records)
        return newest

    def find(self, phone: str, message_id: str) -> dict[str, Any] | None:
        """The newest message to the normalised ``phone`` with this ``id``, if any."""
        for record in self.newest_first():
            same_id = str(record["id"]).strip() == message_id
            if same_id and normalise_phone(str(record["phone"])) == phone:
                return record
        return None


def status_answer(record: Mapping[str, Any] | None, detail: int) -> dict[str, Any]:
    """status.php's object for one message (``None``: not found) at ``all=detail`` (0, 1, 2).

    ``all=1`` adds the text form's key names (``sender_id``, ``comment``) with
    ``send_timestamp`` and ``sms_cnt``; ``all=2`` adds country, operator and region. A message
    not found is status -3 with the ``all=0`` fields only.
    """
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
            comment=record.get(COMMENT, ""),
            type=record["type"],
            sms_cnt=record["sms_cnt"],
        )
    if detail >= 2:
        answer.update(
            country=record["country"], operator=record["operator"], region=record["region"]
        )
    return answer
