"""The demo account: its key and balance, and several hundred generated messages over the four
days before the clock's now, deterministic for a seed, shaped like a real account's.

May import: the standard library, ``bot.smsc.records``. Mostly data tables.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.smsc.records import (
    KCELL,
    OPERATORS,
    SETTLE,
    UNKNOWN_PRICE,
    Operator,
    cost,
    operator_of,
    parts,
)

__all__ = ["DEMO_ACCOUNT", "DEMO_API_KEY", "DEMO_BALANCE", "DEMO_NUMBERS", "demo_messages"]

#: The name the demo registers its account under.
DEMO_ACCOUNT: Final = "demo"
#: The demo account's key: a published constant, not a secret (it opens nothing but the simulator).
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

# How the demo's numbers spread over OPERATORS and over regions.
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


@dataclass(frozen=True)
class _Subscriber:
    phone: str
    operator: Operator | None  # None: SMS Center could not tell (no operator, region, mccmnc)
    region: str


def demo_messages(rng: random.Random, now: float, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Several hundred messages over the four days before ``now``, oldest first.

    Deterministic for a given ``rng`` seed and ``now``. Mostly delivered, every history status
    present, failures with real ``err`` codes, a few mailings sharing one ``id`` (ids are unique
    per number, not globally), numbers with long histories, a burst of failures in the last hour
    and the numbers of :data:`DEMO_NUMBERS` with their promised newest message.
    """
    return _DemoHistory(rng, int(now), tz).build()


_DAY: Final = 86_400
_HOUR: Final = 3_600
#: A Viber message's price: one part, whatever its length.
_VIBER_PRICE: Final = "1.85"

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
    """Builds the demo account's messages (see :func:`demo_messages`)."""

    def __init__(self, rng: random.Random, now: int, tz: ZoneInfo) -> None:
        self.rng = rng
        self.now = now
        self.tz = tz
        self.specs: list[dict[str, Any]] = []
        self.group = 0
        self.pool = self._subscribers(90)

    def build(self) -> list[dict[str, Any]]:
        """Every message, oldest first, with its ids."""
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
                operator: Operator | None = rng.choices(OPERATORS, _OPERATOR_WEIGHTS)[0]
            else:
                operator = KCELL
            assert operator is not None
            phone = "7" + rng.choice(operator.prefixes) + f"{rng.randrange(10**7):07d}"
            if phone in taken:
                continue
            taken.add(phone)
            roll = rng.random()
            if roll < 0.05 and operator is not KCELL:
                operator = rng.choice(OPERATORS)  # ported: the prefix no longer tells
            elif roll < 0.09 and operator is not KCELL:
                operator = None
            region = ""
            if operator is not None and operator is not KCELL:
                region = rng.choices(_REGIONS, _REGION_WEIGHTS)[0]
            pool.append(_Subscriber(phone, operator, region))
        return pool

    @staticmethod
    def _fixed(phone: str, region: str = "Москва") -> _Subscriber:
        return _Subscriber(phone, operator_of(phone), region)

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
        price = _VIBER_PRICE if viber else (operator.price if operator else UNKNOWN_PRICE)
        spec["sms_cnt"] = 1 if viber else parts(message)
        spec["cost"] = cost(price, spec["status"], spec["sms_cnt"])
        if settle is not None:
            spec[SETTLE] = (settle[2], status, err)
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
            self.specs[-1][SETTLE] = (sent + self.rng.randint(200, 400), 1, 0)
        self._one(self.rng.choice(self.pool), now - 30, outcome=(-1, 0))
        self.specs[-1][SETTLE] = (now + 60, 1, 0)

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
