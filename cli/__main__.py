"""``python -m dmj.cli`` is ``dmj``."""

from ._app import main

main()
