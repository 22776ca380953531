"""Times the Python SDK's Session.read_file of one file from a warm interpreter (for bench/sessions-section.ts).

    PYTHONPATH=sdk/python/src python3 python_sdk_read_timer.py URL SESSION_ID PATH REPS SIZE

Prints one JSON list: the milliseconds of each read (import and session look-up excluded).
"""
import json
import sys
import time

from crucible import Crucible

url, session_id, path, reps, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
session = Crucible(url).attach_session(session_id)
times = []
for _ in range(reps):
    started = time.perf_counter()
    data = session.read_file(path)
    times.append((time.perf_counter() - started) * 1000)
    if len(data) != size:
        raise SystemExit("read %d bytes, expected %d" % (len(data), size))
print(json.dumps(times))
