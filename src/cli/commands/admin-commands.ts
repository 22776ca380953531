/**
 * `crucible keys create | list | revoke`, `crucible audit verify` and `crucible migrate`: act on the
 * data directory or the PostgreSQL database directly, with no server running (this is how the first
 * admin key is made).
 */
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { ANONYMOUS_ACTOR, ROLES, type ApiKeyInfo, type Role } from '../../domain/access.js';
import type { NewAuditEntry } from '../../domain/audit.js';
import { defaultConfig } from '../../main/config.js';
import { openAdmin, type AdminTools } from '../../main/admin.js';

interface StoreFlags {
  dataDir?: string;
  databaseUrl?: string;
  namespace?: string;
}

/** Key management acts as the local administrator: whoever can open the database. */
const LOCAL_ADMIN = { ...ANONYMOUS_ACTOR, id: 'local-admin' };

function storeOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'embedded mode: the data directory (env CRUCIBLE_DATA_DIR)')
    .option('--database-url <url>', 'scale-out: PostgreSQL URL (env CRUCIBLE_DATABASE_URL)')
    .option('--namespace <name>', 'PostgreSQL schema (env CRUCIBLE_NAMESPACE)');
}

async function withAdmin<T>(flags: StoreFlags, fn: (admin: AdminTools) => Promise<T>): Promise<T> {
  // Only the database matters here: a Redis URL is not needed (nor checked).
  const defaults = defaultConfig();
  const admin = await openAdmin({
    ...defaults,
    dataDir: path.resolve(flags.dataDir ?? defaults.dataDir),
    namespace: flags.namespace ?? defaults.namespace,
    databaseUrl: flags.databaseUrl ?? defaults.databaseUrl,
  });
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

const fail = (err: unknown): never => {
  process.stderr.write(`crucible: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
};

/** An audit entry for something done from this command line (source: the local user). */
const cliEntry = (action: string, target: string, detail: Record<string, unknown>): NewAuditEntry => ({
  actor: LOCAL_ADMIN.id,
  role: LOCAL_ADMIN.role,
  project: null,
  action,
  target,
  outcome: 'success',
  source: `cli:${os.userInfo().username}@${os.hostname()}`,
  request_id: null,
  detail,
});

const row = (k: ApiKeyInfo) =>
  [
    k.id,
    k.role.padEnd(10),
    k.project.padEnd(12),
    k.revoked_at ? 'revoked' : k.expires_at && Date.parse(k.expires_at) <= Date.now() ? 'expired' : 'active ',
    k.name,
  ].join('  ');

/** `--max-queued 100` or `--max-queued none` (unlimited). */
const countOrNone = (v: string): number | null => {
  if (v === 'none' || v === 'unlimited') return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a whole number or "none", got ${v}`);
  return n;
};

const QUOTA_FLAGS = { maxRunning: 'max_running', maxQueued: 'max_queued', maxSessions: 'max_sessions', cpuSecondsPerDay: 'cpu_seconds_per_day' } as const;

function registerQuotaCommands(program: Command): void {
  const quota = program
    .command('quota')
    .description('Per-project quotas, set in the database directly (no server needed; or PUT /api/projects/{project}/quota)');
  storeOptions(
    quota
      .command('set')
      .description('Set some of a project\'s quotas (the others are kept); "none" = unlimited')
      .argument('<project>', 'project name')
      .option('--max-running <n>', 'evaluations running at once')
      .option('--max-queued <n>', 'evaluations waiting in the queue')
      .option('--max-sessions <n>', 'sessions open at once')
      .option('--cpu-seconds-per-day <n>', 'CPU seconds per UTC day')
      .option('--role-limits <json>', 'largest limits per role, e.g. \'{"researcher":{"memory_mb":1024,"timeout_s":60}}\''),
  ).action(async (project: string, flags: StoreFlags & Partial<Record<keyof typeof QUOTA_FLAGS, string>> & { roleLimits?: string }) => {
    try {
      const update: Record<string, unknown> = {};
      for (const [flag, field] of Object.entries(QUOTA_FLAGS)) {
        const value = flags[flag as keyof typeof QUOTA_FLAGS];
        if (value !== undefined) update[field] = countOrNone(value);
      }
      if (flags.roleLimits !== undefined) update.role_limits = JSON.parse(flags.roleLimits) as unknown;
      if (Object.keys(update).length === 0)
        throw new Error('nothing to set: give at least one of --max-running, --max-queued, --max-sessions, --cpu-seconds-per-day, --role-limits');
      const saved = await withAdmin(flags, async (a) => {
        const q = await a.quotas.set(LOCAL_ADMIN, project, update);
        await a.audit.record({ ...cliEntry('quota.set', project, update), project });
        return q;
      });
      process.stdout.write(`${JSON.stringify(saved, null, 2)}\n`);
    } catch (err) {
      fail(err);
    }
  });
  storeOptions(quota.command('show').description("A project's quotas and current usage").argument('<project>', 'project name')).action(
    async (project: string, flags: StoreFlags) => {
      try {
        const view = await withAdmin(flags, (a) => a.quotas.show(LOCAL_ADMIN, project));
        process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
      } catch (err) {
        fail(err);
      }
    },
  );
}

export function registerAdminCommands(program: Command): void {
  const keys = program.command('keys').description('Manage API keys in the database directly (no server needed)');

  storeOptions(
    keys
      .command('create')
      .description('Create an API key and print it (shown only this once)')
      .requiredOption('--name <name>', 'what the key is for, e.g. "ci" or a person')
      .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
      .option('--project <project>', 'project the key belongs to', 'default')
      .option('--expires-in <days>', 'days until the key stops working', (v) => Number(v)),
  ).action(async (flags: StoreFlags & { name: string; role: string; project: string; expiresIn?: number }) => {
    try {
      if (!(ROLES as readonly string[]).includes(flags.role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
      const created = await withAdmin(flags, async (a) => {
        const key = await a.access.createKey(LOCAL_ADMIN, {
          name: flags.name,
          role: flags.role as Role,
          project: flags.project,
          expires_in_days: flags.expiresIn,
        });
        await a.audit.record(cliEntry('key.create', key.id, { role: key.role, project: key.project }));
        return key;
      });
      process.stdout.write(`${created.key}\n`);
      process.stderr.write(
        `created ${created.id} (${created.role}, project ${created.project}${created.expires_at ? `, expires ${created.expires_at}` : ''}); ` +
          'this is the only time the key is shown: keep it now (send it as `Authorization: Bearer <key>`)\n',
      );
    } catch (err) {
      fail(err);
    }
  });

  storeOptions(keys.command('list').description('List API keys (never their secrets)')).action(async (flags: StoreFlags) => {
    try {
      const list = await withAdmin(flags, (a) => a.access.listKeys(LOCAL_ADMIN));
      for (const k of list) process.stdout.write(`${row(k)}\n`);
      if (list.length === 0) process.stderr.write('no API keys\n');
    } catch (err) {
      fail(err);
    }
  });

  storeOptions(keys.command('revoke').description('Revoke an API key; it stops working at once').argument('<id>', 'key id (key_…)')).action(
    async (id: string, flags: StoreFlags) => {
      try {
        const revoked = await withAdmin(flags, async (a) => {
          const key = await a.access.revokeKey(LOCAL_ADMIN, id);
          await a.audit.record(cliEntry('key.revoke', key.id, {}));
          return key;
        });
        process.stdout.write(`revoked ${revoked.id} at ${revoked.revoked_at}\n`);
      } catch (err) {
        fail(err);
      }
    },
  );

  registerQuotaCommands(program);

  const audit = program.command('audit').description('The hash-chained audit log, read directly from the database');
  storeOptions(audit.command('verify').description('Check the chain; exits 1 naming the first altered, removed or reordered entry')).action(
    async (flags: StoreFlags) => {
      try {
        const verdict = await withAdmin(flags, (a) => a.audit.verify());
        if (verdict.ok) {
          process.stdout.write(`audit log intact: ${verdict.entries} entries\n`);
          return;
        }
        process.stdout.write(`audit log BROKEN at entry ${verdict.firstBad}: ${verdict.problem} (${verdict.entries} entries before it verified)\n`);
        process.exit(1);
      } catch (err) {
        fail(err);
      }
    },
  );

  // A one-shot step before a rollout (a Kubernetes Job, the image's `migrate`): servers and
  // workers migrate on start too, so this only moves the wait (and a failure) out of their start.
  storeOptions(program.command('migrate').description('Bring the database schema up to date, then exit (servers also do this on start)')).action(
    async (flags: StoreFlags) => {
      try {
        const defaults = defaultConfig();
        const where =
          (flags.databaseUrl ?? defaults.databaseUrl)
            ? `PostgreSQL schema ${flags.namespace ?? defaults.namespace}`
            : `data directory ${path.resolve(flags.dataDir ?? defaults.dataDir)}`;
        await withAdmin(flags, async () => undefined);
        process.stdout.write(`crucible: the ${where} is at the current schema\n`);
      } catch (err) {
        fail(err);
      }
    },
  );
}
