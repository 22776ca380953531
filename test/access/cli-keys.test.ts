/** `crucible keys …` against a data directory and a PostgreSQL database, with no server running. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { AccessControl } from '../../src/app/access.js';
import { createPostgresStorage } from '../../src/storage/postgres.js';
import { createSqliteStorage } from '../../src/storage/sqlite.js';
import type { Storage } from '../../src/ports/storage.js';
import { PG_URL, dropSchema, testSchemaName } from '../storage/pg-helpers.js';
import { cliPath, tempDir } from '../helpers/server.js';
import { apiKeySecret } from '../helpers/api-keys.js';

const run = promisify(execFile);
const crucible = (args: string[]) => run(process.execPath, [cliPath, ...args], { env: { ...process.env, CRUCIBLE_DATABASE_URL: '', CRUCIBLE_REDIS_URL: '' } });

const schema = testSchemaName();
afterAll(() => dropSchema(schema));

for (const [name, where, open] of [
  ['data directory', (dir: string) => ['--data-dir', dir], (dir: string): Storage => createSqliteStorage({ dataDir: dir })],
  ['PostgreSQL', () => ['--database-url', PG_URL, '--namespace', schema], (): Storage => createPostgresStorage({ connectionString: PG_URL, schema })],
] as const) {
  describe(`crucible keys (${name})`, () => {
    it('creates a key printed once, lists it without its secret, revokes it', async () => {
      const dir = tempDir();
      const created = await crucible(['keys', 'create', '--role', 'admin', '--name', 'first admin', '--project', 'alpha', '--expires-in', '7', ...where(dir)]);
      const key = created.stdout.trim();
      expect(key).toMatch(/^crk_key_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
      expect(created.stderr).toMatch(/only time the key is shown/);
      const id = key.split('_').slice(1, 3).join('_');

      const store = open(dir);
      try {
        await store.init();
        expect(await new AccessControl(store.apiKeys, { mode: 'required' }).authenticate(`Bearer ${key}`)).toEqual({ id, role: 'admin', project: 'alpha' });
      } finally {
        await store.close();
      }

      const listed = await crucible(['keys', 'list', ...where(dir)]);
      expect(listed.stdout).toContain(id);
      expect(listed.stdout).toContain('first admin');
      expect(listed.stdout).not.toContain(apiKeySecret(key));

      expect((await crucible(['keys', 'revoke', id, ...where(dir)])).stdout).toMatch(new RegExp(`revoked ${id}`));
      expect((await crucible(['keys', 'list', ...where(dir)])).stdout).toMatch(/revoked/);
      await expect(crucible(['keys', 'create', '--role', 'root', '--name', 'x', ...where(dir)])).rejects.toMatchObject({ code: 1 });
    });
  });
}

describe('crucible serve on a reachable address', () => {
  it('refuses auth off there, saying how to enable auth or accept the risk', async () => {
    const err = (await crucible(['serve', '--host', '0.0.0.0', '--port', '0', '--auth', 'off', '--data-dir', tempDir(), '--workers', '0']).then(
      () => null,
      (e: unknown) => e,
    )) as { code: number; stderr: string } | null;
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 with auth off/);
    expect(err?.stderr).toMatch(/--auth required/);
    expect(err?.stderr).toMatch(/--allow-unauthenticated/);
  });
});
