"""Realistic SMS Center accounts: thousands of numbers, and statuses that change as time passes.

Two sizes, as PRODUCT.md §7 describes them:

- **small** — about 2 000 SMS a day; in the afternoon the newest 1000 messages reach back most
  of the working day;
- **busy** — about 30 000 SMS a day; the newest 1000 reach back about half an hour.

Sends follow the day: per hour of the account's day (Moscow) a rate weight (night 0.4,
morning 0.8, day 1.3, evening 0.9) scaled so the day sums to the size's daily volume; within an
hour, sends are a Poisson process. Each send goes to a number drawn uniformly from a pool of
many thousands. Its outcome and the moment the status settles are drawn at sending
(``outcome``): most go ``-1``/``0`` → delivered within seconds to minutes, some fail (status 20
with err 6, 1, 13 or 11), a few expire (3) after hours, some stay "passed to the operator" for
hours or for good. A message whose status settles after the hour starts carries the
simulator's ``"_settle": (at, status, err)``; one that settled before carries its final status.

Everything is seeded; the same (size, seed) gives the same account on every machine. The
account's truth — which message is the newest to a number and what its status is at a moment —
is ``Truth``, built from the same ``Sent`` records the simulator is given.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

HOUR: Final = 3600.0
DAY: Final = 86400.0
MOSCOW: Final = ZoneInfo("Europe/Moscow")
FIRST_INT_ID: Final = 3_100_000_000  # int_ids are global at SMS Center: large, with gaps
FIRST_ID: Final = 500_000

# Rate weights by hour of the account's day (0-6 night, 7-8 morning, 9-20 day, 21-23 evening).
DAY_WEIGHTS: Final = tuple(
    0.4 if hour < 7 else 0.8 if hour < 9 else 1.3 if hour < 21 else 0.9 for hour in range(24)
)

# Outcomes: (share, status, err choices with weights, settle delay in seconds (low, high)).
DELIVERED_SHARE: Final = 0.78
FAILED_SHARE: Final = 0.12
EXPIRED_SHARE: Final = 0.03  # the rest (0.07) stay "passed to the operator" for long
FAILED_ERRS: Final = ((6, 5), (1, 2), (13, 2), (11, 1))  # (err, weight)
WAITING_START: Final = 0.3  # share of sends first shown as -1 "waiting", the rest as 0


@dataclass(frozen=True, slots=True)
class Size:
    """An account's size: ``per_day`` sends a day to a pool of ``numbers`` numbers, with
    ``days`` of history before the benchmark hour."""

    name: str
    per_day: int
    numbers: int
    days: float


SMALL: Final = Size("small", 2_000, 6_000, 3.0)
BUSY: Final = Size("busy", 30_000, 60_000, 2.0)
SIZES: Final = {size.name: size for size in (SMALL, BUSY)}


@dataclass(frozen=True, slots=True)
class Sent:
    """One message: sent ``at`` (Unix time) to ``phone``, first ``status``/``err``; when
    ``settle_at`` is set, the status becomes ``final`` (status, err) at that moment."""

    at: int
    phone: str
    status: int
    err: int
    settle_at: int | None = None
    final: tuple[int, int] = (1, 0)
    int_id: int = 0
    id: int = 0

    def status_at(self, moment: float) -> tuple[int, int]:
        """(status, err) as SMS Center shows it at ``moment``."""
        if self.settle_at is not None and self.settle_at <= moment:
            return self.final
        return self.status, self.err

    def record(self) -> dict[str, Any]:
        """The message as ``SimulatedSmsc`` takes it (``accounts=`` or ``add_message``)."""
        fields: dict[str, Any] = {
            "phone": self.phone,
            "send_timestamp": self.at,
            "last_timestamp": self.at,
            "status": self.status,
            "err": self.err,
            "id": self.id,
            "int_id": self.int_id,
        }
        if self.settle_at is not None:
            fields["_settle"] = (self.settle_at, *self.final)
        return fields

    def settled_by(self, moment: float) -> Sent:
        """The same message with any change due by ``moment`` already made."""
        if self.settle_at is None or self.settle_at > moment:
            return self
        status, err = self.final
        return replace(self, status=status, err=err, settle_at=None)


def outcome(rng: random.Random, at: int) -> tuple[int, int, int | None, tuple[int, int]]:
    """A send's first (status, err), when it settles (or None: never) and to what."""
    first = -1 if rng.random() < WAITING_START else 0
    roll = rng.random()
    if roll < DELIVERED_SHARE:
        pick = rng.random()
        delay = (
            rng.uniform(2, 40)
            if pick < 0.7
            else rng.uniform(40, 600)
            if pick < 0.95
            else rng.uniform(600, HOUR)
        )
        return first, 0, at + math.ceil(delay), (1, 0)
    roll -= DELIVERED_SHARE
    if roll < FAILED_SHARE:
        errs, weights = zip(*FAILED_ERRS, strict=True)
        err = rng.choices(errs, weights)[0]
        delay = rng.uniform(5, 120) if rng.random() < 0.7 else rng.uniform(120, 1800)
        return first, 0, at + math.ceil(delay), (20, err)
    roll -= FAILED_SHARE
    if roll < EXPIRED_SHARE:
        return 0, 0, at + math.ceil(rng.uniform(3 * HOUR, 12 * HOUR)), (3, 0)
    if rng.random() < 0.5:  # delivered at last, hours later
        return 0, 0, at + math.ceil(rng.uniform(2 * HOUR, 12 * HOUR)), (1, 0)
    return 0, 0, None, (0, 0)  # stays "passed to the operator"


def send_times(rng: random.Random, per_day: int, begin: float, end: float) -> list[int]:
    """Moments of sends in [begin, end), whole seconds, oldest first, following the day."""
    scale = per_day / sum(DAY_WEIGHTS)  # sends in an hour of weight 1
    moments: list[int] = []
    slot = math.floor(begin / HOUR) * HOUR
    while slot < end:
        low, high = max(slot, begin), min(slot + HOUR, end)
        hour = datetime.fromtimestamp(slot, MOSCOW).hour
        expected = scale * DAY_WEIGHTS[hour] * (high - low) / HOUR
        count = max(0, round(rng.gauss(expected, math.sqrt(expected)))) if expected else 0
        moments.extend(int(rng.uniform(low, high)) for _ in range(count))
        slot += HOUR
    moments.sort()
    return moments


def phone_pool(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct mobile numbers, ``79`` and nine digits."""
    return [f"79{n:09d}" for n in rng.sample(range(10**9), count)]


@dataclass(frozen=True)
class Account:
    """An account's traffic around the benchmark hour, which starts at ``start``.

    ``history`` is sent before the hour (numbered, statuses settled up to ``start``);
    ``traffic`` is the account's own sends during the hour (numbered later, with the
    question-driven sends of ``bench.questions``).
    """

    size: Size
    seed: int
    start: float
    numbers: tuple[str, ...]
    history: tuple[Sent, ...]
    traffic: tuple[Sent, ...]

    def records(self) -> list[dict[str, Any]]:
        """The history as ``SimulatedSmsc(accounts={key: ...})`` takes it, oldest first."""
        return [sent.record() for sent in self.history]


def build_account(size: Size, seed: int, start: float) -> Account:
    """The account of ``size`` for ``seed``: ``size.days`` of history before ``start`` and
    one hour of traffic after it."""
    rng = random.Random(f"bench-account-{size.name}-{seed}")
    numbers = phone_pool(rng, size.numbers)
    history: list[Sent] = []
    for at in send_times(rng, size.per_day, start - size.days * DAY, start):
        history.append(_send(rng, at, rng.choice(numbers)).settled_by(start))
    history = number(history, FIRST_INT_ID, FIRST_ID)
    hour = send_times(rng, size.per_day, start, start + HOUR)
    traffic = [_send(rng, at, rng.choice(numbers)) for at in hour]
    return Account(size, seed, start, tuple(numbers), tuple(history), tuple(traffic))


def _send(rng: random.Random, at: int, phone: str) -> Sent:
    status, err, settle_at, final = outcome(rng, at)
    return Sent(at, phone, status, err, settle_at, final)


def new_send(rng: random.Random, at: int, phone: str) -> Sent:
    """A send at ``at`` to ``phone`` with a drawn outcome (unnumbered)."""
    return _send(rng, at, phone)


def number(sends: Iterable[Sent], first_int_id: int, first_id: int) -> list[Sent]:
    """``sends`` in time order with ``int_id`` and ``id`` rising from the given ones (gaps in
    ``int_id``: other customers' messages went out in between)."""
    ordered = sorted(sends, key=lambda sent: sent.at)
    return [
        replace(sent, int_id=first_int_id + 3 * n, id=first_id + n)
        for n, sent in enumerate(ordered)
    ]


def _sent_at(sent: Sent) -> tuple[int, int]:
    return sent.at, sent.int_id


class Truth:
    """What SMS Center knows: the messages to each number and their status at any moment.

    Built from every ``Sent`` handed to the simulator (history and the hour's sends, numbered);
    a send exists from its ``at`` on, as the replay adds it to the simulator then.
    """

    def __init__(self, sends: Iterable[Sent]) -> None:
        self._by_phone: dict[str, list[Sent]] = {}
        for sent in sends:
            self._by_phone.setdefault(sent.phone, []).append(sent)
        for found in self._by_phone.values():
            found.sort(key=lambda sent: sent.int_id)
        self._times = {phone: [s.at for s in found] for phone, found in self._by_phone.items()}
        self._all = sorted((s for found in self._by_phone.values() for s in found), key=_sent_at)
        self._all_times = [s.at for s in self._all]

    def sent_between(self, since: float, until: float) -> Sequence[Sent]:
        """Every message sent in [``since``, ``until``], oldest first."""
        low = bisect.bisect_left(self._all_times, since)
        high = bisect.bisect_right(self._all_times, until)
        return self._all[low:high]

    def newest(self, phone: str, moment: float) -> Sent | None:
        """The newest message to ``phone`` sent by ``moment`` (None: there is none)."""
        found = self._by_phone.get(phone)
        if not found:
            return None
        index = bisect.bisect_right(self._times[phone], moment)
        return found[index - 1] if index else None

    def sends_to(self, phone: str) -> Sequence[Sent]:
        """Every message to ``phone``, oldest first."""
        return self._by_phone.get(phone, ())

    def __contains__(self, phone: object) -> bool:
        return phone in self._by_phone
