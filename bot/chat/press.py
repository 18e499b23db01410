"""A button press already answered: what went wrong after it is told in the chat instead.

Telegram shows a spinner on a pressed button until the bot answers the press, and takes one
answer per press. A lookup answers the press once its answer is ready (with a toast when the
data is not newer than what is shown) or after a moment, whichever comes first, and before it
edits anything; an error after that reaches the error router wrapped in ``PressAnswered``,
which answers it as a chat message.
"""

from __future__ import annotations

__all__ = ["PressAnswered"]


class PressAnswered(Exception):
    """``error`` happened after the button press was answered."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error
