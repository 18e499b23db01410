"""What a watch says in its chat (PRODUCT.md §10): the alert, "resolved", blind and seeing
again, and the incident's details.

The alert starts with a headline of at most ``HEADLINE_LIMIT`` characters, plain text, that a
phone's lock screen shows whole ("⚠️ SMS failures 38 % (23 of 61) in 15 min · МТС 19 · err
255"): the share, the top operator and the top reason, the operator's name shortened to fit.
Then the account, since when it fails, what is still on its way (not counted), and the
failures by reason and by operator with counts; a failure whose operator the bot does not know
(a push for a message it does not hold) is "operator unknown".
"""

from __future__ import annotations

from bot.text import catalogue_answers as answers
from bot.text import catalogue_watch as texts
from bot.text.moments import moment
from bot.text.phrases import Lang, Text
from bot.text.render import reason_label
from bot.text.sanitize import clean, escape, shorten
from bot.text.view import View
from bot.watch import Alert, Blind, Resolved, Rule, Seeing, Tally

#: What a lock screen shows of a notification, in characters.
HEADLINE_LIMIT = 100
#: Lines per list (reasons, operators) before the rest is summed into "other".
LIST_LINES = 5
#: Why a watch is blind, as the runner says it (``Sight.problem``); anything else: no data.
PROBLEMS: dict[str, Text] = {
    "smsc": texts.BLIND_SMSC,
    "key": texts.BLIND_KEY,
    "slow": texts.BLIND_SLOW,
}
_SEP = " · "
_COUNT_LINE = "• {label} — <b>{n}</b>"  # no words: the same in every language


def alert_headline(alert: Alert, rule: Rule, lang: Lang) -> str:
    """The alert's first line, plain text, at most ``HEADLINE_LIMIT`` characters."""
    counts = alert.tally
    line = texts.ALERT_HEADLINE_REPEAT if alert.repeat else texts.ALERT_HEADLINE
    head = line(lang).format(
        percent=counts.percent, failed=counts.failed, final=counts.final, minutes=rule.minutes
    )
    reason = ""
    if counts.reasons:
        (status, err), _ = counts.reasons[0]
        reason = (
            texts.ALERT_ERR(lang).format(err=err)
            if err
            else texts.ALERT_STATUS(lang).format(status=status)
        )
    tail = _SEP + reason if reason and len(head) + len(_SEP + reason) <= HEADLINE_LIMIT else ""
    operator, count = counts.operators[0] if counts.operators else ("", 0)
    name = clean(operator, one_line=True)
    if name:
        room = HEADLINE_LIMIT - len(head) - len(tail) - len(f"{_SEP} {count}")
        if room >= 4:  # a name cut shorter than that says nothing
            head += f"{_SEP}{shorten(name, room)} {count}"
    return head + tail


def render_alert(alert: Alert, rule: Rule, account: str, view: View) -> str:
    """The alert (HTML): the headline in bold, the account and since when, in progress, by
    reason, by operator."""
    lang = view.lang
    counts = alert.tally
    lines = [
        f"<b>{escape(alert_headline(alert, rule, lang))}</b>",
        texts.ALERT_ACCOUNT(lang).format(
            name=escape(account), time=moment(alert.started_at, view), percent=rule.percent
        ),
    ]
    if counts.until - counts.since < rule.period - 60:  # a busy account: part of the period
        lines.append(
            texts.ALERT_COVERS(lang).format(
                since=moment(counts.since, view),
                until=moment(counts.until, view),
                minutes=max(1, round((counts.until - counts.since) / 60)),
                period=rule.minutes,
            )
        )
    if counts.in_progress:
        lines.append(texts.ALERT_IN_PROGRESS(lang).format(n=counts.in_progress))
    return "\n".join(lines) + "\n\n" + _breakdown(counts, lang)


def render_details(counts: Tally, account: str, view: View) -> str:
    """The incident from its start to now (HTML): the share, by reason, by operator."""
    lang = view.lang
    head = texts.DETAILS_HEAD(lang).format(
        name=escape(account),
        time=moment(counts.since, view),
        failed=counts.failed,
        final=counts.final,
        percent=counts.percent,
    )
    lines = [head]
    if counts.in_progress:
        lines.append(texts.ALERT_IN_PROGRESS(lang).format(n=counts.in_progress))
    if not counts.failed:
        return "\n".join(lines)
    return "\n".join(lines) + "\n\n" + _breakdown(counts, lang)


def render_resolved(resolved: Resolved, rule: Rule, account: str, view: View) -> str:
    """The "resolved" message (HTML)."""
    counts = resolved.tally
    return texts.RESOLVED(view.lang).format(
        name=escape(account),
        percent=rule.percent,
        minutes=rule.minutes,
        now_percent=counts.percent,
        failed=counts.failed,
        final=counts.final,
        time=moment(resolved.started_at, view),
    )


def render_blind(blind: Blind, account: str, view: View) -> str:
    """ "The watch is blind since 14:05: SMS Center does not answer" (HTML)."""
    reason = PROBLEMS.get(blind.problem, texts.BLIND_NO_DATA)(view.lang)
    return texts.BLIND(view.lang).format(
        name=escape(account), time=moment(blind.since, view), reason=reason
    )


def render_seeing(seeing: Seeing, account: str, view: View) -> str:
    """ "The watch sees again" (HTML)."""
    return texts.SEEING(view.lang).format(
        name=escape(account), time=moment(seeing.blind_since, view)
    )


def _breakdown(counts: Tally, lang: Lang) -> str:
    """By reason and by operator, largest first, at most ``LIST_LINES`` each."""
    reasons = [(reason_label(status, err, lang), n) for (status, err), n in counts.reasons]
    operators = [
        (escape(shorten(clean(name, one_line=True), 40)) or texts.ALERT_OPERATOR_UNKNOWN(lang), n)
        for name, n in counts.operators
    ]
    return "\n\n".join(
        f"<b>{title(lang)}</b>\n" + "\n".join(_listed(items, lang))
        for title, items in ((answers.BY_REASON, reasons), (answers.BY_OPERATOR, operators))
    )


def _listed(items: list[tuple[str, int]], lang: Lang) -> list[str]:
    lines = [_COUNT_LINE.format(label=label, n=n) for label, n in items]
    if len(lines) <= LIST_LINES:
        return lines
    rest = sum(n for _, n in items[LIST_LINES - 1 :])
    return [*lines[: LIST_LINES - 1], "• " + answers.OTHERS(lang).format(n=rest)]
