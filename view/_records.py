"""What the browser reads: the message index's own records (``dmj.projections.history``).

The browser shows the index's ``Message`` and ``Conversation`` values as the index returns
them, field for field, from either source (the index, or ``MemoryArchive`` in tests). Ids
are integers (snowflakes); the JSON endpoints write them as strings, since JavaScript's
numbers cannot hold them. ``ts`` is UTC microseconds since the epoch (order and ranges);
``created_at``/``edited_at`` are the archived ISO 8601 strings with their offset.
``source`` is ``package`` for the user's own messages taken from the data package (a
conversation Discord refuses): the page marks them as one-sided.
"""

from __future__ import annotations

from dmj.projections.history import (
    GAP_VERDICTS,
    Attachment,
    Conversation,
    Mention,
    Message,
    Person,
    Source,
    channel_path,
)

__all__ = [
    "GAP_VERDICTS",
    "Attachment",
    "Conversation",
    "Mention",
    "Message",
    "Person",
    "Source",
    "channel_path",
    "is_gap",
]


def is_gap(conversation: Conversation) -> bool:
    """No messages, because its export failed or Discord refused it."""
    return conversation.messages == 0 and conversation.verdict in GAP_VERDICTS
