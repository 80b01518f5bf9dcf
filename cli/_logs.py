"""The run's log file: ``<archive>/logs/<UTC time>-<command>.log``, token redacted.

Everything dmj's loggers say (``dmj.*``: each request to Discord with its status, waits and
retries, each DCE run, each step and journaled record) goes there at DEBUG. The handler
carries the ``TokenRedactingFilter``, so the token cannot reach the file whatever a message
holds. The file is created 0600 in a 0700 folder.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from dmj.adapters import TokenRedactingFilter
from dmj.machine.errors import FileWriteFailed
from dmj.projections import make_dirs

__all__ = ["LOGGER", "run_log"]

LOGGER = "dmj"
"""The root of dmj's loggers (``dmj.adapters.discord``, ``dmj.adapters.dce``, ``dmj.run``)."""


@contextmanager
def run_log(folder: Path, *, command: str, token: str) -> Iterator[Path]:
    """Send dmj's logs to a new file in ``folder`` while the block runs; yields its path."""
    make_dirs(folder)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{stamp}-{command}-{os.getpid()}.log"
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600))
    except OSError as exc:
        raise FileWriteFailed(
            f"The log file {path} could not be created ({exc.strerror or exc}); check the "
            "archive directory's free space and permissions."
        ) from exc
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.addFilter(TokenRedactingFilter(token))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield path
    finally:
        logger.removeHandler(handler)
        handler.close()
