"""Shapes of what the API returns, for type checkers (the values are plain dicts).

They mirror the server's zod schemas (src/domain); a test in the repository compares the keys of
``Evaluation`` and ``EvaluationSummary`` with the schemas so the two cannot drift apart. Fields
a newer server adds are still in the dicts, just not typed here.
"""
from __future__ import annotations

import sys
from typing import Any, Dict, List, Optional

if sys.version_info >= (3, 11):
    from typing import NotRequired, TypedDict
else:  # Python 3.9 and 3.10: NotRequired only exists for type checkers.
    from typing import TypedDict

    try:
        from typing_extensions import NotRequired
    except ImportError:  # the annotation is never evaluated at runtime
        NotRequired = Optional


class Metrics(TypedDict):
    wall_ms: Optional[float]
    cpu_ms: Optional[float]
    peak_memory_bytes: Optional[float]


class Limits(TypedDict):
    timeout_s: float
    memory_mb: float
    cpus: float
    max_processes: int
    max_output_bytes: int
    scratch_mb: float
    max_artifacts: int
    max_artifact_bytes: int


class EvaluationSummary(TypedDict):
    id: str
    status: str
    environment: str
    sandbox: str
    code_sha256: str
    tags: List[str]
    metadata: Dict[str, Any]
    limits: Limits
    created_at: str
    started_at: Optional[str]
    finished_at: Optional[str]
    exit_code: Optional[int]
    signal: Optional[str]
    reason: Optional[str]
    message: Optional[str]
    stdout_truncated: bool
    stderr_truncated: bool
    metrics: Metrics
    worker: Optional[str]
    attempts: int
    owner: str
    project: str
    waiting_reason: Optional[str]
    name: Optional[str]
    code_title: Optional[str]


class ProgramFile(TypedDict):
    path: str
    content: str
    encoding: str


class Evaluation(EvaluationSummary):
    code: str
    files: List[ProgramFile]
    entrypoint: Optional[str]
    command: Optional[List[str]]
    stdin: Optional[str]
    stdin_base64: Optional[str]
    stdout: str
    stderr: str


class EvaluationList(TypedDict):
    items: List[EvaluationSummary]
    next_cursor: Optional[str]
    total: int
    total_capped: bool


class EvaluationEvent(TypedDict):
    """One event of an evaluation: ``type`` is status, stdout, stderr, metrics or done."""

    seq: int
    at: str
    type: str
    data: Dict[str, Any]


class Artifact(TypedDict):
    path: str
    size_bytes: int
    sha256: str
    content_type: str


class ExecResult(TypedDict):
    exit_code: Optional[int]
    signal: Optional[str]
    reason: Optional[str]
    message: Optional[str]
    stdout: NotRequired[str]
    stderr: NotRequired[str]
    stdout_base64: NotRequired[str]
    stderr_base64: NotRequired[str]
    stdout_bytes: NotRequired[bytes]
    stderr_bytes: NotRequired[bytes]
    stdout_truncated: bool
    stderr_truncated: bool
    metrics: Metrics


class SessionEvent(TypedDict):
    """One event of a session's record: its SSE ``type``, ``id`` and JSON ``data``."""

    type: str
    id: Optional[str]
    data: Any
