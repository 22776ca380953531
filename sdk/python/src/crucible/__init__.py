"""Python client for Crucible: run untrusted Python in strong sandboxes over HTTP.

    from crucible import Crucible

    client = Crucible("http://127.0.0.1:8080")
    result = client.run("print('hello')")
    print(result["status"], result["stdout"])

Standard library only; Python 3.9 or newer. See README.md for the whole API.
"""
from .client import Crucible
from .errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ConnectionFailedError,
    CrucibleError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitedError,
    UnavailableError,
    WaitTimeoutError,
)
from .session import Session
from .types import Artifact, Evaluation, EvaluationEvent, EvaluationList, EvaluationSummary, ExecResult, SessionEvent

__version__ = "0.1.0"

__all__ = [
    "Artifact",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ConnectionFailedError",
    "Crucible",
    "CrucibleError",
    "Evaluation",
    "EvaluationEvent",
    "EvaluationList",
    "EvaluationSummary",
    "ExecResult",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitedError",
    "Session",
    "SessionEvent",
    "UnavailableError",
    "WaitTimeoutError",
]
