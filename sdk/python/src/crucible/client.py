"""The Crucible client: submit programs, wait for them, stream their events, read their outputs."""
from __future__ import annotations

import base64
import json
import os
import time
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Union, cast
from urllib.parse import quote, urlencode

from ._http import DeadlinePassed, LastEventId, Transport
from .errors import error_for
from .session import Session
from .types import Artifact, Evaluation, EvaluationEvent, EvaluationList, EvaluationSummary

_EVALUATION_EVENT_TYPES = frozenset({"status", "stdout", "stderr", "metrics", "done"})


class Crucible:
    """A client of one Crucible server.

    Args:
        url: the server, e.g. ``"http://127.0.0.1:8080"``.
        api_key: sent as ``Authorization: Bearer <key>``; defaults to the ``CRUCIBLE_API_KEY``
            environment variable (servers with auth off need none).
        timeout: seconds to wait for an ordinary answer (streams and waits have their own).
        retries: how many times a 429 or 503 answer carrying ``Retry-After`` is retried after
            waiting as asked (0 disables).
        max_retry_wait: a ``Retry-After`` longer than this (seconds) is not waited out; the error
            is raised instead.

    Every method raises :class:`crucible.CrucibleError` (or a subclass) when the API refuses.
    """

    def __init__(
        self,
        url: str,
        api_key: Optional[str] = None,
        *,
        timeout: float = 60.0,
        retries: int = 2,
        max_retry_wait: float = 30.0,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("CRUCIBLE_API_KEY") or None
        self._http = Transport(url, key, timeout, retries, max_retry_wait)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self._http.url

    # -- evaluations ---------------------------------------------------------------------------

    def submit(self, code: str, *, wait_s: Optional[float] = None, **options: Any) -> Evaluation:
        """Queues a program and returns the evaluation at once (status ``queued``).

        Args:
            code: the Python source to run.
            wait_s: if given, the server holds the answer until the evaluation ends or this many
                seconds pass (at most the server's limit).
            **options: any other field of ``POST /api/evaluations``: ``stdin``, ``stdin_base64``,
                ``timeout_s``, ``memory_mb``, ``cpus``, ``max_processes``, ``max_output_bytes``,
                ``scratch_mb``, ``sandbox`` (``"bubblewrap"`` or ``"gvisor"``), ``environment``,
                ``tags`` (list), ``metadata`` (dict). ``stdin`` given as bytes is sent as
                ``stdin_base64``.
        """
        body = _evaluation_body(code, options)
        query = f"?wait_s={wait_s:g}" if wait_s else ""
        timeout = None if not wait_s else wait_s + 30
        return cast(Evaluation, self._http.json("POST", f"/api/evaluations{query}", body, timeout))

    def run(self, code: str, *, wait_timeout: Optional[float] = None, **options: Any) -> Evaluation:
        """Submits a program and waits for it to end: the finished evaluation.

        Takes the same options as :meth:`submit`; ``wait_timeout`` bounds the wait (seconds) and
        raises ``CrucibleError(code="wait_timeout")`` when exceeded (the evaluation goes on).
        """
        created = self.submit(code, **options)
        return self.wait(created["id"], timeout=wait_timeout)

    def batch(self, programs: Iterable[Union[str, Dict[str, Any]]]) -> List[str]:
        """Queues several programs at once, all or nothing; their ids in the order given.

        Each program is either source code or a dict of the same fields as :meth:`submit`
        (``{"code": ..., "timeout_s": 5, ...}``).
        """
        bodies = []
        for p in programs:
            if isinstance(p, str):
                bodies.append(_evaluation_body(p, {}))
            else:
                fields = dict(p)
                bodies.append(_evaluation_body(fields.pop("code"), fields))
        res = self._http.json("POST", "/api/evaluations/batch", {"evaluations": bodies})
        return list(res["ids"])

    def get(self, evaluation_id: str) -> Evaluation:
        """One evaluation with its outputs and verdict."""
        return cast(Evaluation, self._http.json("GET", f"/api/evaluations/{_seg(evaluation_id)}"))

    def wait(self, evaluation_id: str, *, timeout: Optional[float] = None) -> Evaluation:
        """Waits until the evaluation ends (following its event stream) and returns it.

        Args:
            timeout: seconds; ``CrucibleError(code="wait_timeout")`` when it runs out.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            for event in self._events(evaluation_id, 0, deadline):
                if event["type"] == "done":
                    break
        except DeadlinePassed:
            raise error_for(
                "wait_timeout", 0, f"evaluation {evaluation_id} did not finish within {timeout} s"
            ) from None
        return self.get(evaluation_id)

    def stream(self, evaluation_id: str, *, after: int = 0) -> Iterator[EvaluationEvent]:
        """The evaluation's events in order (status, stdout, stderr, metrics, done), until ``done``.

        A dropped connection is resumed with ``Last-Event-ID``: nothing is missed or repeated. A
        finished evaluation replays its whole history. ``after`` skips events up to that
        sequence number.
        """
        return self._events(evaluation_id, after, None)

    def _events(self, evaluation_id: str, after: int, deadline: Optional[float]) -> Iterator[EvaluationEvent]:
        last = LastEventId(str(after) if after else None)
        seen = after
        path = f"/api/evaluations/{_seg(evaluation_id)}/events"
        for message in self._http.follow(path, last, deadline=deadline):
            if message.event not in _EVALUATION_EVENT_TYPES:
                continue
            event = cast(EvaluationEvent, json.loads(message.data))
            if event["seq"] <= seen:
                continue
            seen = event["seq"]
            last.value = str(seen)
            yield event
            if event["type"] == "done":
                return

    def list(
        self,
        *,
        status: Union[str, Sequence[str], None] = None,
        tags: Union[str, Sequence[str], None] = None,
        q: Optional[str] = None,
        project: Optional[str] = None,
        page_size: int = 50,
        limit: Optional[int] = None,
    ) -> Iterator[EvaluationSummary]:
        """Evaluations matching the filters, newest first, fetched page by page as you iterate.

        Args:
            status: one status or several (an evaluation matches any of them).
            tags: one tag or several (an evaluation must carry all of them).
            q: text search in code, tags and id.
            project: only this project (admins).
            page_size: evaluations per request (1-200).
            limit: stop after this many in total.
        """
        yielded = 0
        cursor: Optional[str] = None
        while True:
            page = self.list_page(
                status=status, tags=tags, q=q, project=project, limit=page_size, cursor=cursor
            )
            for item in page["items"]:
                if limit is not None and yielded >= limit:
                    return
                yielded += 1
                yield item
            cursor = page["next_cursor"]
            if not cursor:
                return

    def list_page(
        self,
        *,
        status: Union[str, Sequence[str], None] = None,
        tags: Union[str, Sequence[str], None] = None,
        q: Optional[str] = None,
        project: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> EvaluationList:
        """One page of :meth:`list` (``items`` and ``next_cursor``)."""
        params = {
            "status": _comma(status),
            "tags": _comma(tags),
            "q": q,
            "project": project,
            "limit": limit,
            "cursor": cursor,
        }
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        return cast(EvaluationList, self._http.json("GET", "/api/evaluations" + (f"?{query}" if query else "")))

    def cancel(self, evaluation_id: str) -> Evaluation:
        """Cancels a queued evaluation or kills a running one.

        Raises ``ConflictError`` (code ``already_terminal``) if it had already ended.
        """
        path = f"/api/evaluations/{_seg(evaluation_id)}/cancel"
        return cast(Evaluation, self._http.json("POST", path, {}))

    def stdout_bytes(self, evaluation_id: str) -> bytes:
        """The program's standard output exactly as written (NUL and non-UTF-8 bytes included)."""
        return self._http.bytes("GET", f"/api/evaluations/{_seg(evaluation_id)}/stdout")

    def stderr_bytes(self, evaluation_id: str) -> bytes:
        """The program's standard error exactly as written."""
        return self._http.bytes("GET", f"/api/evaluations/{_seg(evaluation_id)}/stderr")

    def artifacts(self, evaluation_id: str) -> List[Artifact]:
        """The files the evaluation left behind: ``path``, ``size_bytes``, ``sha256``, ``content_type``."""
        res = self._http.json("GET", f"/api/evaluations/{_seg(evaluation_id)}/artifacts")
        return cast(List[Artifact], res["items"])

    def artifact(self, evaluation_id: str, path: str) -> bytes:
        """One artifact's bytes."""
        return self._http.bytes(
            "GET", f"/api/evaluations/{_seg(evaluation_id)}/artifacts/{quote(path, safe='/')}"
        )

    # -- sessions ------------------------------------------------------------------------------

    def session(self, **options: Any) -> Session:
        """Starts a session: a sandbox that lives between calls. Use it as a context manager::

            with client.session(environment="python-data") as s:
                s.exec(["ls"])

        Leaving the ``with`` block ends the session (everything in it is killed). Options are the
        fields of ``POST /api/sessions``: ``environment``, ``sandbox``, ``memory_mb``, ``cpus``,
        ``max_processes``, ``scratch_mb``, ``idle_timeout_s``, ``max_lifetime_s``, ``tags``,
        ``metadata``.
        """
        info = self._http.json("POST", "/api/sessions", options)
        return Session(self._http, info)

    def get_session(self, session_id: str) -> Dict[str, Any]:
        """A session's state (``status``: starting, ready or ended; ``ended_reason``)."""
        return cast(Dict[str, Any], self._http.json("GET", f"/api/sessions/{_seg(session_id)}"))

    def attach_session(self, session_id: str) -> Session:
        """A handle on an existing session (e.g. one started by another process)."""
        return Session(self._http, self.get_session(session_id))

    def list_sessions(self) -> List[Dict[str, Any]]:
        """The sessions this key can see."""
        res = self._http.json("GET", "/api/sessions")
        return cast(List[Dict[str, Any]], res["items"] if isinstance(res, dict) else res)


def _evaluation_body(code: str, options: Dict[str, Any]) -> Dict[str, Any]:
    body = {"code": code, **{k: v for k, v in options.items() if v is not None}}
    stdin = body.get("stdin")
    if isinstance(stdin, (bytes, bytearray)):
        del body["stdin"]
        body["stdin_base64"] = base64.b64encode(bytes(stdin)).decode("ascii")
    return body


def _comma(value: Union[str, Sequence[str], None]) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    return ",".join(value)


def _seg(value: str) -> str:
    """One URL path segment (ids are plain, but a hostile one must not change the route)."""
    return quote(value, safe="")
