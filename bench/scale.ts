/**
 * Scale: list/filter latency with many stored evaluations. The storage engineer's
 * bench/storage-scale.ts does the seeding (a documented SQL fast path) and the measuring for
 * SQLite and PostgreSQL; this runs it twice in the same run — at a small baseline size and at
 * the target size — and puts the two side by side.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { round } from './lib/stats.js';
import type { Row, Section } from './lib/section.js';

const SCRIPT = path.join(import.meta.dirname, 'storage-scale.ts');
const TSX = path.resolve(import.meta.dirname, '../node_modules/.bin/tsx');

/** database → query → median ms */
type Timings = Record<string, Record<string, number>>;

function runStorageScale(rows: number, pgRows: number): Promise<{ timings: Timings; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [SCRIPT, '--sqlite-rows', String(rows), '--pg-rows', String(pgRows), '--hot-path', '200'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`storage-scale.ts exited ${code}: ${output.slice(-1500)}`));
      resolve({ timings: parse(output), output });
    });
  });
}

/** Reads "  <query name>   12.34 ms  (50 items)" lines under the "SQLite" / "PostgreSQL" headings. */
function parse(output: string): Timings {
  const timings: Timings = {};
  let db = '';
  for (const line of output.split('\n')) {
    if (/^SQLite/.test(line)) db = 'SQLite';
    else if (/^PostgreSQL/.test(line)) db = 'PostgreSQL';
    const m = /^ {2}(\S.*?)\s+([\d.]+) ms(\s+\(\d+ items\))?\s*$/.exec(line);
    if (m && db && !/^(hot path|seeded)/.test(m[1]!)) (timings[db] ??= {})[m[1]!] = Number(m[2]);
  }
  return timings;
}

export async function scaleBench(opts: { rows: number; baselineRows: number; postgres: boolean }): Promise<Section> {
  if (!fs.existsSync(SCRIPT)) {
    return { name: 'scale', title: 'Scale', rows: [], notes: ['skipped: bench/storage-scale.ts (the storage benchmark) is not in this checkout'], data: null };
  }
  const small = await runStorageScale(opts.baselineRows, opts.postgres ? opts.baselineRows : 0);
  const large = await runStorageScale(opts.rows, opts.postgres ? opts.rows : 0);
  const rows: Row[] = [];
  for (const [db, queries] of Object.entries(large.timings)) {
    for (const [query, ms] of Object.entries(queries)) {
      const base = small.timings[db]?.[query];
      rows.push({ metric: `${db}: ${query} (ms)`, crucible: ms, baseline: base ?? '—', ratio: base ? round(ms / base, 1) : undefined });
    }
  }
  const notes = [`baseline column = the same query with ${opts.baselineRows} rows; Crucible column = ${opts.rows} rows; median of 5`];
  if (!opts.postgres) notes.push('PostgreSQL skipped (--no-postgres)');
  else if (!large.timings.PostgreSQL) notes.push('PostgreSQL: no timings (see data.output)');
  return {
    name: 'scale',
    title: `Scale: list/filter latency, ${opts.rows} stored evaluations vs ${opts.baselineRows}`,
    rows,
    notes,
    data: { timings: large.timings, baseline_timings: small.timings, output: large.output },
  };
}
