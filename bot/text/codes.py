"""What the bot says about SMS Center's status and delivery-error codes, in English and Russian.

The words follow ``smsc-api.md`` ("Message status codes" and "Delivery error codes (err)"); what
a code *is* (phase, final, whether resending can succeed) is the protocol's, in
:mod:`bot.smsc.codes`, and is re-exported here so the words layer reads as one. Each entry
carries a short label (``name``) and one sentence for a phone screen saying what it means or what
usually helps. Every code of the protocol's tables has words here and no other code does (checked
at import).

Lookups never raise: a code SMS Center adds later gets a generic entry naming the number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.smsc.codes import (
    ERROR_CODES,
    FAILURE_STATUSES,
    STATUS_CODES,
    Phase,
    Retry,
    error_code,
    failure_retry,
    status_code,
)
from bot.text.phrases import Lang, Text, lang_for

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


@dataclass(frozen=True, slots=True)
class StatusInfo:
    """What the bot knows and says about one message status code.

    ``phase``, ``final`` and ``retry`` are the protocol's (:class:`bot.smsc.codes.StatusCode`):
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
    """What the bot knows and says about one delivery error code (``err``)."""

    code: int
    name: Text
    help: Text
    retry: Retry


# Status code -> (name, meaning).
_STATUS_WORDS: dict[int, tuple[Text, Text]] = {
    -3: (
        Text("not found", "не найдено"),
        Text(
            "no message for this number and id — check both",
            "нет сообщения с таким номером и id — проверьте оба",
        ),
    ),
    -2: (
        Text("stopped", "остановлено"),
        Text(
            "the mailing was paused before this message left",
            "рассылку приостановили до отправки этого сообщения",
        ),
    ),
    -1: (
        Text("waiting to be sent", "ожидает отправки"),
        Text(
            "queued or scheduled, not yet passed to the operator",
            "в очереди или отложено, оператору ещё не передано",
        ),
    ),
    0: (
        Text("passed to operator", "передано оператору"),
        Text(
            "the operator has it, no delivery report yet — wait a little",
            "сообщение у оператора, отчёта о доставке пока нет — подождите",
        ),
    ),
    1: (
        Text("delivered", "доставлено"),
        Text("delivered to the phone", "доставлено на телефон"),
    ),
    2: (
        Text("read", "прочитано"),
        Text("delivered and opened", "доставлено и открыто"),
    ),
    3: (
        Text("expired", "просрочено"),
        Text(
            "not delivered in time: phone off for long or its memory full — resend later",
            "не доставлено вовремя: телефон долго выключен или память полна — отправьте позже",
        ),
    ),
    4: (
        Text("link clicked", "нажата ссылка"),
        Text("delivered, and the link in it was opened", "доставлено, и ссылку в нём открыли"),
    ),
    20: (
        Text("impossible to deliver", "невозможно доставить"),
        Text(
            "the delivery attempt failed — the error code says why",
            "попытка доставки не удалась — причину называет код ошибки",
        ),
    ),
    22: (
        Text("wrong number", "неверный номер"),
        Text(
            "the number's format is wrong — check the number",
            "неверный формат номера — проверьте номер",
        ),
    ),
    23: (
        Text("prohibited", "запрещено"),
        Text(
            "stopped by limits, blacklist or spam filter — see the error code",
            "остановлено лимитом, чёрным списком или спам-фильтром — см. код ошибки",
        ),
    ),
    24: (
        Text("not enough money", "недостаточно средств"),
        Text(
            "the account's balance was too low — top it up, then resend",
            "на счёте не хватило денег — пополните баланс и отправьте снова",
        ),
    ),
    25: (
        Text("number unavailable", "недоступный номер"),
        Text(
            "the number takes no SMS or has no route — ask for another number",
            "номер не принимает SMS или к нему нет маршрута — попросите другой номер",
        ),
    ),
}

# Delivery error code -> (name, what helps).
_ERROR_WORDS: dict[int, tuple[Text, Text]] = {
    0: (
        Text("no error", "нет ошибки"),
        Text("the subscriber exists and is reachable", "абонент существует и доступен"),
    ),
    1: (
        Text("subscriber does not exist", "абонент не существует"),
        Text(
            "wrong or disconnected number — ask for another",
            "номер неверный или отключён — попросите другой",
        ),
    ),
    6: (
        Text("subscriber offline", "абонент не в сети"),
        Text(
            "phone off or out of coverage — ask them to check, then resend",
            "телефон выключен или вне зоны сети — попросите проверить и отправьте снова",
        ),
    ),
    11: (
        Text("no SMS service", "нет услуги SMS"),
        Text(
            "the number can't receive SMS (landline, roaming) — use another channel",
            "номер не принимает SMS (городской, роуминг) — используйте другой канал",
        ),
    ),
    12: (
        Text("phone or SIM error", "ошибка в телефоне абонента"),
        Text(
            "the phone or SIM rejects SMS — ask them to restart it or check the SIM",
            "телефон или SIM-карта не принимает SMS — попросите перезагрузить "
            "телефон или проверить SIM",
        ),
    ),
    13: (
        Text("subscriber blocked", "абонент заблокирован"),
        Text(
            "blocked by the operator or at zero balance — they must sort it out",
            "заблокирован оператором или нулевой баланс — абоненту нужно это решить",
        ),
    ),
    21: (
        Text("service not supported", "нет поддержки сервиса"),
        Text(
            "the device can't take this kind of message — send a plain SMS",
            "устройство не поддерживает такой тип сообщения — отправьте обычное SMS",
        ),
    ),
    200: (
        Text("virtual sending", "виртуальная отправка"),
        Text(
            "sent in test mode, never delivered — turn test mode off",
            "отправлено в тестовом режиме и не доставлялось — отключите тестовый режим",
        ),
    ),
    219: (
        Text("SIM card replaced", "замена sim-карты"),
        Text(
            "SIM swapped: named senders blocked for 24 h — resend later",
            "SIM-карту заменили: буквенные отправители заблокированы на 24 ч — отправьте позже",
        ),
    ),
    220: (
        Text("operator queue full", "переполнена очередь у оператора"),
        Text(
            "the subscriber is unreachable and messages pile up — resend later",
            "абонент недоступен, сообщения копятся — отправьте позже",
        ),
    ),
    237: (
        Text("no answer", "абонент не отвечает"),
        Text(
            "the call was not answered — try again later", "на звонок не ответили — повторите позже"
        ),
    ),
    238: (
        Text("no template", "нет шаблона"),
        Text(
            "the text fits no approved template — fix the text",
            "текст не подходит ни под один шаблон — исправьте текст",
        ),
    ),
    239: (
        Text("forbidden IP address", "запрещенный ip-адрес"),
        Text(
            "sent from an IP the account does not allow — check allowed IPs",
            "отправлено с IP, не разрешённого в аккаунте — проверьте список IP",
        ),
    ),
    240: (
        Text("subscriber busy", "абонент занят"),
        Text("the line was busy — try again later", "линия была занята — повторите позже"),
    ),
    241: (
        Text("conversion error", "ошибка конвертации"),
        Text(
            "not all parts reached the operator — resend",
            "оператору дошли не все части — отправьте снова",
        ),
    ),
    242: (
        Text("answering machine", "зафиксирован автоответчик"),
        Text(
            "an answering machine picked up — call again later",
            "ответил автоответчик — позвоните позже",
        ),
    ),
    243: (
        Text("no contract", "не заключен договор"),
        Text(
            "no contract for mass mailings — an account matter",
            "нет договора на массовые рассылки — вопрос к аккаунту",
        ),
    ),
    244: (
        Text("mailing prohibited", "рассылка запрещена"),
        Text(
            "mailings barred for the account or a link is forbidden — check the text",
            "рассылки запрещены аккаунту или ссылка в тексте запрещена — проверьте текст",
        ),
    ),
    245: (
        Text("status not received", "статус не получен"),
        Text(
            "no delivery report within a day — delivery is unknown, not failed",
            "отчёта о доставке нет сутки — доставка неизвестна, это не отказ",
        ),
    ),
    246: (
        Text("time restriction", "ограничение по времени"),
        Text(
            "sending is not allowed at this hour — resend in allowed hours",
            "в это время отправка запрещена — отправьте в разрешённые часы",
        ),
    ),
    247: (
        Text("message limit exceeded", "превышен лимит сообщений"),
        Text(
            "the account's daily limit is spent — raise it or wait a day",
            "дневной лимит аккаунта исчерпан — увеличьте его или подождите сутки",
        ),
    ),
    248: (
        Text("no route", "нет маршрута"),
        Text(
            "this number's operator is not served — ask for another number",
            "оператор этого номера не обслуживается — попросите другой номер",
        ),
    ),
    249: (
        Text("wrong number format", "неверный формат номера"),
        Text(
            "code and length don't match — fix the number",
            "код и длина номера не совпадают — исправьте номер",
        ),
    ),
    250: (
        Text("number prohibited by settings", "номер запрещен настройками"),
        Text(
            "the account's settings forbid this number — check the settings",
            "настройки аккаунта запрещают этот номер — проверьте настройки",
        ),
    ),
    251: (
        Text("limit per number exceeded", "превышен лимит на один номер"),
        Text(
            "too many messages to this number today — wait or raise the limit",
            "слишком много сообщений на этот номер за сутки — подождите или увеличьте лимит",
        ),
    ),
    252: (
        Text("number prohibited", "номер запрещен"),
        Text("SMS Center does not send to this number", "SMS Center не отправляет на этот номер"),
    ),
    253: (
        Text("blocked by spam filter", "запрещено спам-фильтром"),
        Text(
            "the text or sender id was taken for spam — change them",
            "текст или имя отправителя сочтены спамом — измените их",
        ),
    ),
    254: (
        Text("unregistered sender id", "незарегистрированный sender id"),
        Text(
            "the sender name is not registered — register it",
            "имя отправителя не зарегистрировано — зарегистрируйте его",
        ),
    ),
    255: (
        Text("rejected by operator", "отклонено оператором"),
        Text(
            "the operator refused without a reason — resend once, then ask support",
            "оператор отказал без причины — отправьте ещё раз, затем спросите поддержку",
        ),
    ),
}

if _STATUS_WORDS.keys() != STATUS_CODES.keys() or _ERROR_WORDS.keys() != ERROR_CODES.keys():
    raise ValueError("every status and error code of bot.smsc.codes needs words here, and no other")

STATUSES: Mapping[int, StatusInfo] = MappingProxyType(
    {
        code: StatusInfo(code, name, meaning, kind.phase, kind.final, kind.retry)
        for code, kind in STATUS_CODES.items()
        for name, meaning in [_STATUS_WORDS[code]]
    }
)

ERRORS: Mapping[int, ErrorInfo] = MappingProxyType(
    {
        code: ErrorInfo(code, name, help_, kind.retry)
        for code, kind in ERROR_CODES.items()
        for name, help_ in [_ERROR_WORDS[code]]
    }
)


def status_info(code: int) -> StatusInfo:
    """The entry for status ``code``; a generic "unknown status N" entry if there is none.

    Never raises. An unknown status is treated as not final (it may yet change) and its
    retry answer as unknown.
    """
    info = STATUSES.get(code)
    if info is not None:
        return info
    kind = status_code(code)
    return StatusInfo(
        code=code,
        name=Text(f"unknown status {code}", f"неизвестный статус {code}"),
        meaning=Text(
            "a status this bot does not know — see SMS Center's status codes",
            "статус, неизвестный боту — см. коды статусов SMS Center",
        ),
        phase=kind.phase,
        final=kind.final,
        retry=kind.retry,
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
        retry=error_code(code).retry,
    )
