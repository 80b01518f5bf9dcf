"""The ``dmj`` command line: the only layer that reads the environment and renders errors.

Each command is a module of its own that registers itself on ``app`` when imported; the
imports below are the list of commands.
"""

from . import (
    demo,  # noqa: F401  (registers `dmj demo`)
    export,  # noqa: F401  (registers `dmj export`)
    repair,  # noqa: F401  (registers `dmj repair`)
    replay,  # noqa: F401  (registers `dmj replay`)
    resume,  # noqa: F401  (registers `dmj resume`)
    run,  # noqa: F401  (registers `dmj run`)
    sandbox,  # noqa: F401  (registers `dmj sandbox`)
    show,  # noqa: F401  (registers `dmj show`)
    status,  # noqa: F401  (registers `dmj status`)
    view,  # noqa: F401  (registers `dmj view`)
)
from ._app import app, main

__all__ = ["app", "main"]
