/**
 * Server memory for large outputs: two back-to-back evaluations that each write 16 MiB to stdout
 * and 16 MiB to stderr (max_output_bytes 16 MiB), each then read whole — the evaluation as JSON,
 * both raw streams and the event log. The server's RSS is sampled throughout; the figure is its
 * peak rise over the idle server, next to the output of one run (the target: at most 2×).
 */
import { CrucibleClient } from '../src/client/index.js';
import { startBenchServer } from './lib/server.js';
import { round } from './lib/stats.js';
import type { Section } from './lib/section.js';

const MIB = 1024 * 1024;
const PROGRAM = `import sys
chunk = "x" * 1023 + "\\n"
for _ in range(16 * 1024):
    sys.stdout.write(chunk)
    sys.stderr.write(chunk)
`;

async function drain(url: string): Promise<number> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`GET ${url}: HTTP ${res.status}`);
  let bytes = 0;
  for await (const chunk of res.body) bytes += (chunk as Uint8Array).byteLength;
  return bytes;
}

export async function outputMemoryBench(): Promise<Section> {
  const server = await startBenchServer(['--workers', '1']);
  const peakKb = { run: 0, read: 0 };
  let phase: keyof typeof peakKb = 'run';
  const sampler = setInterval(() => {
    try {
      peakKb[phase] = Math.max(peakKb[phase], server.rssKb());
    } catch {
      // the server is gone; the run reports the failure
    }
  }, 20);
  try {
    const client = new CrucibleClient(server.url);
    // Warm-up: a small run, so the idle figure includes the sandbox pool and the compiled code paths.
    await client.run({ code: 'print(1)' });
    const idleKb = server.rssKb();
    peakKb.run = peakKb.read = idleKb;
    const read: Record<string, number> = {};
    for (let run = 0; run < 2; run++) {
      phase = 'run';
      const ended = await client.run({ code: PROGRAM, max_output_bytes: 16 * MIB, timeout_s: 60, memory_mb: 256 });
      if (ended.status !== 'completed') throw new Error(`the output run ended ${ended.status}: ${ended.message ?? ''}`);
      const id = ended.id;
      const base = `${server.url}/api/evaluations/${id}`;
      phase = 'read';
      read.json = await drain(base);
      read.stdout = await drain(`${base}/stdout`);
      read.stderr = await drain(`${base}/stderr`);
      read.events = await drain(`${base}/events`);
    }
    const outputMib = 32; // 16 MiB stdout + 16 MiB stderr per run
    const rise = (kb: number) => round((kb - idleKb) / 1024);
    return {
      name: 'output-memory',
      title: 'Large output: two back-to-back runs of 16 MiB stdout + 16 MiB stderr, each read whole (JSON, raw streams, events)',
      rows: [
        {
          metric: 'server RSS peak rise while reading (MiB)',
          crucible: rise(peakKb.read),
          baseline: outputMib,
          ratio: round(rise(peakKb.read) / outputMib, 2),
          target: '≤ 2× the output',
          met: rise(peakKb.read) <= 2 * outputMib,
          note: `over idle ${round(idleKb / 1024)} MiB; baseline = one run's output`,
        },
        {
          metric: 'server RSS peak rise while running (MiB)',
          crucible: rise(peakKb.run),
          baseline: outputMib,
          ratio: round(rise(peakKb.run) / outputMib, 2),
          note: 'capture, live events, verdict write, and the client’s final GET',
        },
        {
          metric: 'bytes read per run: JSON / stdout / stderr / events (MiB)',
          crucible: [read.json, read.stdout, read.stderr, read.events].map((b) => round(b! / MIB, 1)).join(' / '),
        },
      ],
      notes: [],
      data: { idleKb, peakKb, read },
    };
  } finally {
    clearInterval(sampler);
    await server.stop();
  }
}
