"""The ``dmj`` command line: the only layer that reads the environment and renders errors."""

from ._app import app, main

__all__ = ["app", "main"]
