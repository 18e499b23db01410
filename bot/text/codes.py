"""SMS Center status and delivery-error codes as data, in English and Russian.

The tables follow ``smsc-api.md`` ("Message status codes" and "Delivery error codes (err)").
Each entry carries a short label (``name``), one sentence for a phone screen saying what it means
or what usually helps, and the answer to the support agent's first question, "should we resend
the code?" (:class:`Retry`).

Lookups never raise: a code SMS Center adds later gets a generic entry naming the number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "ERRORS",
    "FAILURE_STATUSES",
    "STATUSES",
    "ErrorInfo",
    "Lang",
    "Phase",
    "Retry",
    "StatusInfo",
    "Text",
    "error_info",
    "failure_retry",
    "lang_for",
    "status_info",
]


class Lang(StrEnum):
    """A language the bot answers in."""

    EN = "en"
    RU = "ru"


def lang_for(language_code: str | None) -> Lang:
    """Pick the answer language from Telegram's ``User.language_code``.

    Russian for any tag whose primary subtag is ``ru`` (``"ru"``, ``"ru-RU"``, ``"RU_ru"``),
    English for everything else, missing or empty included. Deliberately simple: Ukrainian,
    Belarusian or Kazakh users get English rather than a guess at which language they prefer.
    """
    if not language_code:
        return Lang.EN
    primary = language_code.strip().replace("_", "-").split("-", 1)[0].lower()
    return Lang.RU if primary == "ru" else Lang.EN


class Retry(StrEnum):
    """Whether sending the message again can succeed."""

    #: Resending later can succeed as is (phone off, operator queue full, a daily limit).
    TEMPORARY = "temporary"
    #: Resending will not help until something changes (number, account settings, text, SIM).
    PERMANENT = "permanent"
    #: Nobody knows (no delivery report, operator's rejection without a reason).
    UNKNOWN = "unknown"
    #: The question does not arise: delivered, still on its way, or not found.
    NOT_APPLICABLE = "n/a"


class Phase(StrEnum):
    """Coarse grouping of statuses, for icons and counts."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    NOT_FOUND = "not_found"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class Text:
    """One piece of user-facing text in every supported language; never empty."""

    en: str
    ru: str

    def __post_init__(self) -> None:
        # An empty translation would show as a blank line in a chat; fail at import instead.
        if not self.en.strip() or not self.ru.strip():
            raise ValueError(f"both translations are required: {self!r}")

    def __call__(self, lang: Lang) -> str:
        """The text in ``lang``."""
        return self.ru if lang is Lang.RU else self.en


@dataclass(frozen=True, slots=True)
class StatusInfo:
    """What the bot knows about one message status code.

    ``final`` says the status will not change any more (except 1 "delivered", which may still
    become 2 "read" or 4 "link clicked"); ``retry`` is the answer for the status alone — use
    :func:`failure_retry` to take the ``err`` code into account.
    """

    code: int
    name: Text
    meaning: Text
    phase: Phase
    final: bool
    retry: Retry


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """What the bot knows about one delivery error code (``err``)."""

    code: int
    name: Text
    help: Text
    retry: Retry


def _status(
    code: int,
    name: tuple[str, str],
    meaning: tuple[str, str],
    phase: Phase,
    final: bool,
    retry: Retry,
) -> tuple[int, StatusInfo]:
    return code, StatusInfo(code, Text(*name), Text(*meaning), phase, final, retry)


def _error(
    code: int, name: tuple[str, str], help_: tuple[str, str], retry: Retry
) -> tuple[int, ErrorInfo]:
    return code, ErrorInfo(code, Text(*name), Text(*help_), retry)


_T, _P, _U, _NA = Retry.TEMPORARY, Retry.PERMANENT, Retry.UNKNOWN, Retry.NOT_APPLICABLE

STATUSES: Mapping[int, StatusInfo] = MappingProxyType(
    dict(
        [
            _status(
                -3,
                ("not found", "не найдено"),
                (
                    "no message for this number and id — check both",
                    "нет сообщения с таким номером и id — проверьте оба",
                ),
                Phase.NOT_FOUND,
                True,
                _NA,
            ),
            _status(
                -2,
                ("stopped", "остановлено"),
                (
                    "the mailing was paused before this message left",
                    "рассылку приостановили до отправки этого сообщения",
                ),
                Phase.STOPPED,
                False,
                _NA,
            ),
            _status(
                -1,
                ("waiting to be sent", "ожидает отправки"),
                (
                    "queued or scheduled, not yet passed to the operator",
                    "в очереди или отложено, оператору ещё не передано",
                ),
                Phase.PENDING,
                False,
                _NA,
            ),
            _status(
                0,
                ("passed to operator", "передано оператору"),
                (
                    "the operator has it, no delivery report yet — wait a little",
                    "сообщение у оператора, отчёта о доставке пока нет — подождите",
                ),
                Phase.PENDING,
                False,
                _NA,
            ),
            _status(
                1,
                ("delivered", "доставлено"),
                ("delivered to the phone", "доставлено на телефон"),
                Phase.DELIVERED,
                True,
                _NA,
            ),
            _status(
                2,
                ("read", "прочитано"),
                ("delivered and opened", "доставлено и открыто"),
                Phase.DELIVERED,
                True,
                _NA,
            ),
            _status(
                3,
                ("expired", "просрочено"),
                (
                    "not delivered in time: phone off for long or its memory full — resend later",
                    "не доставлено вовремя: телефон долго выключен или память полна — "
                    "отправьте позже",
                ),
                Phase.FAILED,
                True,
                _T,
            ),
            _status(
                4,
                ("link clicked", "нажата ссылка"),
                (
                    "delivered, and the link in it was opened",
                    "доставлено, и ссылку в нём открыли",
                ),
                Phase.DELIVERED,
                True,
                _NA,
            ),
            _status(
                20,
                ("impossible to deliver", "невозможно доставить"),
                (
                    "the delivery attempt failed — the error code says why",
                    "попытка доставки не удалась — причину называет код ошибки",
                ),
                Phase.FAILED,
                True,
                _U,
            ),
            _status(
                22,
                ("wrong number", "неверный номер"),
                (
                    "the number's format is wrong — check the number",
                    "неверный формат номера — проверьте номер",
                ),
                Phase.FAILED,
                True,
                _P,
            ),
            _status(
                23,
                ("prohibited", "запрещено"),
                (
                    "stopped by limits, blacklist or spam filter — see the error code",
                    "остановлено лимитом, чёрным списком или спам-фильтром — см. код ошибки",
                ),
                Phase.FAILED,
                True,
                _P,
            ),
            _status(
                24,
                ("not enough money", "недостаточно средств"),
                (
                    "the account's balance was too low — top it up, then resend",
                    "на счёте не хватило денег — пополните баланс и отправьте снова",
                ),
                Phase.FAILED,
                True,
                _T,
            ),
            _status(
                25,
                ("number unavailable", "недоступный номер"),
                (
                    "the number takes no SMS or has no route — ask for another number",
                    "номер не принимает SMS или к нему нет маршрута — попросите другой номер",
                ),
                Phase.FAILED,
                True,
                _P,
            ),
        ]
    )
)

ERRORS: Mapping[int, ErrorInfo] = MappingProxyType(
    dict(
        [
            _error(
                0,
                ("no error", "нет ошибки"),
                (
                    "the subscriber exists and is reachable",
                    "абонент существует и доступен",
                ),
                _NA,
            ),
            _error(
                1,
                ("subscriber does not exist", "абонент не существует"),
                (
                    "wrong or disconnected number — ask for another",
                    "номер неверный или отключён — попросите другой",
                ),
                _P,
            ),
            _error(
                6,
                ("subscriber offline", "абонент не в сети"),
                (
                    "phone off or out of coverage — ask them to check, then resend",
                    "телефон выключен или вне зоны сети — попросите проверить и отправьте снова",
                ),
                _T,
            ),
            _error(
                11,
                ("no SMS service", "нет услуги SMS"),
                (
                    "the number can't receive SMS (landline, roaming) — use another channel",
                    "номер не принимает SMS (городской, роуминг) — используйте другой канал",
                ),
                _P,
            ),
            _error(
                12,
                ("phone or SIM error", "ошибка в телефоне абонента"),
                (
                    "the phone or SIM rejects SMS — ask them to restart it or check the SIM",
                    "телефон или SIM-карта не принимает SMS — попросите перезагрузить "
                    "телефон или проверить SIM",
                ),
                _P,
            ),
            _error(
                13,
                ("subscriber blocked", "абонент заблокирован"),
                (
                    "blocked by the operator or at zero balance — they must sort it out",
                    "заблокирован оператором или нулевой баланс — абоненту нужно это решить",
                ),
                _P,
            ),
            _error(
                21,
                ("service not supported", "нет поддержки сервиса"),
                (
                    "the device can't take this kind of message — send a plain SMS",
                    "устройство не поддерживает такой тип сообщения — отправьте обычное SMS",
                ),
                _P,
            ),
            _error(
                200,
                ("virtual sending", "виртуальная отправка"),
                (
                    "sent in test mode, never delivered — turn test mode off",
                    "отправлено в тестовом режиме и не доставлялось — отключите тестовый режим",
                ),
                _P,
            ),
            _error(
                219,
                ("SIM card replaced", "замена sim-карты"),
                (
                    "SIM swapped: named senders blocked for 24 h — resend later",
                    "SIM-карту заменили: буквенные отправители заблокированы на 24 ч — "
                    "отправьте позже",
                ),
                _T,
            ),
            _error(
                220,
                ("operator queue full", "переполнена очередь у оператора"),
                (
                    "the subscriber is unreachable and messages pile up — resend later",
                    "абонент недоступен, сообщения копятся — отправьте позже",
                ),
                _T,
            ),
            _error(
                237,
                ("no answer", "абонент не отвечает"),
                (
                    "the call was not answered — try again later",
                    "на звонок не ответили — повторите позже",
                ),
                _T,
            ),
            _error(
                238,
                ("no template", "нет шаблона"),
                (
                    "the text fits no approved template — fix the text",
                    "текст не подходит ни под один шаблон — исправьте текст",
                ),
                _P,
            ),
            _error(
                239,
                ("forbidden IP address", "запрещенный ip-адрес"),
                (
                    "sent from an IP the account does not allow — check allowed IPs",
                    "отправлено с IP, не разрешённого в аккаунте — проверьте список IP",
                ),
                _P,
            ),
            _error(
                240,
                ("subscriber busy", "абонент занят"),
                ("the line was busy — try again later", "линия была занята — повторите позже"),
                _T,
            ),
            _error(
                241,
                ("conversion error", "ошибка конвертации"),
                (
                    "not all parts reached the operator — resend",
                    "оператору дошли не все части — отправьте снова",
                ),
                _T,
            ),
            _error(
                242,
                ("answering machine", "зафиксирован автоответчик"),
                (
                    "an answering machine picked up — call again later",
                    "ответил автоответчик — позвоните позже",
                ),
                _T,
            ),
            _error(
                243,
                ("no contract", "не заключен договор"),
                (
                    "no contract for mass mailings — an account matter",
                    "нет договора на массовые рассылки — вопрос к аккаунту",
                ),
                _P,
            ),
            _error(
                244,
                ("mailing prohibited", "рассылка запрещена"),
                (
                    "mailings barred for the account or a link is forbidden — check the text",
                    "рассылки запрещены аккаунту или ссылка в тексте запрещена — проверьте текст",
                ),
                _P,
            ),
            _error(
                245,
                ("status not received", "статус не получен"),
                (
                    "no delivery report within a day — delivery is unknown, not failed",
                    "отчёта о доставке нет сутки — доставка неизвестна, это не отказ",
                ),
                _U,
            ),
            _error(
                246,
                ("time restriction", "ограничение по времени"),
                (
                    "sending is not allowed at this hour — resend in allowed hours",
                    "в это время отправка запрещена — отправьте в разрешённые часы",
                ),
                _T,
            ),
            _error(
                247,
                ("message limit exceeded", "превышен лимит сообщений"),
                (
                    "the account's daily limit is spent — raise it or wait a day",
                    "дневной лимит аккаунта исчерпан — увеличьте его или подождите сутки",
                ),
                _T,
            ),
            _error(
                248,
                ("no route", "нет маршрута"),
                (
                    "this number's operator is not served — ask for another number",
                    "оператор этого номера не обслуживается — попросите другой номер",
                ),
                _P,
            ),
            _error(
                249,
                ("wrong number format", "неверный формат номера"),
                (
                    "code and length don't match — fix the number",
                    "код и длина номера не совпадают — исправьте номер",
                ),
                _P,
            ),
            _error(
                250,
                ("number prohibited by settings", "номер запрещен настройками"),
                (
                    "the account's settings forbid this number — check the settings",
                    "настройки аккаунта запрещают этот номер — проверьте настройки",
                ),
                _P,
            ),
            _error(
                251,
                ("limit per number exceeded", "превышен лимит на один номер"),
                (
                    "too many messages to this number today — wait or raise the limit",
                    "слишком много сообщений на этот номер за сутки — подождите "
                    "или увеличьте лимит",
                ),
                _T,
            ),
            _error(
                252,
                ("number prohibited", "номер запрещен"),
                (
                    "SMS Center does not send to this number",
                    "SMS Center не отправляет на этот номер",
                ),
                _P,
            ),
            _error(
                253,
                ("blocked by spam filter", "запрещено спам-фильтром"),
                (
                    "the text or sender id was taken for spam — change them",
                    "текст или имя отправителя сочтены спамом — измените их",
                ),
                _P,
            ),
            _error(
                254,
                ("unregistered sender id", "незарегистрированный sender id"),
                (
                    "the sender name is not registered — register it",
                    "имя отправителя не зарегистрировано — зарегистрируйте его",
                ),
                _P,
            ),
            _error(
                255,
                ("rejected by operator", "отклонено оператором"),
                (
                    "the operator refused without a reason — resend once, then ask support",
                    "оператор отказал без причины — отправьте ещё раз, затем спросите поддержку",
                ),
                _U,
            ),
        ]
    )
)

#: Statuses that count as "undelivered" for triage and ``/failed`` (PRODUCT.md §5).
FAILURE_STATUSES: frozenset[int] = frozenset({3, 20, 22, 23, 24, 25})

# Statuses whose own cause decides the retry answer, whatever ``err`` says.
_RETRY_FROM_STATUS_ONLY: frozenset[int] = frozenset({22, 24})


def status_info(code: int) -> StatusInfo:
    """The entry for status ``code``; a generic "unknown status N" entry if there is none.

    Never raises. An unknown status is treated as not final (it may yet change) and its
    retry answer as unknown.
    """
    info = STATUSES.get(code)
    if info is not None:
        return info
    return StatusInfo(
        code=code,
        name=Text(f"unknown status {code}", f"неизвестный статус {code}"),
        meaning=Text(
            "a status this bot does not know — see SMS Center's status codes",
            "статус, неизвестный боту — см. коды статусов SMS Center",
        ),
        phase=Phase.PENDING,
        final=False,
        retry=Retry.UNKNOWN,
    )


def error_info(code: int) -> ErrorInfo:
    """The entry for delivery error ``code``; a generic "error N" entry if there is none.

    Never raises.
    """
    info = ERRORS.get(code)
    if info is not None:
        return info
    return ErrorInfo(
        code=code,
        name=Text(f"error {code}", f"ошибка {code}"),
        help=Text(
            "an error this bot does not know — see SMS Center's error codes",
            "ошибка, неизвестная боту — см. коды ошибок SMS Center",
        ),
        retry=Retry.UNKNOWN,
    )


def failure_retry(status: int, err: int | None) -> Retry:
    """Whether resending can succeed, from a message's ``status`` and ``err`` together.

    - Not a failure (see :data:`FAILURE_STATUSES`): ``NOT_APPLICABLE``.
    - 22 "wrong number" is ``PERMANENT`` and 24 "not enough money" ``TEMPORARY`` (top up, then
      resend): the status itself is the cause, whatever ``err`` says.
    - 3, 20, 23, 25: the ``err`` code's answer when it gives a definite one (temporary or
      permanent), otherwise the status's own answer — 3 expired ``TEMPORARY``, 20 ``UNKNOWN``,
      23 prohibited and 25 unavailable ``PERMANENT``. So 23 with err 251 (limit per number) is
      temporary, and 3 with err 1 (no such subscriber) permanent.
    """
    if status not in FAILURE_STATUSES:
        return Retry.NOT_APPLICABLE
    by_status = status_info(status).retry
    if status in _RETRY_FROM_STATUS_ONLY or err is None:
        return by_status
    by_err = error_info(err).retry
    if by_err in (Retry.TEMPORARY, Retry.PERMANENT):
        return by_err
    return by_status
