import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { createSqliteKysely, createSqliteStorage, DEFAULT_SQLITE_FILENAME } from '../../src/storage/sqlite.js';
import { sqliteDialect } from '../../src/storage/sqlite-dialect.js';
import { expectListingsFollowAnotherWriter, expectWholeOutputsMoveToPieces, storeContract } from './contract.js';

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

  it('moves outputs an older version stored whole into pieces when it migrates', async () => {
    const dataDir = join(root, String(n++));
    mkdirSync(dataDir);
    const db = createSqliteKysely(join(dataDir, DEFAULT_SQLITE_FILENAME));
    const store = createSqliteStorage({ dataDir, db });
    try {
      await expectWholeOutputsMoveToPieces({ db, dialect: sqliteDialect, store });
    } finally {
      await store.close();
    }
  });
});
