"""dmj's edges to the outside world: the data package, Discord's HTTP API and DCE.

- ``read_package(path)``: a data package (folder or ``.zip``, any era) → ``PackageContents``.
- ``redact`` and ``TokenRedactingFilter`` keep the token out of any text and log.

Errors raised here are the classes of ``dmj.machine.errors`` (see ``docs/adapters.md``).
"""

from ._package import DELETED_USER, read_package
from ._redact import REDACTED, TokenRedactingFilter, redact

__all__ = [
    "DELETED_USER",
    "REDACTED",
    "TokenRedactingFilter",
    "read_package",
    "redact",
]
