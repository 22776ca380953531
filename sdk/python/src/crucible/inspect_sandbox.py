"""An Inspect-style sandbox over a Crucible session, for agent harnesses written against Inspect.

Inspect (``inspect_ai``) gives its agents a ``SandboxEnvironment``: ``exec``, ``write_file`` and
``read_file``, async, with a documented set of errors a tool can catch and show the model.
:class:`CrucibleSandbox` offers the same calls and the same errors over one Crucible session::

    from crucible import Crucible
    from crucible.inspect_sandbox import CrucibleSandbox

    with Crucible(url).session(environment="python") as session:
        sandbox = CrucibleSandbox(session)
        result = await sandbox.exec(["sh", "-c", "echo hi"], timeout=10)
        await sandbox.write_file("notes.txt", "text")
        data = await sandbox.read_file("notes.txt", text=False)

The errors, as Inspect documents them:

- ``exec``: ``TimeoutError`` when ``timeout`` expires (the command's process group is killed,
  the session lives on); ``PermissionError`` when the command cannot be executed;
  ``UnicodeDecodeError`` when the output is not UTF-8; :class:`OutputLimitExceededError` when
  stdout or stderr exceeds ``SandboxLimits.MAX_EXEC_OUTPUT_SIZE`` (with what was kept).
- ``write_file``: ``PermissionError``, ``IsADirectoryError``.
- ``read_file``: ``FileNotFoundError``, ``PermissionError``, ``IsADirectoryError``,
  ``UnicodeDecodeError`` (``text=True`` only), :class:`OutputLimitExceededError` over
  ``SandboxLimits.MAX_READ_FILE_SIZE``.

A session runs a few calls at once (4) and refuses more; here the extra calls wait their turn,
as Inspect's tools expect. Every command of a session runs as the sandbox's one unprivileged user; ``exec(user=...)`` with
another user is refused (a failed result saying so), never run as someone else.
"""
from __future__ import annotations

import asyncio
import errno
import re
import signal
from dataclasses import dataclass
from typing import Callable, Dict, Optional, TypeVar, Union

from .errors import CrucibleError
from .session import Session

T = TypeVar("T")
# How long a call waits for a turn while the session already runs its most calls at once: as
# long as the longest exec those calls may still take.
_BUSY_WAIT_S = 3600.0


class SandboxLimits:
    """Output sizes beyond which the calls raise :class:`OutputLimitExceededError` (Inspect's values)."""

    MAX_EXEC_OUTPUT_SIZE = 10 * 1024 * 1024
    MAX_READ_FILE_SIZE = 100 * 1024 * 1024


class OutputLimitExceededError(Exception):
    """An output stream or a file was larger than the limit; ``truncated_output`` holds what was kept."""

    def __init__(self, limit_str: str, truncated_output: Optional[str]) -> None:
        super().__init__(f"The output limit of {limit_str} was exceeded.")
        self.limit_str = limit_str
        self.truncated_output = truncated_output


@dataclass
class SandboxExecResult:
    """What ``exec`` returns. ``returncode`` follows the shell: 128 + n when signal n ended it."""

    success: bool
    returncode: int
    stdout: str
    stderr: str


def _size(n: int) -> str:
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


# The API's file error codes, as the OSError subclass (and errno) Python code expects.
_FILE_ERRORS: Dict[str, "tuple[type, int]"] = {
    "file_not_found": (FileNotFoundError, errno.ENOENT),
    "is_a_directory": (IsADirectoryError, errno.EISDIR),
    "permission_denied": (PermissionError, errno.EACCES),
    "invalid_path": (OSError, errno.EINVAL),
    "no_space": (OSError, errno.ENOSPC),
}


class CrucibleSandbox:
    """Inspect's sandbox calls (``exec``, ``write_file``, ``read_file``) over a Crucible session.

    The session's HTTP calls block, so each call runs in a worker thread: the event loop of the
    harness keeps serving its other samples meanwhile.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._user: Optional[str] = None

    async def exec(
        self,
        cmd: "list[str]",
        input: Union[str, bytes, None] = None,
        cwd: Optional[str] = None,
        env: Optional[Dict[str, str]] = None,
        user: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> SandboxExecResult:
        """Runs ``cmd`` (argv, no shell). ``timeout=None`` allows the longest the server does (1 h)."""
        if user is not None and user != await self._own_user():
            return SandboxExecResult(
                False,
                126,
                "",
                f"cannot run as user {user}: every command of a Crucible session runs as the sandbox user "
                f"{self._user} (no other user, no root)\n",
            )
        return await self._thread(lambda: self._exec(cmd, input, cwd, env or {}, timeout))

    async def write_file(self, file: str, contents: Union[str, bytes]) -> None:
        """Writes ``contents`` (text as UTF-8) to ``file``, making parent directories; replaces a file."""
        await self._thread(lambda: self._file_call(file, lambda: self.session.write_file(file, contents), reading=False))

    async def read_file(self, file: str, text: bool = True) -> Union[str, bytes]:
        """The content of ``file``: ``str`` (strict UTF-8, newlines kept) or, with ``text=False``, bytes."""
        limit = SandboxLimits.MAX_READ_FILE_SIZE
        # The sandbox refuses a larger file itself: nothing over the limit crosses the network.
        data = await self._thread(lambda: self._file_call(file, lambda: self.session.read_file(file, max_bytes=limit), reading=True))
        return data.decode("utf-8") if text else data

    def _exec(
        self, cmd: "list[str]", stdin: Union[str, bytes, None], cwd: Optional[str], env: Dict[str, str], timeout: Optional[float]
    ) -> SandboxExecResult:
        limit = SandboxLimits.MAX_EXEC_OUTPUT_SIZE
        result = self.session.exec(
            cmd,
            stdin=stdin,
            cwd=cwd,
            env=env,
            timeout_s=timeout if timeout is not None else 3600,
            binary=True,
            max_output_bytes=limit,
        )
        if result["reason"] == "timeout":
            raise TimeoutError(f"{cmd[0]}: {result['message']}")
        out: bytes = result.get("stdout_bytes", b"")  # type: ignore[assignment]
        err: bytes = result.get("stderr_bytes", b"")  # type: ignore[assignment]
        for truncated, kept in ((result["stdout_truncated"], out), (result["stderr_truncated"], err)):
            if truncated:
                # The cut may fall inside a character: keep what decodes.
                raise OutputLimitExceededError(_size(limit), kept.decode("utf-8", errors="ignore"))
        if result["reason"] == "not_started":
            if result["exit_code"] == 126:
                raise PermissionError(errno.EACCES, result["message"], cmd[0])
            return SandboxExecResult(False, result["exit_code"] or 127, "", result["message"] + "\n")
        code = result["exit_code"]
        if code is None:
            code = 128 + _signal_number(result["signal"])
        return SandboxExecResult(code == 0, code, out.decode("utf-8"), err.decode("utf-8"))

    def _file_call(self, path: str, call: Callable[[], T], reading: bool) -> T:
        try:
            return call()
        except CrucibleError as e:
            if reading and e.code == "file_too_large":
                # The bound that refused it: ours, or the server's own when that is lower.
                bound = re.search(r"limit of (\d+)", e.message)
                limit = int(bound.group(1)) if bound else SandboxLimits.MAX_READ_FILE_SIZE
                raise OutputLimitExceededError(_size(limit), None) from e
            known = _FILE_ERRORS.get(e.code)
            if known is None:
                raise
            cls, number = known
            raise cls(number, e.message, path) from e

    async def _own_user(self) -> str:
        if self._user is None:
            result = await self._thread(lambda: self.session.exec(["id", "-un"]))
            self._user = (result.get("stdout") or "").strip()
        return self._user

    @staticmethod
    async def _thread(call: Callable[[], T]) -> T:
        """Runs a blocking call in a worker thread. A session runs a few calls at once and refuses
        more (409 ``session_busy``); Inspect's sandboxes have no such bound, so wait for a turn."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + _BUSY_WAIT_S
        pause = 0.02
        while True:
            try:
                return await loop.run_in_executor(None, call)
            except CrucibleError as e:
                if e.code != "session_busy" or loop.time() > give_up:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)


def _signal_number(name: Optional[str]) -> int:
    try:
        return int(signal.Signals[name]) if name else 0
    except KeyError:
        return int(name[3:]) if name and name[3:].isdigit() else 0
