import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { createSqliteStorage } from '../../src/storage/sqlite.js';
import { expectListingsFollowAnotherWriter, storeContract } from './contract.js';

const root = mkdtempSync(join(tmpdir(), 'crucible-sqlite-store-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

storeContract('SQLite', {
  async open() {
    const store = createSqliteStorage({ dataDir: join(root, String(n++)) });
    await store.init();
    return store;
  },
  async dispose(store) {
    await store.close();
  },
});

describe('SQLite store specifics', () => {
  it('lists what another process wrote to the same file, although it keeps the summaries it read', async () => {
    const dataDir = join(root, String(n++));
    await expectListingsFollowAnotherWriter(() => createSqliteStorage({ dataDir }));
  });
});
