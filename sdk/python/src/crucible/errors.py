"""Errors raised by the SDK: every failed API call becomes a :class:`CrucibleError`.

The server answers every failure a caller can cause with ``{"error": {"code", "message",
"details"}}``; the code is stable and machine-readable (the README's error table lists them).
Catch a subclass for a family of failures, or compare ``err.code`` for one in particular::

    try:
        client.cancel(eval_id)
    except CrucibleError as err:
        if err.code != "already_terminal":
            raise
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Type


class CrucibleError(Exception):
    """A failed call: the server's error, or ``status == 0`` when it could not be reached.

    Attributes:
        code: the API's error code (``not_found``, ``queue_full``, ...), or ``unreachable``,
            ``http_error`` (a non-JSON error page, e.g. from a proxy), ``stream_lost``,
            ``wait_timeout`` for failures on the client's side.
        status: the HTTP status, 0 when there was no answer.
        message: a human explanation.
        details: extra structured information (validation issues: a list of
            ``{"path": [...], "message": ...}``), or None.
        retry_after: seconds the server asked to wait before retrying (Retry-After), or None.
    """

    def __init__(
        self,
        code: str,
        status: int,
        message: str,
        details: Any = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(f"{message} ({code}, HTTP {status})" if status else f"{message} ({code})")
        self.code = code
        self.status = status
        self.message = message
        self.details = details
        self.retry_after = retry_after


class BadRequestError(CrucibleError):
    """400: the request was invalid (see ``details`` for the fields)."""


class AuthenticationError(CrucibleError):
    """401: no API key, or one the server does not know."""


class PermissionDeniedError(CrucibleError):
    """403: the key may not do this."""


class NotFoundError(CrucibleError):
    """404: no such evaluation, session, file or artifact (or not visible to this key)."""


class ConflictError(CrucibleError):
    """409: the resource is in a state that forbids this (e.g. ``already_terminal``)."""


class PayloadTooLargeError(CrucibleError):
    """413: the body (code, stdin, a file) is larger than the server accepts."""


class RateLimitedError(CrucibleError):
    """429: too many requests; ``retry_after`` says when to try again."""


class UnavailableError(CrucibleError):
    """503: the server cannot take this right now (queue full, dependency down); retry later."""


class ConnectionFailedError(CrucibleError):
    """The server could not be reached, or a stream was lost for good (``status == 0``)."""


class WaitTimeoutError(CrucibleError):
    """``wait``/``run`` gave up after their timeout (code ``wait_timeout``); the evaluation goes on."""


_BY_STATUS: Dict[int, Type[CrucibleError]] = {
    0: ConnectionFailedError,
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitedError,
    503: UnavailableError,
}


def error_for(
    code: str, status: int, message: str, details: Any = None, retry_after: Optional[float] = None
) -> CrucibleError:
    """The most specific CrucibleError subclass for an HTTP status."""
    cls = WaitTimeoutError if code == "wait_timeout" else _BY_STATUS.get(status, CrucibleError)
    return cls(code, status, message, details, retry_after)
