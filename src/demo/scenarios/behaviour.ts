/** Scenarios showing how ordinary (and ordinarily broken) programs end and what the platform reports. */
import { contains, that, verdict } from '../checks.js';
import type { Scenario } from '../types.js';

const MiB = 1024 * 1024;

export const behaviourScenarios: Scenario[] = [
  {
    name: 'hello',
    title: 'Hello world',
    kind: 'behaviour',
    expected: 'completed, exit 0, stdout "Hello, world!"',
    request: () => ({ code: 'print("Hello, world!")\n' }),
    check: (run) => [
      ...verdict(run, 'completed', 'exit_zero', 0),
      ...that(run.evaluation.stdout === 'Hello, world!\n', `stdout: got ${JSON.stringify(run.evaluation.stdout)}`),
    ],
  },
  {
    name: 'steps',
    title: 'Step-by-step output, streamed live',
    kind: 'behaviour',
    expected:
      'completed; the 5 lines (0.4 s apart) are persisted as separate stdout events spread over ≥ 1 s and reach the SSE client at different times, not all at the end',
    request: () => ({
      code: String.raw`
import time
for i in range(1, 6):
    print(f"step {i}/5", flush=True)
    time.sleep(0.4)
`,
    }),
    check: (run) => {
      const spread = (t: number[]) => (t.length ? t[t.length - 1]! - t[0]! : 0);
      const emitted = spread(run.stdoutEmittedAtMs);
      const arrived = spread(run.stdoutArrivalsMs);
      return [
        ...verdict(run, 'completed', 'exit_zero', 0),
        ...that(run.evaluation.stdout === 'step 1/5\nstep 2/5\nstep 3/5\nstep 4/5\nstep 5/5\n', `stdout: got ${JSON.stringify(run.evaluation.stdout)}`),
        ...that(run.stdoutArrivalsMs.length >= 3, `expected ≥ 3 separate stdout events over SSE, got ${run.stdoutArrivalsMs.length}`),
        ...that(emitted >= 1000, `stdout events should have been emitted over ≥ 1 s, were over ${Math.round(emitted)} ms`),
        // Looser than the emission spread: a client that connects late gets the first events in one burst.
        ...that(arrived >= 400, `stdout events should reach the client at different times, arrived within ${Math.round(arrived)} ms`),
      ];
    },
  },
  {
    name: 'syntax-error',
    title: 'Syntax error',
    kind: 'behaviour',
    expected: 'failed, reason exit_nonzero, exit 1, SyntaxError in stderr',
    request: () => ({ code: 'print("never closed\n' }),
    check: (run) => [...verdict(run, 'failed', 'exit_nonzero', 1), ...contains(run, 'stderr', 'SyntaxError')],
  },
  {
    name: 'runtime-error',
    title: 'Runtime error with traceback',
    kind: 'behaviour',
    expected: 'failed, reason exit_nonzero, exit 1, full traceback (ZeroDivisionError) in stderr, earlier stdout kept',
    request: () => ({
      code: String.raw`
def ratio(a, b):
    return a / b

print("computing ratio...")
print(ratio(1, 0))
`,
    }),
    check: (run) => [
      ...verdict(run, 'failed', 'exit_nonzero', 1),
      ...contains(run, 'stderr', 'Traceback (most recent call last)', 'in ratio', 'ZeroDivisionError'),
      ...contains(run, 'stdout', 'computing ratio...'),
    ],
  },
  {
    name: 'exit-3',
    title: 'sys.exit(3)',
    kind: 'behaviour',
    expected: 'failed, reason exit_nonzero, exit 3',
    request: () => ({ code: 'import sys\nprint("exiting with code 3")\nsys.exit(3)\n' }),
    check: (run) => [...verdict(run, 'failed', 'exit_nonzero', 3), ...contains(run, 'message', 'code 3')],
  },
  {
    name: 'infinite-loop',
    title: 'Infinite loop → timeout with partial output',
    kind: 'behaviour',
    expected: 'timeout after 1.5 s, reason timeout, the line printed before the loop kept',
    request: () => ({ code: 'print("entering an infinite loop", flush=True)\nwhile True:\n    pass\n', timeout_s: 1.5 }),
    check: (run) => {
      const wall = run.evaluation.metrics.wall_ms ?? 0;
      return [
        ...verdict(run, 'timeout', 'timeout'),
        ...contains(run, 'stdout', 'entering an infinite loop'),
        ...that(wall >= 1400 && wall < 4000, `wall_ms should be about 1500, got ${wall}`),
      ];
    },
  },
  {
    name: 'memory-exhaustion',
    title: 'Memory exhaustion → OOM, explained',
    kind: 'behaviour',
    expected: 'failed, reason oom (from the cgroup OOM counter), message names the 64 MiB limit, progress printed before the kill kept',
    request: () => ({
      code: String.raw`
chunks = []
while True:
    chunks.append(bytearray(8 * 1024 * 1024))
    print(f"allocated {8 * len(chunks)} MiB", flush=True)
`,
      memory_mb: 64,
    }),
    check: (run) => [
      ...verdict(run, 'failed', 'oom'),
      ...contains(run, 'message', 'Memory limit exceeded (64 MiB)'),
      ...contains(run, 'stdout', 'allocated 8 MiB'),
      ...that(
        (run.evaluation.metrics.peak_memory_bytes ?? 0) >= 48 * MiB,
        `peak memory should approach 64 MiB, got ${run.evaluation.metrics.peak_memory_bytes}`,
      ),
    ],
  },
  {
    name: 'cpu-limit',
    title: 'CPU burn under a 0.5 CPU limit',
    kind: 'behaviour',
    expected:
      'completed; busy for 2 s of wall time but cpu_ms ≈ half of wall_ms, never more (ratio ≤ 0.6): the CFS quota throttles it (less than 0.5 only when the host is busy)',
    request: () => ({
      code: String.raw`
import time
start = time.monotonic()
n = 0
while time.monotonic() - start < 2.0:
    n += 1
print(f"busy for 2 s of wall time, {n} iterations")
`,
      cpus: 0.5,
    }),
    check: (run) => {
      const { wall_ms, cpu_ms } = run.evaluation.metrics;
      const ratio = wall_ms && cpu_ms !== null ? cpu_ms / wall_ms : 0;
      // The quota caps the ratio from above; below, a busy host (a parallel test suite) can starve
      // the program to a few percent, so the floor only asks that CPU time was measured.
      return [
        ...verdict(run, 'completed', 'exit_zero', 0),
        ...that(ratio > 0 && ratio <= 0.6, `cpu_ms/wall_ms should be ≤ 0.5 (+ measurement slack), got ${cpu_ms}/${wall_ms} = ${ratio.toFixed(2)}`),
      ];
    },
  },
  {
    name: 'large-output',
    title: 'Large output → truncated',
    kind: 'behaviour',
    expected: 'completed; 512 KiB written with max_output_bytes 64 KiB: the first 64 KiB kept, stdout_truncated true',
    request: () => ({
      code: String.raw`
import sys
line = "x" * 1023 + "\n"
for _ in range(512):
    sys.stdout.write(line)
`,
      max_output_bytes: 65536,
    }),
    check: (run) => {
      const bytes = Buffer.byteLength(run.evaluation.stdout);
      return [
        ...verdict(run, 'completed', 'exit_zero', 0),
        ...that(run.evaluation.stdout_truncated, 'stdout_truncated should be true'),
        ...that(bytes <= 65536 && bytes >= 60000, `kept stdout should be ≈ 64 KiB, got ${bytes} bytes`),
      ];
    },
  },
  {
    name: 'stdin',
    title: 'Reading standard input',
    kind: 'behaviour',
    expected: 'completed; sums the numbers given on stdin (3 + 4 + 5 = 12)',
    request: () => ({
      code: 'import sys\nnumbers = [int(x) for x in sys.stdin.read().split()]\nprint(f"sum of {numbers} = {sum(numbers)}")\n',
      stdin: '3\n4\n5\n',
    }),
    check: (run) => [...verdict(run, 'completed', 'exit_zero', 0), ...contains(run, 'stdout', 'sum of [3, 4, 5] = 12')],
  },
  {
    name: 'stress',
    title: 'Stress test: CPU and memory in two processes',
    kind: 'behaviour',
    expected:
      'completed; two forked workers sieve primes below 3 million and churn ~60 MiB each; the parent verifies 216816 primes; peak memory and CPU are measured (cpu_ms > 100 and within the 1-CPU quota: ≤ 1.2 × wall_ms; peak > 50 MiB)',
    request: () => ({
      code: String.raw`
import os

def work(seed):
    # memory pattern: grow and release buffers, touching every page
    total = 0
    for round_ in range(3):
        blocks = [bytearray(os.urandom(16)) * (1 << 16) for _ in range(60)]  # ~60 MiB
        total += sum(b[seed] for b in blocks)
        del blocks
    # CPU pattern: a sieve of Eratosthenes
    n = 3_000_000
    sieve = bytearray([1]) * n
    sieve[0:2] = b"\0\0"
    for i in range(2, int(n ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = bytes(len(range(i * i, n, i)))
    return sum(sieve)

pipes = []
for seed in range(2):
    r, w = os.pipe()
    if os.fork() == 0:
        os.close(r)
        os.write(w, str(work(seed)).encode())
        os._exit(0)
    os.close(w)
    pipes.append(r)
results = [int(os.read(r, 64)) for r in pipes]
for _ in pipes:
    os.wait()
print(f"primes below 3,000,000 per worker: {results}")
assert results == [216816, 216816], results
print("both workers agree: 216816")
`,
      memory_mb: 512,
    }),
    check: (run) => {
      const m = run.evaluation.metrics;
      return [
        ...verdict(run, 'completed', 'exit_zero', 0),
        ...contains(run, 'stdout', 'both workers agree: 216816'),
        // The work is fixed (~250 ms of CPU on a fast machine) while the wall time depends on how
        // busy the host is, so no lower bound relative to the wall time: measured, non-trivial,
        // and never more than the 1-CPU quota allows.
        ...that(
          (m.cpu_ms ?? 0) > 100 && (m.cpu_ms ?? Infinity) <= 1.2 * (m.wall_ms ?? 0),
          `cpu_ms should be measured, over 100 ms and within the 1-CPU quota (≤ 1.2 × wall_ms ${m.wall_ms}), got ${m.cpu_ms}`,
        ),
        ...that((m.peak_memory_bytes ?? 0) > 50 * MiB, `peak memory should exceed 50 MiB, got ${m.peak_memory_bytes}`),
      ];
    },
  },
];
