"""crucible session agent: the program a session's sandbox runs (under crucible-init, as PID 2).

It serves the host over its own stdin/stdout, which only the sandbox launcher holds: commands
(exec), file writes and reads, all done here, inside the sandbox's namespaces and as the sandbox
user, so paths resolve against the sandbox's root, never the host's.

Frames, both ways: one line of JSON, then exactly `len` raw bytes (0 when absent).
  host -> agent  {"op":"exec","id",argv,env,cwd,timeout_s,max_output,stream,len} + stdin
                 {"op":"write","id",path,len} + content
                 {"op":"read","id",path,max_bytes}
  agent -> host  {"type":"hello"}                               once, when it serves
                 {"type":"out","id",stream,len} + bytes          streamed output (stream=true)
                 {"type":"exec_done","id",...,stdout_len,stderr_len,len} + stdout + stderr
                 {"type":"write_done"|"read_done","id",size,sha256,len} (+ content for read)
                 {"type":"error","id",code,message}

Every request runs in its own thread; replies interleave under a lock. Each exec is its own
session and process group: a timeout kills that group, nothing else. Whatever an exec leaves in
the background keeps running until the session ends. The agent runs as the sandbox user, so a
program can kill it: the agent's end is init's program ending, which ends the sandbox, and the
host then ends the session with reason `agent_exited` (never silently).
"""

import errno
import hashlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time

CWD = os.getcwd()
BASE_ENV = dict(os.environ)
# Output still read after an exec's own process ended, for pipes a background child keeps open.
LINGER_S = 0.1
# A command still writing this many times its output cap is killed (like evaluations' flood rule).
FLOOD_FACTOR = 16
CHUNK = 65536
# Send buffer asked for on the reply channel (see widen_reply_channel).
REPLY_CHANNEL_BYTES = 4 * 1024 * 1024
# Replies up to this size go out in one write (header and payload copied together).
SMALL_REPLY_BYTES = 1024 * 1024

stdin = sys.stdin.buffer
stdout = sys.stdout.buffer
write_lock = threading.Lock()


def send(header, payload=b""):
    header["len"] = len(payload)
    line = json.dumps(header, separators=(",", ":")).encode() + b"\n"
    if len(payload) <= SMALL_REPLY_BYTES:
        # One write: the host would otherwise wake for the header line alone, then again for the rest.
        line, payload = line + payload, b""
    with write_lock:
        stdout.write(line)
        if payload:
            stdout.write(payload)
        stdout.flush()


def read_exact(n):
    parts = []
    while n > 0:
        chunk = stdin.read(n)
        if not chunk:
            raise EOFError
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


class FileError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


ERRNO_CODES = {
    errno.ENOENT: "file_not_found",
    errno.EISDIR: "is_a_directory",
    errno.EACCES: "permission_denied",
    errno.EPERM: "permission_denied",
    errno.EROFS: "permission_denied",
    errno.ENOTDIR: "invalid_path",
    errno.EEXIST: "invalid_path",  # a parent "directory" is a file
    errno.ENAMETOOLONG: "invalid_path",
    errno.ELOOP: "invalid_path",
    errno.ENOSPC: "no_space",
    errno.EDQUOT: "no_space",
    errno.EFBIG: "file_too_large",
}


def file_error(err, path):
    code = ERRNO_CODES.get(err.errno, "file_error")
    return FileError(code, "%s: %s" % (path, os.strerror(err.errno) if err.errno else str(err)))


def resolve(path):
    if not isinstance(path, str) or path == "" or "\0" in path or len(path.encode()) > 4096:
        raise FileError("invalid_path", "a path must be 1-4096 bytes without NUL")
    return os.path.join(CWD, path)


def do_write(req, content):
    path = resolve(req["path"])
    try:
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        if os.path.isdir(path):
            raise FileError("is_a_directory", "%s is a directory" % req["path"])
        with open(path, "wb") as f:
            f.write(content)
    except OSError as err:
        raise file_error(err, req["path"])
    return {"type": "write_done", "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}, b""


def do_read(req):
    path = resolve(req["path"])
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > req["max_bytes"]:
                raise FileError("file_too_large", "%s is %d bytes, over the limit of %d" % (req["path"], size, req["max_bytes"]))
            content = f.read(req["max_bytes"] + 1)
    except IsADirectoryError:
        raise FileError("is_a_directory", "%s is a directory" % req["path"])
    except OSError as err:
        raise file_error(err, req["path"])
    if len(content) > req["max_bytes"]:
        raise FileError("file_too_large", "%s is over the limit of %d bytes" % (req["path"], req["max_bytes"]))
    return {"type": "read_done", "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}, content


def feed(pipe, data):
    try:
        if data:
            pipe.write(data)
    except OSError:
        pass  # the command exited without reading it all
    finally:
        try:
            pipe.close()
        except OSError:
            pass


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def sweep_group(pgid, limit_s=5.0):
    """Kills a group until none of it is left. One SIGKILL to the group can miss a child a fork bomb is
    forking at that instant (gVisor does not make fork and group kill atomic as Linux does), and the
    survivor would go on filling the process table the next exec needs. Called after the leader was
    reaped, so ESRCH means the group is empty (init reaps the orphans)."""
    ends = time.monotonic() + limit_s
    while time.monotonic() < ends:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            return
        time.sleep(0.01)


def exec_cwd(req):
    return os.path.join(CWD, req["cwd"]) if req.get("cwd") else CWD


def start_exec(req):
    """Starts an exec's command (raises OSError if it cannot start)."""
    env = dict(BASE_ENV)
    env.update(req.get("env") or {})
    return subprocess.Popen(
        req["argv"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=exec_cwd(req), env=env, start_new_session=True, close_fds=True,
    )


def not_started(req, err, started):
    """The answer to an exec whose command could not start; any other failure is re-raised for serve()."""
    if not isinstance(err, OSError):
        raise err
    where = "working directory %s" % req.get("cwd") if req.get("cwd") and err.filename == exec_cwd(req) else req["argv"][0]
    return {
        "type": "exec_done", "exit_code": 127 if err.errno == errno.ENOENT else 126, "signal": None,
        "outcome": "not_started", "message": "could not start %s: %s" % (where, os.strerror(err.errno or 0)),
        "wall_ms": round((time.monotonic() - started) * 1000, 1),
        "stdout_len": 0, "stderr_len": 0, "stdout_truncated": False, "stderr_truncated": False,
    }, b""


def finish_exec(req, data, proc, started):
    """Feeds a started exec its stdin, collects its output until it ends (or its limits end it)."""
    cap = req["max_output"]
    stream = req.get("stream", False)
    # No stdin (the usual case): close it here rather than start a thread per exec to do it.
    if not data or not start_thread(feed, (proc.stdin, data)):
        feed(proc.stdin, data)
    kept = {"stdout": bytearray(), "stderr": bytearray()}
    total = {"stdout": 0, "stderr": 0}
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "stdout")
    sel.register(proc.stderr, selectors.EVENT_READ, "stderr")
    timeout = req.get("timeout_s")
    deadline = started + timeout if timeout else None
    outcome = None
    exited_at = None
    while sel.get_map():
        now = time.monotonic()
        if outcome is None and deadline is not None and now >= deadline:
            outcome = "timeout"
            kill_group(proc.pid)
        if exited_at is None and proc.poll() is not None:
            exited_at = now
        if exited_at is not None and now - exited_at >= LINGER_S:
            break  # a background child holds the pipes: stop reading them
        waits = [0.05]
        if deadline is not None and outcome is None:
            waits.append(max(0.0, deadline - now))
        if exited_at is not None:
            waits.append(max(0.0, exited_at + LINGER_S - now))
        for key, _ in sel.select(min(waits)):
            chunk = os.read(key.fd, CHUNK)
            if not chunk:
                sel.unregister(key.fileobj)
                continue
            name = key.data
            total[name] += len(chunk)
            room = cap - len(kept[name])
            if room > 0:
                kept[name] += chunk[:room]
                if stream:
                    send({"type": "out", "id": req["id"], "stream": name}, chunk[:room])
            if total[name] > FLOOD_FACTOR * cap and outcome is None:
                outcome = "output_limit"
                kill_group(proc.pid)
    sel.close()
    proc.stdout.close()
    proc.stderr.close()
    if deadline is not None and outcome is None:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            outcome = "timeout"
            kill_group(proc.pid)
    code = proc.wait()
    if outcome is not None:
        sweep_group(proc.pid)
    wall_ms = round((time.monotonic() - started) * 1000, 1)
    sig = None
    if code < 0:
        try:
            sig = signal.Signals(-code).name
        except ValueError:
            sig = "SIG%d" % -code
    header = {
        "type": "exec_done", "exit_code": code if code >= 0 else None, "signal": sig, "outcome": outcome or "exited",
        "wall_ms": wall_ms, "stdout_len": len(kept["stdout"]), "stderr_len": len(kept["stderr"]),
        "stdout_truncated": total["stdout"] > cap, "stderr_truncated": total["stderr"] > cap,
    }
    return header, bytes(kept["stdout"]) + bytes(kept["stderr"])


def start_thread(target, args):
    """Starts a thread, waiting out a full process table (a fork bomb still being killed) for up to 5 s."""
    for attempt in range(100):
        try:
            threading.Thread(target=target, args=args, daemon=True).start()
            return True
        except RuntimeError:
            time.sleep(0.05)
    return False


def do_op(req, data):
    if req["op"] == "write":
        return do_write(req, data)
    if req["op"] == "read":
        return do_read(req)
    return {"type": "error", "code": "bad_request", "message": "unknown op"}, b""


def serve(req, work):
    """Answers a request with what work() returns; a failure answers too, never hangs the caller."""
    try:
        header, payload = work()
    except FileError as err:
        header, payload = {"type": "error", "code": err.code, "message": str(err)}, b""
    except Exception as err:  # a bug here must answer, not hang the caller
        header, payload = {"type": "error", "code": "agent_error", "message": repr(err)}, b""
    header["id"] = req["id"]
    try:
        send(header, payload)
    except OSError:
        os._exit(0)  # the host is gone: nobody to answer


def handle(req, data):
    """Serves one request in its own thread. An exec's command is started before its thread, so
    that it runs while the thread waits to be scheduled: on a loaded machine that wait for a CPU
    is a large part of a short exec's round trip, and it no longer comes before the command."""
    work = lambda: do_op(req, data)
    if req.get("op") == "exec":
        started = time.monotonic()
        try:
            proc = start_exec(req)
        except Exception as err:
            return serve(req, lambda: not_started(req, err, started))
        work = lambda: finish_exec(req, data, proc, started)
    if not start_thread(serve, (req, work)):
        serve(req, work)  # no thread to be had: answer in line rather than not at all


def widen_reply_channel():
    """Lets the host's channel (a unix socket) hold more in flight than its default ~200 KiB.

    A 64 MiB file read otherwise goes out in ~300 rounds of "socket full: wait until the server
    has read": each one a wake-up of the server and of this process, and on a loaded machine each
    wake-up waits for a CPU. The kernel caps the size (net.core.wmem_max); where the channel is no
    socket (or the sandbox does not let us), nothing changes.
    """
    try:
        channel = socket.socket(fileno=stdout.fileno())
    except OSError:
        return
    try:
        channel.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, REPLY_CHANNEL_BYTES)
    except OSError:
        pass
    finally:
        channel.detach()  # the fd stays open: it is our stdout


def main():
    widen_reply_channel()
    send({"type": "hello", "pid": os.getpid(), "cwd": CWD})
    while True:
        line = stdin.readline()
        if not line:
            return  # the host closed the channel: the session is over
        req = json.loads(line)
        handle(req, read_exact(req.get("len", 0)))


if __name__ == "__main__":
    try:
        main()
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass
    os._exit(0)
