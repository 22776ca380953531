/** `crucible quota set | show` against a data directory, with no server running; the change is audited. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS_ACTOR } from '../../src/domain/access.js';
import type { ProjectQuotaView } from '../../src/domain/quota.js';
import { AuditTrail } from '../../src/app/audit.js';
import { createSqliteStorage } from '../../src/storage/sqlite.js';
import { cliPath, tempDir } from '../helpers/server.js';

const run = promisify(execFile);
const crucible = (args: string[]) => run(process.execPath, [cliPath, ...args], { env: { ...process.env, CRUCIBLE_DATABASE_URL: '', CRUCIBLE_REDIS_URL: '' } });

describe('crucible quota (data directory)', () => {
  it('sets some quotas, keeps the others, shows them with usage, refuses bad values, and audits the change', async () => {
    const dir = tempDir();
    try {
      await crucible(['quota', 'set', 'alpha', '--max-queued', '5', '--role-limits', '{"researcher":{"timeout_s":60}}', '--data-dir', dir]);
      await crucible(['quota', 'set', 'alpha', '--max-running', '2', '--cpu-seconds-per-day', 'none', '--data-dir', dir]);
      const shown = JSON.parse((await crucible(['quota', 'show', 'alpha', '--data-dir', dir])).stdout) as ProjectQuotaView;
      expect(shown.quota).toMatchObject({ project: 'alpha', max_queued: 5, max_running: 2, cpu_seconds_per_day: null, updated_by: 'local-admin' });
      expect(shown.quota.role_limits).toEqual({ researcher: { timeout_s: 60 } });
      expect(shown.usage).toMatchObject({ queued: 0, running: 0, cpu_seconds_today: 0 });

      await expect(crucible(['quota', 'set', 'alpha', '--max-queued', 'lots', '--data-dir', dir])).rejects.toMatchObject({ code: 1 });
      await expect(crucible(['quota', 'set', 'alpha', '--data-dir', dir])).rejects.toMatchObject({ stderr: expect.stringContaining('nothing to set') });

      const store = createSqliteStorage({ dataDir: dir });
      try {
        await store.init();
        const entries = (await new AuditTrail(store.audit).list(ANONYMOUS_ACTOR, { limit: 10, action: 'quota.set' })).items;
        expect(entries.map((e) => [e.actor, e.target, e.project])).toEqual([
          ['local-admin', 'alpha', 'alpha'],
          ['local-admin', 'alpha', 'alpha'],
        ]);
      } finally {
        await store.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
