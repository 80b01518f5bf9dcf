"""Every exception class httpx exports is translated on purpose into one of dmj's errors."""

from __future__ import annotations

import inspect

import httpx
import pytest
from dmj.adapters._httpx_errors import HTTPX_ERRORS, failure_of, translate_httpx_error
from dmj.machine.errors import (
    DmjError,
    InvariantBroken,
    RemoteError,
    RemoteUnavailable,
    UsageError,
)

ABSTRACT = {httpx.HTTPError, httpx.RequestError, httpx.TransportError, httpx.ProtocolError}
"""Base classes httpx itself never raises; their subclasses carry the meaning."""

EXCEPTION_CLASSES = sorted(
    (
        cls
        for name in httpx.__all__
        if inspect.isclass(cls := getattr(httpx, name)) and issubclass(cls, Exception)
    ),
    key=lambda cls: cls.__name__,
)

EXPECTED = {
    "transient": RemoteUnavailable,
    "setup": UsageError,
    "remote": RemoteError,
    "bug": InvariantBroken,
}


def instance_of(cls: type[Exception]) -> Exception:
    request = httpx.Request("GET", "https://discord.test/api/v9/users/@me")
    if cls is httpx.HTTPStatusError:
        return cls("boom", request=request, response=httpx.Response(500, request=request))
    if issubclass(cls, httpx.StreamError) and cls is not httpx.StreamError:
        return cls()  # type: ignore[call-arg]
    return cls("boom")


@pytest.mark.parametrize("cls", EXCEPTION_CLASSES, ids=lambda cls: cls.__name__)
def test_every_httpx_exception_has_its_own_entry(cls: type[Exception]) -> None:
    matching = [entry for entry, _ in HTTPX_ERRORS if issubclass(cls, entry)]
    assert matching, f"httpx.{cls.__name__} has no entry in HTTPX_ERRORS"
    if cls not in ABSTRACT:
        assert matching[0] not in ABSTRACT, f"httpx.{cls.__name__} falls to a catch-all"


@pytest.mark.parametrize("cls", EXCEPTION_CLASSES, ids=lambda cls: cls.__name__)
def test_every_httpx_exception_becomes_a_dmj_error_of_its_kind(cls: type[Exception]) -> None:
    exc = instance_of(cls)
    error = translate_httpx_error(
        exc, what="reading your account", api_base="https://x", token="t0k", retries=2
    )
    assert isinstance(error, DmjError)
    assert type(error) is EXPECTED[failure_of(exc)]
    assert str(error).endswith(".")


@pytest.mark.parametrize(
    ("cls", "kind"),
    [
        (httpx.ConnectError, "transient"),
        (httpx.ReadTimeout, "transient"),
        (httpx.PoolTimeout, "transient"),
        (httpx.RemoteProtocolError, "transient"),
        (httpx.WriteError, "transient"),
        (httpx.InvalidURL, "setup"),
        (httpx.UnsupportedProtocol, "setup"),
        (httpx.ProxyError, "setup"),
        (httpx.DecodingError, "remote"),
        (httpx.TooManyRedirects, "remote"),
        (httpx.LocalProtocolError, "bug"),
        (httpx.StreamConsumed, "bug"),
        (httpx.CookieConflict, "bug"),
    ],
)
def test_only_network_trouble_is_worth_a_retry(cls: type[Exception], kind: str) -> None:
    assert failure_of(instance_of(cls)) == kind
