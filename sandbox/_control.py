"""``/_sandbox/…``: the emulator's own control surface (nothing like it exists on Discord).

=============================  ===========================================================
``GET /_sandbox/requests``     the request log, ``[{method, path, query, status, at, …}]``
                               (``?since=N`` skips the first N)
``GET /_sandbox/stats``        counts by status/route/client and the waits imposed
``GET /_sandbox/facts``        the world's facts (``WorldFacts``)
``GET /_sandbox/state``        open DM ids, left groups, channels created by reopens
``GET|PUT /_sandbox/faults``   the fault plan as a spec string; PUT replaces it
``POST /_sandbox/messages``    ``{channel_id, count}``: new messages arrive in a channel
``GET /_sandbox/dce/{id}``     the DCE stand-in asks what to do for this export attempt
=============================  ===========================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from dmj.machine.errors import UsageError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router

from ._facts import world_facts
from ._faults import FaultPlan

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["control_app"]


def _json(value: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(value), status_code=status, media_type="application/json")


class _Grow(msgspec.Struct, frozen=True):
    channel_id: str
    count: int


class _Control:
    """The handlers of ``/_sandbox/``, each a look at (or a change to) one emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator

    async def requests(self, request: Request) -> Response:
        since = request.query_params.get("since", "0")
        return _json(self._emulator.requests()[int(since) if since.isdigit() else 0 :])

    async def stats(self, request: Request) -> Response:
        return _json(self._emulator.stats())

    async def facts(self, request: Request) -> Response:
        return _json(world_facts(self._emulator.world))

    async def state(self, request: Request) -> Response:
        book = self._emulator.book
        return _json(
            {
                "open": sorted(book.open, key=int),
                "left": sorted(book.left, key=int),
                "created": book.created,
                "grown": {k: v.count for k, v in book.grown.items()},
            }
        )

    async def messages(self, request: Request) -> Response:
        try:
            body = msgspec.json.decode(await request.body(), type=_Grow)
            total = self._emulator.add_messages(body.channel_id, body.count)
        except (msgspec.DecodeError, msgspec.ValidationError, KeyError) as error:
            return _json(
                {"error": f"expected {{channel_id, count}} of a known channel: {error}"}, 400
            )
        return _json({"channel_id": body.channel_id, "messages": total})

    async def faults(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                self._emulator.set_faults(FaultPlan.parse((await request.body()).decode()))
            except UsageError as error:
                return _json({"error": str(error)}, 400)
        return _json({"spec": self._emulator.faults.plan.spec()})

    async def dce(self, request: Request) -> Response:
        faults = self._emulator.faults
        fault = faults.dce_fault(request.path_params["channel_id"])
        return _json(
            {"fault": fault.kind if fault else None, "time_scale": faults.plan.dce_time_scale}
        )


def control_app(emulator: Emulator) -> Router:
    """The ``/_sandbox/`` routes of ``emulator``."""
    control = _Control(emulator)
    return Router(
        routes=[
            Route("/_sandbox/requests", control.requests),
            Route("/_sandbox/stats", control.stats),
            Route("/_sandbox/facts", control.facts),
            Route("/_sandbox/state", control.state),
            Route("/_sandbox/faults", control.faults, methods=["GET", "PUT"]),
            Route("/_sandbox/messages", control.messages, methods=["POST"]),
            Route("/_sandbox/dce/{channel_id}", control.dce),
        ]
    )
