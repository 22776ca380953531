"""Replays Inspect's sandbox self-check against a Crucible session, through the Python SDK.

Inspect (UKGovernmentBEIS/inspect_ai, src/inspect_ai/util/_sandbox/self_check.py) checks a sandbox
provider with a list of named checks run one after another in one sandbox. Each check here has
the same name and asserts the same behaviour, written for this repository; a few are sharper
than the originals (the timeout checks look for leftover processes in /proc, since the
environments have no `ps`, so a missing `ps` cannot make them pass). `extra_*` checks cover
errors Inspect documents but does not check.

Usage: python3 inspect-self-check.py URL SANDBOX [ENVIRONMENT]
Prints one JSON object: {check name: true | "FAILED: ..." | "ERROR: ..."}.
"""
import asyncio
import json
import secrets
import sys
from typing import Any, Awaitable, Callable, Dict, List, Type, Union

from crucible import Crucible
from crucible.inspect_sandbox import CrucibleSandbox, OutputLimitExceededError, SandboxLimits

Check = Callable[[CrucibleSandbox], Awaitable[None]]
CHECKS: List[Check] = []


def check(fn: Check) -> Check:
    CHECKS.append(fn)
    return fn


async def raises(kind: Type[BaseException], call: Awaitable[Any]) -> BaseException:
    """The exception ``call`` raised, which must be a ``kind``."""
    try:
        await call
    except kind as e:
        return e
    except Exception as e:  # the wrong kind is a failed check, not an error of the replay
        raise AssertionError(f"expected {kind.__name__}, got {type(e).__name__}: {e}") from e
    raise AssertionError(f"expected {kind.__name__}, nothing was raised")


async def remove(sb: CrucibleSandbox, path: str) -> None:
    result = await sb.exec(["rm", "-rf", "--", path])
    assert result.success, f"rm {path} failed: {result.stderr}"


async def round_trip(sb: CrucibleSandbox, path: str, content: Union[str, bytes]) -> None:
    await sb.write_file(path, content)
    back = await sb.read_file(path, text=isinstance(content, str))
    assert type(back) is type(content), f"read back a {type(back).__name__}, wrote a {type(content).__name__}"
    assert back == content, f"read back {back[:80]!r}, wrote {content[:80]!r}"
    await remove(sb, path)


# --- files --------------------------------------------------------------------------------


@check
async def test_read_and_write_file_text(sb: CrucibleSandbox) -> None:
    await round_trip(sb, "text.file", "some #text\nover two lines")


@check
async def test_read_and_write_file_binary(sb: CrucibleSandbox) -> None:
    await round_trip(sb, "binary.file", b"\xc3\x28")  # not valid UTF-8


@check
async def test_read_and_write_large_file_binary(sb: CrucibleSandbox) -> None:
    await round_trip(sb, "large.file", b"\xc3" * 5_000_000)


@check
async def test_write_file_text_utf(sb: CrucibleSandbox) -> None:
    await round_trip(sb, "utf.file", "✨☽︎🚀 ünïcødé ✨")


@check
async def test_read_and_write_file_including_directory_absolute(sb: CrucibleSandbox) -> None:
    await round_trip(sb, "/tmp/made_for_absolute/inner.file", "in a directory made on the way")
    await remove(sb, "/tmp/made_for_absolute")


@check
async def test_read_and_write_file_including_directory_relative(sb: CrucibleSandbox) -> None:
    await round_trip(sb, "made_for_relative/inner.file", "in a directory made on the way")
    await remove(sb, "made_for_relative")


@check
async def test_read_file_zero_length(sb: CrucibleSandbox) -> None:
    assert (await sb.exec(["touch", "empty.file"])).success
    assert await sb.read_file("empty.file", text=True) == ""
    await remove(sb, "empty.file")


@check
async def test_read_file_not_found(sb: CrucibleSandbox) -> None:
    e = await raises(FileNotFoundError, sb.read_file("no_such.file", text=True))
    assert "no_such.file" in str(e), f"the error does not name the file: {e}"


@check
async def test_read_file_not_allowed(sb: CrucibleSandbox) -> None:
    await sb.write_file("unreadable.file", "secret")
    assert (await sb.exec(["chmod", "a-r", "unreadable.file"])).success
    e = await raises(PermissionError, sb.read_file("unreadable.file", text=True))
    assert "unreadable.file" in str(e), f"the error does not name the file: {e}"
    await remove(sb, "unreadable.file")


@check
async def test_read_file_is_directory(sb: CrucibleSandbox) -> None:
    e = await raises(IsADirectoryError, sb.read_file("/etc", text=True))
    assert "directory" in str(e), f"the error does not say directory: {e}"


@check
async def test_read_file_nonsense_name(sb: CrucibleSandbox) -> None:
    name = "https:/en.wikipedia.org/wiki/Bart%C5%82omiej_Kasprzykowski"
    e = await raises(FileNotFoundError, sb.read_file(name, text=True))
    assert "wikipedia" in str(e), f"the error does not name the file: {e}"


@check
async def test_read_file_limit(sb: CrucibleSandbox) -> None:
    await sb.write_file("over_limit.file", "a" * 2048)
    saved = SandboxLimits.MAX_READ_FILE_SIZE
    SandboxLimits.MAX_READ_FILE_SIZE = 1024
    try:
        e = await raises(OutputLimitExceededError, sb.read_file("over_limit.file", text=True))
    finally:
        SandboxLimits.MAX_READ_FILE_SIZE = saved
    assert "limit of 1 KiB was exceeded" in str(e), f"the error does not state the limit: {e}"
    await remove(sb, "over_limit.file")


async def writes_empty(sb: CrucibleSandbox, empty: Union[str, bytes]) -> None:
    await round_trip(sb, "empty_written.file", empty)


async def writes_name_with_space(sb: CrucibleSandbox, content: Union[str, bytes]) -> None:
    await round_trip(sb, "name with spaces.file", content)


async def refuses_directory(sb: CrucibleSandbox, content: Union[str, bytes]) -> None:
    await sb.write_file("/tmp/a_directory/child", "makes the directory")
    e = await raises(IsADirectoryError, sb.write_file("/tmp/a_directory", content))
    assert "directory" in str(e), f"the error does not say directory: {e}"
    await remove(sb, "/tmp/a_directory")


async def refuses_read_only(sb: CrucibleSandbox, content: Union[str, bytes]) -> None:
    await sb.write_file("read_only.file", "first")
    assert (await sb.exec(["chmod", "a-w", "read_only.file"])).success
    e = await raises(PermissionError, sb.write_file("read_only.file", content))
    assert "read_only.file" in str(e), f"the error does not name the file: {e}"
    assert await sb.read_file("read_only.file") == "first", "the refused write changed the file"
    await remove(sb, "read_only.file")


async def replaces(sb: CrucibleSandbox, first: Union[str, bytes], second: Union[str, bytes]) -> None:
    await sb.write_file("replaced.file", first)
    await round_trip(sb, "replaced.file", second)


@check
async def test_write_text_file_zero_length(sb: CrucibleSandbox) -> None:
    await writes_empty(sb, "")


@check
async def test_write_text_file_space(sb: CrucibleSandbox) -> None:
    await writes_name_with_space(sb, "spaced out")


@check
async def test_write_text_file_is_directory(sb: CrucibleSandbox) -> None:
    await refuses_directory(sb, "text cannot replace a directory")


@check
async def test_write_text_file_without_permissions(sb: CrucibleSandbox) -> None:
    await refuses_read_only(sb, "must not land")


@check
async def test_write_text_file_exists(sb: CrucibleSandbox) -> None:
    await replaces(sb, "a longer first content", "second")


@check
async def test_write_binary_file_zero_length(sb: CrucibleSandbox) -> None:
    await writes_empty(sb, b"")


@check
async def test_write_binary_file_space(sb: CrucibleSandbox) -> None:
    await writes_name_with_space(sb, b"\xc3\x28")


@check
async def test_write_binary_file_is_directory(sb: CrucibleSandbox) -> None:
    await refuses_directory(sb, b"\xc3\x28")


@check
async def test_write_binary_file_without_permissions(sb: CrucibleSandbox) -> None:
    await refuses_read_only(sb, b"\xc3\x28")


@check
async def test_write_binary_file_exists(sb: CrucibleSandbox) -> None:
    await replaces(sb, b"\xc3\x28\x00\x00", b"\xc3\x29")


# --- exec ---------------------------------------------------------------------------------


@check
async def test_exec_output(sb: CrucibleSandbox) -> None:
    result = await sb.exec(["sh", "-c", "echo one; echo two"])
    assert result.stdout == "one\ntwo\n", f"stdout {result.stdout.encode()!r}"


@check
async def test_exec_stderr(sb: CrucibleSandbox) -> None:
    result = await sb.exec(["sh", "-c", "echo out; echo err >&2"])
    assert (result.stdout, result.stderr) == ("out\n", "err\n"), f"{result}"


@check
async def test_exec_returncode(sb: CrucibleSandbox) -> None:
    result = await sb.exec(["sh", "-c", "echo x; exit 70"])
    assert (result.returncode, result.success) == (70, False), f"{result}"


@check
async def test_exec_timeout(sb: CrucibleSandbox) -> None:
    await raises(TimeoutError, sb.exec(["sleep", "4"], timeout=1))
    assert (await sb.exec(["true"])).success, "the session did not survive the timeout"


@check
async def test_exec_timeout_not_raised_on_fast_signal_death(sb: CrucibleSandbox) -> None:
    result = await sb.exec(["sh", "-c", "kill -TERM $$"], timeout=30)
    assert result.returncode == 143, f"expected 128 + SIGTERM, got {result}"


LIVE_WITH_MARKER = """
import os
mark = os.environ["MARK"]
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) != os.getpid():
        try:
            args = open("/proc/%s/cmdline" % pid, "rb").read().replace(b"\\0", b" ").decode()
        except OSError:
            continue
        if mark in args:
            print(pid, args)
"""


async def live_with(sb: CrucibleSandbox, marker: str) -> str:
    """Command lines of the processes still alive whose arguments contain ``marker``."""
    result = await sb.exec(["python3", "-c", LIVE_WITH_MARKER], env={"MARK": marker})
    assert result.success, f"listing processes failed: {result.stderr}"
    return result.stdout


@check
async def test_exec_timeout_kills_process(sb: CrucibleSandbox) -> None:
    marker = "mark_" + secrets.token_hex(8)
    # "; :" keeps sh from exec'ing sleep in its place, so sh (with the marker) stays alive.
    await raises(TimeoutError, sb.exec(["sh", "-c", f": {marker}; sleep 30; :"], timeout=1))
    left = await live_with(sb, marker)
    assert left == "", f"still running after the timeout: {left}"


@check
async def test_exec_timeout_kills_child_processes(sb: CrucibleSandbox) -> None:
    parent, child = "parent_" + secrets.token_hex(8), "child_" + secrets.token_hex(8)
    script = f"sh -c 'sleep 30; : {child}' & sleep 30; : {parent}"
    await raises(TimeoutError, sb.exec(["sh", "-c", script], timeout=1))
    for marker in (parent, child):
        left = await live_with(sb, marker)
        assert left == "", f"still running after the timeout: {left}"


@check
async def test_exec_permission_error(sb: CrucibleSandbox) -> None:
    await raises(PermissionError, sb.exec(["/etc/passwd"]))  # a file, not executable


@check
async def test_exec_env_vars(sb: CrucibleSandbox) -> None:
    env = {"FIRST_VAR": "with spaces and $dollar", "SECOND_VAR": "second"}
    result = await sb.exec(["sh", "-c", 'echo "$FIRST_VAR"; echo "$SECOND_VAR"'], env=env)
    assert result.stdout == "with spaces and $dollar\nsecond\n", f"stdout {result.stdout!r}"


@check
async def test_exec_input_text(sb: CrucibleSandbox) -> None:
    result = await sb.exec(["cat"], input="line one\nline two\n")
    assert result.success and result.stdout == "line one\nline two\n", f"{result}"
    empty = await sb.exec(["cat"], input="")
    assert empty.success and empty.stdout == "", f"{empty}"


@check
async def test_exec_input_shell_special(sb: CrucibleSandbox) -> None:
    text = "$HOME `id` $(id) 'single' \"double\" \\back\\slash\n; | & > <\n"
    result = await sb.exec(["cat"], input=text)
    assert result.success and result.stdout == text, f"stdin changed on the way: {result.stdout!r}"


@check
async def test_exec_input_binary(sb: CrucibleSandbox) -> None:
    payload = b"\xc3\x28\x00\xff\x01\x02\x00end"
    result = await sb.exec(["sh", "-c", "cat > stdin.bin"], input=payload)
    assert result.success, f"{result}"
    assert await sb.read_file("stdin.bin", text=False) == payload
    await remove(sb, "stdin.bin")


@check
async def test_exec_input_large(sb: CrucibleSandbox) -> None:
    size = 1024 * 1024
    result = await sb.exec(["wc", "-c"], input="b" * size)
    assert result.success and int(result.stdout.split()[0]) == size, f"{result}"


@check
async def test_exec_as_user(sb: CrucibleSandbox) -> None:
    # Inspect adds a user as root and runs whoami as each; a session has one unprivileged user.
    root = await sb.exec(["whoami"], user="root")
    assert root.success and root.stdout.strip() == "root", f"running as root: {root.stderr.strip()}"


@check
async def test_exec_as_nonexistent_user(sb: CrucibleSandbox) -> None:
    result = await sb.exec(["whoami"], user="nonexistent")
    assert not result.success, "ran as a user that does not exist"
    assert "nonexistent" in result.stdout + result.stderr, f"the error does not name the user: {result}"


@check
async def test_cwd_unspecified(sb: CrucibleSandbox) -> None:
    await sb.write_file("in_default_cwd.file", "x")
    listing = (await sb.exec(["ls", "-1"])).stdout
    assert "in_default_cwd.file" in listing.split("\n"), f"ls: {listing!r}"
    await remove(sb, "in_default_cwd.file")


@check
async def test_cwd_custom(sb: CrucibleSandbox) -> None:
    listing = (await sb.exec(["ls"], cwd="/usr/bin")).stdout
    assert "env" in listing.split("\n"), "no env in /usr/bin"


@check
async def test_cwd_relative(sb: CrucibleSandbox) -> None:
    assert (await sb.exec(["mkdir", "-p", "sub"])).success
    await sb.write_file("sub/in_sub.file", "x")
    listing = (await sb.exec(["ls"], cwd="sub")).stdout
    assert "in_sub.file" in listing.split("\n"), f"ls: {listing!r}"
    await remove(sb, "sub")


@check
async def test_cwd_absolute(sb: CrucibleSandbox) -> None:
    assert (await sb.exec(["mkdir", "/tmp/abs_cwd"])).success
    await sb.write_file("/tmp/abs_cwd/in_abs.file", "x")
    listing = (await sb.exec(["ls"], cwd="/tmp/abs_cwd")).stdout
    assert "in_abs.file" in listing.split("\n"), f"ls: {listing!r}"
    await remove(sb, "/tmp/abs_cwd")


async def output_is_limited(sb: CrucibleSandbox, redirect: str) -> None:
    limit = SandboxLimits.MAX_EXEC_OUTPUT_SIZE
    e = await raises(OutputLimitExceededError, sb.exec(["sh", "-c", f"yes | head -c {limit + 1024} {redirect}"]))
    assert "limit of 10 MiB was exceeded" in str(e), f"the error does not state the limit: {e}"
    kept = getattr(e, "truncated_output", None)
    assert kept is not None and len(kept) == limit, f"kept {len(kept or '')} characters, not {limit}"


@check
async def test_exec_stdout_is_limited(sb: CrucibleSandbox) -> None:
    await output_is_limited(sb, "")


@check
async def test_exec_stderr_is_limited(sb: CrucibleSandbox) -> None:
    await output_is_limited(sb, "1>&2")


# --- documented by Inspect, not checked by its list ---------------------------------------


@check
async def extra_read_file_text_not_utf8(sb: CrucibleSandbox) -> None:
    await sb.write_file("latin1.file", b"caf\xe9")
    await raises(UnicodeDecodeError, sb.read_file("latin1.file", text=True))
    assert await sb.read_file("latin1.file", text=False) == b"caf\xe9"
    await remove(sb, "latin1.file")


@check
async def extra_exec_output_not_utf8(sb: CrucibleSandbox) -> None:
    await raises(UnicodeDecodeError, sb.exec(["printf", "caf\\351"]))


@check
async def extra_cwd_missing(sb: CrucibleSandbox) -> None:
    result = await sb.exec(["ls"], cwd="no/such/dir")
    assert not result.success, f"ran in a directory that does not exist: {result}"
    assert "no/such/dir" in result.stderr, f"the error does not name the directory: {result.stderr!r}"


@check
async def extra_more_calls_at_once_than_the_session_runs(sb: CrucibleSandbox) -> None:
    # An agent's parallel tool calls: more than a session runs at once (4) wait their turn.
    results = await asyncio.gather(*(sb.exec(["sh", "-c", f"sleep 0.5; echo {i}"]) for i in range(7)))
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(7)], f"{results}"


async def run_check(fn: Check, sb: CrucibleSandbox) -> Union[bool, str]:
    try:
        await fn(sb)
        return True
    except AssertionError as e:
        return f"FAILED: {e}"
    except Exception as e:
        return f"ERROR: {e!r}"


async def main(url: str, sandbox: str, environment: str) -> Dict[str, Union[bool, str]]:
    with Crucible(url).session(environment=environment, sandbox=sandbox, memory_mb=512, scratch_mb=128) as session:
        sb = CrucibleSandbox(session)
        return {fn.__name__: await run_check(fn, sb) for fn in CHECKS}


if __name__ == "__main__":
    results = asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "python"))
    print(json.dumps(results, indent=1))
