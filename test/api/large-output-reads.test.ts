/**
 * A 16 MiB output read back through every path a client has — the evaluation's JSON, the raw
 * /stdout and /stderr, and the SSE event log — byte for byte, on both storage dialects (the
 * JSON and the raw streams are read from storage in pieces). And an output over the limit keeps
 * its head and tail around the marker on each path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrucibleClient } from '../../src/client/index.js';
import type { Evaluation } from '../../src/domain/evaluation.js';
import { bothStores, type TestServer } from '../helpers/both-stores.js';

const MIB = 1024 * 1024;
// 1 KiB lines with 2-, 3- and 4-byte characters (a surrogate pair in JSON), numbered so a lost,
// repeated or reordered piece shows; 16 Ki lines = 16 MiB exactly.
const LINE_PROGRAM = (lines: number) =>
  [
    'import sys',
    `for i in range(${lines}):`,
    '    line = f"{i:08d} é€😀 "',
    '    line += "x" * (1023 - len(line.encode())) + "\\n"',
    '    sys.stdout.write(line)',
    '    sys.stderr.write(line)',
  ].join('\n');

function expectedLines(lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const line = `${String(i).padStart(8, '0')} é€😀 `;
    out.push(line + 'x'.repeat(1023 - Buffer.byteLength(line)) + '\n');
  }
  return out.join('');
}

async function body(url: string): Promise<{ status: number; type: string | null; bytes: Buffer }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
}

async function streamedText(client: CrucibleClient, id: string): Promise<{ stdout: string; stderr: string }> {
  const text = { stdout: [] as string[], stderr: [] as string[] };
  for await (const event of client.events(id)) {
    if (event.type === 'stdout' || event.type === 'stderr') text[event.type].push(event.data.text);
    if (event.type === 'done') break;
  }
  return { stdout: text.stdout.join(''), stderr: text.stderr.join('') };
}

describe.each(bothStores({ workers: 1 }))('large outputs read back exactly: $name', ({ start }) => {
  let server: TestServer;
  let cleanup: () => Promise<void>;
  let client: CrucibleClient;
  beforeAll(async () => {
    ({ server, cleanup } = await start());
    client = new CrucibleClient(server.url);
  }, 60_000);
  afterAll(async () => cleanup?.(), 60_000);

  it('16 MiB of stdout and of stderr: the JSON, the raw streams and the events say the same bytes', { timeout: 300_000 }, async () => {
    const expected = expectedLines(16 * 1024);
    expect(Buffer.byteLength(expected)).toBe(16 * MIB);
    const ended = await client.run({ code: LINE_PROGRAM(16 * 1024), max_output_bytes: 16 * MIB, timeout_s: 120, memory_mb: 256 });
    expect(ended).toMatchObject({ status: 'completed', stdout_truncated: false, stderr_truncated: false });

    const json = await body(`${server.url}/api/evaluations/${ended.id}`);
    expect(json.status).toBe(200);
    expect(json.type).toMatch(/^application\/json/);
    const record = JSON.parse(json.bytes.toString('utf8')) as Evaluation;
    expect(record.stdout === expected).toBe(true);
    expect(record.stderr === expected).toBe(true);
    // Every other field as the client's own read of it (which went through the same route).
    expect({ ...record, stdout: '', stderr: '' }).toEqual({ ...ended, stdout: '', stderr: '' });

    for (const stream of ['stdout', 'stderr'] as const) {
      const raw = await body(`${server.url}/api/evaluations/${ended.id}/${stream}`);
      expect(raw.status).toBe(200);
      expect(raw.type).toBe('application/octet-stream');
      expect(raw.bytes.equals(Buffer.from(expected, 'utf8'))).toBe(true);
    }

    const streamed = await streamedText(client, ended.id);
    expect(streamed.stdout === expected).toBe(true);
    expect(streamed.stderr === expected).toBe(true);
  });

  it('an output over the limit keeps its head and tail around the marker, in the JSON and the raw stream', { timeout: 120_000 }, async () => {
    const lines = 4096; // 4 MiB a stream, against a 1 MiB limit
    const ended = await client.run({ code: LINE_PROGRAM(lines), max_output_bytes: MIB, timeout_s: 60 });
    expect(ended).toMatchObject({ status: 'completed', stdout_truncated: true });
    const all = expectedLines(lines);
    const record = JSON.parse((await body(`${server.url}/api/evaluations/${ended.id}`)).bytes.toString('utf8')) as Evaluation;
    const marker = /\n…\[crucible: (\d+) bytes omitted\]…\n/.exec(record.stdout)!;
    expect(marker).not.toBeNull();
    const head = record.stdout.slice(0, marker.index);
    const tail = record.stdout.slice(marker.index + marker[0].length);
    expect(all.startsWith(head)).toBe(true);
    expect(all.endsWith(tail)).toBe(true);
    // The end of the output (its last line) is kept.
    expect(tail.length).toBeGreaterThan(1024);
    expect(Buffer.byteLength(head) + Buffer.byteLength(tail) + Number(marker[1])).toBe(Buffer.byteLength(all));
    expect(Buffer.byteLength(record.stdout)).toBeLessThanOrEqual(MIB);
    const raw = await body(`${server.url}/api/evaluations/${ended.id}/stdout`);
    expect(raw.bytes.toString('utf8') === record.stdout).toBe(true);
  });
});
