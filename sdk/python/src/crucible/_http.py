"""HTTP transport over the standard library: JSON and byte requests, Retry-After, SSE streams.

``http.client`` rather than ``urllib.request`` because the SDK needs the answer of every status
(error bodies included) and a response it can read line by line for Server-Sent Events.
"""
from __future__ import annotations

import email.utils
import http.client
import json
import socket
import time
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from .errors import CrucibleError, error_for

# The server sends an SSE heartbeat every 15 s; a stream silent for longer than this is dead.
STREAM_READ_TIMEOUT_S = 60.0
# Consecutive failed reconnects before a stream is given up as lost.
MAX_STREAM_FAILURES = 20


class SseMessage:
    """One Server-Sent Event: its ``event`` name, ``id`` (or None) and ``data`` text."""

    __slots__ = ("event", "id", "data")

    def __init__(self, event: str, id: Optional[str], data: str) -> None:
        self.event = event
        self.id = id
        self.data = data


class Transport:
    """Sends requests to one Crucible server; shared by the client and its sessions."""

    def __init__(
        self,
        url: str,
        api_key: Optional[str],
        timeout: float,
        retries: int,
        max_retry_wait: float,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the server URL must be http(s)://host[:port], not {url!r}")
        self.url = url.rstrip("/")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._retries = retries
        self._max_retry_wait = max_retry_wait

    # -- requests ------------------------------------------------------------------------------

    def json(
        self,
        method: str,
        path: str,
        body: Any = None,
        timeout: Optional[float] = None,
    ) -> Any:
        """Sends ``body`` as JSON (if given); the parsed JSON answer (None when empty)."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        raw = self.bytes(method, path, data, headers, timeout)
        return json.loads(raw) if raw else None

    def bytes(
        self,
        method: str,
        path: str,
        data: Optional[bytes] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> bytes:
        """One request; the answer's body exactly. Raises CrucibleError for any failure."""
        conn, res = self._open(method, path, data, dict(headers or {}), timeout or self._timeout)
        try:
            return res.read()
        finally:
            conn.close()

    def _open(
        self,
        method: str,
        path: str,
        data: Optional[bytes],
        headers: Dict[str, str],
        timeout: float,
    ) -> Tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """An open connection with a successful (2xx) response, after bounded Retry-After retries."""
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        attempt = 0
        while True:
            conn = self._connection(timeout)
            try:
                res = self._exchange(conn, method, path, data, headers)
            except (OSError, http.client.HTTPException) as err:
                conn.close()
                raise error_for(
                    "unreachable", 0, f"cannot reach the Crucible server at {self.url} ({err})"
                ) from err
            if 200 <= res.status < 300:
                return conn, res
            error = _error_from(res)
            conn.close()
            wait = error.retry_after
            if (
                res.status in (429, 503)
                and wait is not None
                and wait <= self._max_retry_wait
                and attempt < self._retries
            ):
                attempt += 1
                time.sleep(wait)
                continue
            raise error

    def _exchange(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        path: str,
        data: Optional[bytes],
        headers: Dict[str, str],
    ) -> http.client.HTTPResponse:
        if conn.sock is None:
            conn.connect()
            # http.client sends the headers and the body in two writes: with Nagle's algorithm on,
            # the body waits for the ACK of the headers (a delayed ACK can hold it for up to 40 ms).
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            conn.request(method, self._prefix + path, body=data, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            # A server may answer (413: too large) and close before reading the whole body; its
            # answer is then still there to read, and says more than "broken pipe".
            if data is None:
                raise
        return conn.getresponse()

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._scheme == "https":
            return http.client.HTTPSConnection(self._host, self._port, timeout=timeout)
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    # -- streams -------------------------------------------------------------------------------

    def follow(
        self,
        path: str,
        last_event_id: "LastEventId",
        ends_when_server_closes: bool = False,
        deadline: Optional[float] = None,
    ) -> Iterator[SseMessage]:
        """Server-Sent Events from ``path``, reconnecting with Last-Event-ID when the connection drops.

        Ends when the server answers 204 (nothing left), or, with ``ends_when_server_closes``,
        when the server ends the stream. The caller stops it by leaving its loop. With a
        ``deadline`` (a ``time.monotonic()`` value), raises :class:`DeadlinePassed` once it is
        reached, even while the stream is silent.
        """
        failures = 0
        while failures < MAX_STREAM_FAILURES:
            read_timeout = STREAM_READ_TIMEOUT_S
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DeadlinePassed()
                read_timeout = max(0.05, min(read_timeout, left))
            headers = {"Accept": "text/event-stream"}
            if last_event_id.value is not None:
                headers["Last-Event-ID"] = last_event_id.value
            try:
                conn, res = self._open("GET", path, None, headers, read_timeout)
            except CrucibleError as err:
                if err.status != 0 and err.status < 500:
                    raise
                failures += 1
                time.sleep(min(2.0, 0.1 * 2**failures))
                continue
            try:
                if res.status == 204:
                    return
                for message in _parse_sse(res):
                    if deadline is not None and time.monotonic() >= deadline:
                        raise DeadlinePassed()
                    failures = 0
                    if message.id is not None:
                        last_event_id.value = message.id
                    yield message
                if ends_when_server_closes:
                    return
            except (OSError, http.client.HTTPException):
                pass  # dropped or silent connection: reconnect below
            finally:
                conn.close()
            if deadline is not None and time.monotonic() >= deadline:
                raise DeadlinePassed()
            failures += 1
            time.sleep(min(2.0, 0.1 * 2**failures))
        raise error_for("stream_lost", 0, f"lost the event stream {path} repeatedly")


class DeadlinePassed(Exception):
    """Raised by :meth:`Transport.follow` when its deadline is reached."""


class LastEventId:
    """The resume point of a stream, updated as events arrive (shared with the caller)."""

    __slots__ = ("value",)

    def __init__(self, value: Optional[str] = None) -> None:
        self.value = value


def _parse_sse(res: http.client.HTTPResponse) -> Iterator[SseMessage]:
    event, event_id, data = "message", None, []  # type: Tuple[str, Optional[str], list]
    while True:
        try:
            raw = res.readline()
        except socket.timeout:
            return
        if not raw:
            return
        line = raw.decode("utf-8").rstrip("\r\n")
        if line == "":
            if data:
                yield SseMessage(event, event_id, "\n".join(data))
            event, event_id, data = "message", None, []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)
        elif field == "id":
            event_id = value


def _error_from(res: http.client.HTTPResponse) -> CrucibleError:
    raw = res.read()
    retry_after = _retry_after(res.getheader("Retry-After"))
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict) and isinstance(err.get("message"), str):
        code = err.get("code") if isinstance(err.get("code"), str) else "http_error"
        return error_for(code, res.status, err["message"], err.get("details"), retry_after)
    return error_for(
        "http_error", res.status, f"the server answered {res.status} {res.reason}".strip(), None, retry_after
    )


def _retry_after(header: Optional[str]) -> Optional[float]:
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return float(header)
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
