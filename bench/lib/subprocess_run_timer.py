"""The bare baseline of the sessions bench: `subprocess.run` of a command from one warm python3.

Reads one JSON argv per line on stdin, runs it with subprocess.run (output captured and dropped,
as an agent's tool call would), and answers one JSON line {"ms": ..., "returncode": ...} per
request. The bench interleaves these requests with execs in a session, so both see the same
machine noise, and the process stays warm (interpreter and subprocess module loaded) throughout.
"""
import json
import subprocess
import sys
import time

for line in sys.stdin:
    argv = json.loads(line)
    t = time.perf_counter()
    done = subprocess.run(argv, capture_output=True)
    ms = (time.perf_counter() - t) * 1000
    sys.stdout.write(json.dumps({"ms": ms, "returncode": done.returncode}) + "\n")
    sys.stdout.flush()
