"""Sessions: a sandbox that lives between calls, for agents that run many commands and move files."""
from __future__ import annotations

import base64
import json
from types import TracebackType
from typing import Any, Dict, Iterator, Mapping, Optional, Sequence, Type, Union, cast
from urllib.parse import quote

from ._http import LastEventId, Transport
from .types import ExecResult, SessionEvent


class Session:
    """One session. Made by :meth:`Crucible.session`; a context manager that ends it on exit.

    Attributes:
        id: the session's id.
        info: the session as the server last described it (``status``, ``ended_reason``, ...).
    """

    def __init__(self, http: Transport, info: Dict[str, Any]) -> None:
        self._http = http
        self.info = info
        self.id: str = info["id"]

    def __enter__(self) -> "Session":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        try:
            self.end()
        except Exception:
            # The block's own exception is the one worth seeing; without one, a failed end is.
            if exc is None:
                raise

    def exec(
        self,
        cmd: Optional[Sequence[str]] = None,
        *,
        code: Optional[str] = None,
        stdin: Union[str, bytes, None] = None,
        env: Optional[Mapping[str, str]] = None,
        cwd: Optional[str] = None,
        timeout_s: Optional[float] = None,
        binary: bool = False,
        max_output_bytes: Optional[int] = None,
    ) -> ExecResult:
        """Runs a command (``exec(["ls", "-l"])``) or Python code (``exec(code="print(1)")``).

        Args:
            cmd: the argv to run (no shell: use ``["sh", "-c", "..."]`` for one).
            code: Python source run with ``python3`` instead of ``cmd``.
            stdin: text, or bytes (sent exactly, NUL and all).
            env: extra environment variables for this command.
            cwd: working directory (relative to the session's).
            timeout_s: kills what this exec started after that long; the session lives on.
            binary: ask for the outputs as base64 and add them decoded as ``stdout_bytes`` and
                ``stderr_bytes`` (for output that is not UTF-8 text).
            max_output_bytes: bytes kept of each of stdout and stderr (the rest is dropped and
                the stream marked truncated); the server's default when omitted.

        Returns:
            The result: ``exit_code``, ``signal``, ``reason``, ``message``, ``stdout``,
            ``stderr``, truncation flags and ``metrics``.
        """
        if (cmd is None) == (code is None):
            raise ValueError("give exec() either a command (a list of arguments) or code=")
        body: Dict[str, Any] = {"cmd": list(cmd)} if cmd is not None else {"code": code}
        if isinstance(stdin, (bytes, bytearray)):
            body["stdin_base64"] = base64.b64encode(bytes(stdin)).decode("ascii")
        elif stdin is not None:
            body["stdin"] = stdin
        if env is not None:
            body["env"] = dict(env)
        if cwd is not None:
            body["cwd"] = cwd
        if timeout_s is not None:
            body["timeout_s"] = timeout_s
        if binary:
            body["output_encoding"] = "base64"
        if max_output_bytes is not None:
            body["max_output_bytes"] = max_output_bytes
        # An exec may run as long as its own timeout; the transport's default would cut it.
        wait = None if timeout_s is None else timeout_s + 30
        result = cast(ExecResult, self._http.json("POST", f"{self._path()}/exec", body, wait or 3600))
        if binary:
            for stream in ("stdout", "stderr"):
                encoded = result.get(f"{stream}_base64")  # type: ignore[misc]
                if isinstance(encoded, str):
                    result[f"{stream}_bytes"] = base64.b64decode(encoded)  # type: ignore[literal-required]
        return result

    def write_file(self, path: str, data: Union[bytes, str]) -> None:
        """Writes a file in the session (bytes exactly, or text as UTF-8); parent folders are made.

        Relative paths resolve against the session's working directory.
        """
        payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        self._http.bytes(
            "PUT",
            f"{self._path()}/files?path={quote(path, safe='')}",
            payload,
            {"Content-Type": "application/octet-stream"},
        )

    def read_file(self, path: str, *, max_bytes: Optional[int] = None) -> bytes:
        """A file's bytes exactly (``NotFoundError`` if there is none).

        ``max_bytes``: a larger file is refused (``PayloadTooLargeError``, code
        ``file_too_large``) without being sent; the server's own bound applies either way.
        """
        query = f"path={quote(path, safe='')}" + (f"&max_bytes={int(max_bytes)}" if max_bytes is not None else "")
        return self._http.bytes("GET", f"{self._path()}/files?{query}")

    def refresh(self) -> Dict[str, Any]:
        """Re-reads the session's state from the server."""
        self.info = cast(Dict[str, Any], self._http.json("GET", self._path()))
        return self.info

    def end(self) -> Dict[str, Any]:
        """Ends the session: everything in it is killed and its resources freed."""
        ended = self._http.json("DELETE", self._path())
        if isinstance(ended, dict):
            self.info = ended
        return self.info

    def events(self, *, last_event_id: Optional[str] = None) -> Iterator[SessionEvent]:
        """Everything the session did, in order (execs with results, file reads and writes).

        Resumes with ``Last-Event-ID`` after a dropped connection; ends when the server ends
        the stream.
        """
        last = LastEventId(last_event_id)
        for message in self._http.follow(f"{self._path()}/events", last, ends_when_server_closes=True):
            yield {"type": message.event, "id": message.id, "data": json.loads(message.data)}

    def _path(self) -> str:
        return f"/api/sessions/{quote(self.id, safe='')}"
