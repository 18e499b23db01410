"""What to tell someone who may not look things up: the way in that fits who they are.

An admin is not a member by being an admin (``bot.chat.caller``), so an admin is shown the exact
``/grant`` that gives them access (or the ``/addkey`` to make first); anyone else is asked to
get access from an admin, or to ``/login`` with their own key where self-login is allowed.
Used by ``/help`` and by the answer to a refused lookup, so both say the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.chat.caller import Caller
from bot.chat.escaping import Html, fill_html
from bot.text import catalogue as texts


def no_access_line(caller: Caller, *, self_login: bool, accounts: Sequence[str]) -> Html:
    """The line (HTML) for ``caller``, who has no account: for an admin the ``/grant`` that
    gives them one of ``accounts`` (the shared accounts' names), else how to ask for access."""
    lang, user_id = caller.lang, caller.user_id
    if caller.is_admin:
        if not accounts:
            return fill_html(texts.NOT_MEMBER_ADMIN_NO_ACCOUNT(lang), user_id=user_id)
        if len(accounts) == 1:
            return fill_html(texts.NOT_MEMBER_ADMIN(lang), user_id=user_id, name=accounts[0])
        return fill_html(
            texts.NOT_MEMBER_ADMIN_CHOOSE(lang), user_id=user_id, names=", ".join(accounts)
        )
    line = fill_html(texts.NOT_MEMBER(lang), user_id=user_id)
    if self_login:
        line = Html(line + " " + texts.NOT_MEMBER_SELF_LOGIN(lang))
    return line
