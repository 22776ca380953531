import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createSqliteStorage } from '../../src/storage/sqlite.js';
import { storeContract } from './contract.js';

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
