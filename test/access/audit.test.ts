/** The audit log: what is recorded, who may read it, and tamper evidence on both databases. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/app/audit.js';
import { ANONYMOUS_ACTOR, type CreatedApiKey } from '../../src/domain/access.js';
import type { AuditPage } from '../../src/domain/audit.js';
import type { Evaluation } from '../../src/domain/evaluation.js';
import type { Storage } from '../../src/ports/storage.js';
import { createPostgresStorage } from '../../src/storage/postgres.js';
import { createSqliteStorage } from '../../src/storage/sqlite.js';
import { api, cliPath, startTestServer, tempDir } from '../helpers/server.js';
import { PG_URL, dropSchema, testSchemaName } from '../storage/pg-helpers.js';

const run = promisify(execFile);

interface Db {
  storage: Storage;
  /** Runs raw SQL against the same database, as someone tampering with it would. */
  exec(sqlText: string): Promise<void>;
  cliArgs: string[];
  close(): Promise<void>;
}

const schemas: string[] = [];
afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
});

const databases: Array<[string, () => Promise<Db>]> = [
  [
    'SQLite',
    async () => {
      const dir = tempDir();
      const storage = createSqliteStorage({ dataDir: dir });
      await storage.init();
      return {
        storage,
        async exec(sqlText) {
          const raw = new BetterSqlite3(path.join(dir, 'crucible.db'));
          raw.exec(sqlText);
          raw.close();
        },
        cliArgs: ['--data-dir', dir],
        close: () => storage.close(),
      };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const schema = testSchemaName();
      schemas.push(schema);
      const storage = createPostgresStorage({ connectionString: PG_URL, schema });
      await storage.init();
      return {
        storage,
        async exec(sqlText) {
          const client = new pg.Client({ connectionString: PG_URL });
          await client.connect();
          try {
            await client.query(`set search_path = ${schema}`);
            await client.query(sqlText);
          } finally {
            await client.end();
          }
        },
        cliArgs: ['--database-url', PG_URL, '--namespace', schema],
        close: () => storage.close(),
      };
    },
  ],
];

async function cliVerify(args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const r = await run(process.execPath, [cliPath, 'audit', 'verify', ...args], {
      env: { ...process.env, CRUCIBLE_DATABASE_URL: '', CRUCIBLE_REDIS_URL: '' },
    });
    return { code: 0, stdout: r.stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

for (const [name, open] of databases) {
  describe(`audit log tamper evidence (${name})`, () => {
    const seeded = async () => {
      const db = await open();
      const trail = new AuditTrail(db.storage.audit);
      for (let i = 1; i <= 5; i++) {
        await trail.record({
          actor: `key_${i}`,
          role: 'researcher',
          project: 'alpha',
          action: 'evaluation.submit',
          target: `ev_${i}`,
          outcome: 'success',
          source: '127.0.0.1',
          request_id: `req-${i}`,
          detail: { status: 202 },
        });
      }
      expect(await trail.verify()).toEqual({ ok: true, entries: 5 });
      return { db, trail };
    };

    it('chains entries 1, 2, 3… each on the previous hash; a concurrent burst keeps the chain whole', async () => {
      const { db, trail } = await seeded();
      try {
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            trail.record({
              actor: 'x',
              role: null,
              project: null,
              action: 'auth.refused',
              target: null,
              outcome: 'denied',
              source: null,
              request_id: String(i),
              detail: {},
            }),
          ),
        );
        expect(await trail.verify()).toEqual({ ok: true, entries: 15 });
        expect((await cliVerify(db.cliArgs)).stdout).toMatch(/intact: 15 entries/);
      } finally {
        await db.close();
      }
    });

    it('an altered entry (UPDATE) is named', async () => {
      const { db, trail } = await seeded();
      try {
        await db.exec(`update audit_log set actor = 'key_mallory' where seq = 3`);
        expect(await trail.verify()).toMatchObject({ ok: false, firstBad: 3, problem: expect.stringMatching(/altered/) as unknown });
        const cli = await cliVerify(db.cliArgs);
        expect(cli.code).toBe(1);
        expect(cli.stdout).toMatch(/BROKEN at entry 3/);
      } finally {
        await db.close();
      }
    });

    it('a removed entry (DELETE) is named by the entry after the gap', async () => {
      const { db, trail } = await seeded();
      try {
        await db.exec(`delete from audit_log where seq = 3`);
        expect(await trail.verify()).toMatchObject({ ok: false, firstBad: 4 });
        expect((await cliVerify(db.cliArgs)).code).toBe(1);
      } finally {
        await db.close();
      }
    });

    it('reordered entries (swapped positions) are named', async () => {
      const { db, trail } = await seeded();
      try {
        await db.exec(`update audit_log set seq = -1 where seq = 2`);
        await db.exec(`update audit_log set seq = 2 where seq = 3`);
        await db.exec(`update audit_log set seq = 3 where seq = -1`);
        expect(await trail.verify()).toMatchObject({ ok: false, firstBad: 2 });
        // Rewriting a whole entry's hash without the chain after it is caught at the next one.
        await db.exec(`update audit_log set seq = -1 where seq = 2`);
        await db.exec(`update audit_log set seq = 2 where seq = 3`);
        await db.exec(`update audit_log set seq = 3 where seq = -1`);
        await db.exec(`update audit_log set hash = '${'1'.repeat(64)}' where seq = 4`);
        expect(await trail.verify()).toMatchObject({ ok: false, firstBad: 4 });
        expect((await cliVerify(db.cliArgs)).code).toBe(1);
      } finally {
        await db.close();
      }
    });
  });
}

describe('audit log over the API', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let admin: CreatedApiKey;
  let researcher: CreatedApiKey;
  beforeAll(async () => {
    server = await startTestServer({ workers: 0, auth: 'required' });
    admin = await server.platform.access.createKey(ANONYMOUS_ACTOR, { name: 'root', role: 'admin', project: 'ops' });
    researcher = await server.platform.access.createKey(ANONYMOUS_ACTOR, { name: 'r', role: 'researcher', project: 'alpha' });
  });
  afterAll(async () => server?.stop());
  const as = (k: CreatedApiKey) => ({ authorization: `Bearer ${k.key}` });

  it('records submit, cancel, key create/revoke and refused authentications with actor, role, project, outcome, source and request id', async () => {
    const sub = await api<Evaluation>(server.url, 'POST', '/api/evaluations', { code: 'print(1)' }, as(researcher));
    await api(server.url, 'POST', `/api/evaluations/${sub.body.id}/cancel`, undefined, as(researcher));
    const key = await api<CreatedApiKey>(server.url, 'POST', '/api/keys', { name: 'v', role: 'viewer' }, as(admin));
    await api(server.url, 'DELETE', `/api/keys/${key.body.id}`, undefined, as(admin));
    await api(server.url, 'GET', '/api/evaluations', undefined, { authorization: 'Bearer nope' });
    await api(server.url, 'POST', '/api/keys', { name: 'x', role: 'admin' }, as(researcher));
    await new Promise((r) => setTimeout(r, 100)); // recorded after each response

    const page = await api<AuditPage>(server.url, 'GET', '/api/audit?limit=100', undefined, as(admin));
    expect(page.status).toBe(200);
    const rows = page.body.items.map((e) => [e.action, e.actor, e.target, e.outcome]);
    expect(rows).toEqual([
      ['evaluation.submit', researcher.id, sub.body.id, 'success'],
      ['evaluation.cancel', researcher.id, sub.body.id, 'success'],
      ['key.create', admin.id, key.body.id, 'success'],
      ['key.revoke', admin.id, key.body.id, 'success'],
      ['auth.refused', 'unknown', 'GET /api/evaluations', 'denied'],
      ['key.create', researcher.id, null, 'denied'],
    ]);
    const first = page.body.items[0]!;
    expect(first).toMatchObject({ role: 'researcher', project: 'alpha', source: '127.0.0.1', detail: { status: 202 } });
    expect(first.request_id).toBeTruthy();
    expect(JSON.stringify(page.body)).not.toContain(key.body.key);

    const filtered = await api<AuditPage>(server.url, 'GET', `/api/audit?action=key.create&outcome=success`, undefined, as(admin));
    expect(filtered.body.items.map((e) => e.target)).toEqual([key.body.id]);
    const paged = await api<AuditPage>(server.url, 'GET', '/api/audit?limit=2&after=2', undefined, as(admin));
    expect(paged.body.items.map((e) => e.seq)).toEqual([3, 4]);
    expect(paged.body.next_after).toBe(4);
    expect((await api(server.url, 'GET', '/api/audit', undefined, as(researcher))).status).toBe(403);
    expect(await server.platform.audit.verify()).toMatchObject({ ok: true });
  });
});
