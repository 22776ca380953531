/**
 * Listing stays fast and correct at 100k evaluations in SQLite (the embedded default's scale):
 * every filter of the benchmark, including both plans of the SQLite tag filter (rare and common
 * tags). PostgreSQL at 1M rows is in bench/storage-scale.ts (too slow to seed inside npm test).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchQueries, seedSqlite } from '../../bench/storage-scale.js';
import type { Storage } from '../../src/ports/storage.js';
import { createSqliteStorage, sqliteFilename } from '../../src/storage/sqlite.js';

const ROWS = 100_000;
const id = (i: number) => `ev_${String(i).padStart(26, '0')}`;

describe('SQLite store at 100k evaluations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crucible-scale-'));
  let store: Storage;

  beforeAll(async () => {
    store = createSqliteStorage({ dataDir: dir });
    await store.init();
    seedSqlite(sqliteFilename({ dataDir: dir }), ROWS);
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers every benchmark query quickly', async () => {
    for (const [name, query] of benchQueries(ROWS)) {
      await store.evaluations.list(query); // warm the statement cache and pages
      const started = performance.now();
      await store.evaluations.list(query);
      const ms = performance.now() - started;
      // Generous bounds for a busy 2-core machine; typical numbers are 1-10 ms and ~60 ms for q.
      expect(ms, name).toBeLessThan(query.q ? 1000 : 150);
    }
  });

  it('filters correctly with common, rare and combined tags', async () => {
    const ids = async (tags: string[], limit = 3) => (await store.evaluations.list({ limit, tags })).items.map((e) => e.id);
    // Every seeded row i has tags bench, team-(i % 10) and exp-(i % 1000).
    expect(await ids(['team-3'])).toEqual([id(99993), id(99983), id(99973)]);
    expect(await ids(['exp-42'])).toEqual([id(99042), id(98042), id(97042)]);
    expect(await ids(['bench', 'exp-42', 'team-2'])).toEqual([id(99042), id(98042), id(97042)]);
    expect(await ids(['team-3', 'exp-42'])).toEqual([]);
    const page1 = await store.evaluations.list({ limit: 2, tags: ['team-7'], status: ['failed'] });
    // failed = i % 20 == 2, never with i % 10 == 7: nothing.
    expect(page1.items).toEqual([]);
    const failed = await store.evaluations.list({ limit: 2, tags: ['team-2'], status: ['failed'] });
    expect(failed.items.map((e) => e.id)).toEqual([id(99982), id(99962)]);
    const next = await store.evaluations.list({ limit: 2, tags: ['team-2'], status: ['failed'], cursor: failed.next_cursor! });
    expect(next.items.map((e) => e.id)).toEqual([id(99942), id(99922)]);
  });

  it('searches text among the newest evaluations only', async () => {
    expect((await store.evaluations.list({ limit: 5, q: `print(${ROWS - 5})` })).items.map((e) => e.id)).toEqual([id(ROWS - 5)]);
    expect((await store.evaluations.list({ limit: 5, q: 'print(12345)' })).items).toEqual([]); // beyond the 20k window
  });
});
