"""The archive's history: the message index, the query language and the export formats.

Readers (``dmj show``, ``dmj export``, ``dmj status``, and the browser) call
``open_history`` and get one consistent snapshot of ``index.sqlite``, refreshed from the
journal first. Queries are parsed by ``parse_query`` (Discord's search syntax) and compiled
to SQL in one place (``_sql``). The writers turn a stream of messages into a stream of
text chunks (``write_json``/``write_markdown``/``write_text``). docs/index.md and
docs/export-format.md describe it all.

What a reader needs from outside is passed in: the data package's reader (a
``dmj.machine.package.PackageOpener``: ``dmj.adapters.open_package``) and the command's
``Storage`` (``dmj.journal``'s seam, re-exported here for readers that may not import the
journal: the archive browser), through which the index's files are written.
"""

from dmj.journal import Storage

from ._advice import Advice, missing_by_advice
from ._completeness import check_archive
from ._export import Exported, ExportRequest, default_export_name, export_history
from ._index import INDEX, Notice, Refresh, rebuild_index, refresh_index
from ._model import (
    GAP_VERDICTS,
    Attachment,
    Conversation,
    Gap,
    Mention,
    Message,
    Order,
    Person,
    Source,
    channel_path,
)
from ._query import KEYS, Query, parse_query
from ._reader import History, Selection, open_history
from ._sql import MANY, Position
from ._status import (
    STATUSES,
    OwnMessages,
    OwnTotals,
    PackageUsed,
    Status,
    StatusReport,
    StatusRow,
    Totals,
)
from ._text import fold, words
from ._writers import (
    FORMATS,
    ExportMeta,
    Format,
    Writer,
    fence_for,
    write_json,
    write_listing,
    write_markdown,
    write_text,
)

__all__ = [
    "FORMATS",
    "GAP_VERDICTS",
    "INDEX",
    "KEYS",
    "MANY",
    "STATUSES",
    "Advice",
    "Attachment",
    "Conversation",
    "ExportMeta",
    "ExportRequest",
    "Exported",
    "Format",
    "Gap",
    "History",
    "Mention",
    "Message",
    "Notice",
    "Order",
    "OwnMessages",
    "OwnTotals",
    "PackageUsed",
    "Person",
    "Position",
    "Query",
    "Refresh",
    "Selection",
    "Source",
    "Status",
    "StatusReport",
    "StatusRow",
    "Storage",
    "Totals",
    "Writer",
    "channel_path",
    "check_archive",
    "default_export_name",
    "export_history",
    "fence_for",
    "fold",
    "missing_by_advice",
    "open_history",
    "parse_query",
    "rebuild_index",
    "refresh_index",
    "words",
    "write_json",
    "write_listing",
    "write_markdown",
    "write_text",
]
