"""Keeping the Discord token out of every text dmj shows, logs or keeps.

The token may come back at dmj inside text it does not control (DCE's output, an error
body); every such text goes through ``redact`` before it reaches an exception or a log.
"""

from __future__ import annotations

import logging

__all__ = ["REDACTED", "TokenRedactingFilter", "redact"]

REDACTED = "[token]"
"""What stands in for the token wherever it would have appeared."""


def redact(text: str, token: str) -> str:
    """``text`` with every occurrence of ``token`` replaced by ``REDACTED``."""
    return text.replace(token, REDACTED) if token else text


class TokenRedactingFilter(logging.Filter):
    """A logging filter that removes the token from a record's message before it is emitted.

    Attach it to every handler that writes dmj's logs: the record's ``msg`` and ``args`` are
    merged and redacted once, so no formatter can put the token back.
    """

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def __repr__(self) -> str:
        return f"{type(self).__name__}({REDACTED})"

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token and self._token in message:
            record.msg, record.args = redact(message, self._token), None
        return True
