import { describe, expect, it } from 'vitest';
import { CrucibleError } from '../../src/domain/errors.js';
import { createPostgresStorage } from '../../src/storage/postgres.js';
import type { Storage } from '../../src/ports/storage.js';
import { expectListingsFollowAnotherWriter, expectWholeOutputsMoveToPieces, newEvaluation, storeContract } from './contract.js';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { postgresDialect } from '../../src/storage/postgres-dialect.js';
import type { Database } from '../../src/storage/schema.js';
import { PG_URL, dropSchema, testSchemaName } from './pg-helpers.js';

const schemas = new WeakMap<Storage, string>();

storeContract('PostgreSQL', {
  async open() {
    const schema = testSchemaName();
    const store = createPostgresStorage({ connectionString: PG_URL, schema });
    schemas.set(store, schema);
    await store.init();
    return store;
  },
  async dispose(store) {
    await store.close();
    await dropSchema(schemas.get(store)!);
  },
});

describe('PostgreSQL store specifics', () => {
  it('migrates safely when several processes start at once', async () => {
    const schema = testSchemaName();
    const stores = Array.from({ length: 4 }, () => createPostgresStorage({ connectionString: PG_URL, schema }));
    try {
      await Promise.all(stores.map((s) => s.init()));
      const e = newEvaluation();
      await stores[0]!.evaluations.create([e]);
      expect((await stores[3]!.evaluations.get(e.id))!.id).toBe(e.id);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await dropSchema(schema);
    }
  });

  it('lists what another process wrote, although each process keeps the summaries it read', async () => {
    const schema = testSchemaName();
    try {
      await expectListingsFollowAnotherWriter(() => createPostgresStorage({ connectionString: PG_URL, schema }));
    } finally {
      await dropSchema(schema);
    }
  });

  it('moves outputs an older version stored whole into pieces when it migrates', async () => {
    const schema = testSchemaName();
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${schema}` }) }) });
    const store = createPostgresStorage({ connectionString: PG_URL, schema });
    try {
      await expectWholeOutputsMoveToPieces({ db, dialect: postgresDialect(schema), store });
    } finally {
      await store.close();
      await db.destroy();
      await dropSchema(schema);
    }
  });

  it('reports an unreachable database as storage_unavailable (503), without hanging', async () => {
    const store = createPostgresStorage({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      schema: 'crucible_test_unreachable',
      connectTimeoutMs: 1000,
    });
    try {
      const err = await store.ping().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CrucibleError);
      expect((err as CrucibleError).httpStatus).toBe(503);
      expect((err as CrucibleError).code).toBe('storage_unavailable');
    } finally {
      await store.close();
    }
  });

  it('recovers after its connections are killed (as by a server restart)', async () => {
    const schema = testSchemaName();
    const applicationName = `crucible-test-${schema}`;
    const store = createPostgresStorage({ connectionString: PG_URL, schema, applicationName });
    try {
      await store.init();
      await Promise.all([store.ping(), store.ping(), store.ping()]);
      const { default: pg } = await import('pg');
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      // Only this test's own connections, recognised by their unique application name.
      const killed = await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1`, [applicationName]);
      expect(killed.rowCount).toBeGreaterThan(0);
      await admin.end();
      // The first use after the kill may fail (503); the pool then replaces the connection.
      let ok = false;
      for (let i = 0; i < 20 && !ok; i++) {
        ok = await store.ping().then(
          () => true,
          (err: unknown) => {
            expect((err as CrucibleError).httpStatus).toBe(503);
            return false;
          },
        );
      }
      expect(ok).toBe(true);
      expect((await store.evaluations.list({ limit: 1 })).items).toEqual([]);
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });
});
