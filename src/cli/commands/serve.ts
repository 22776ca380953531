/** `crucible serve` and `crucible worker`: the long-running roles. */
import { InvalidArgumentError, type Command } from 'commander';
import { parseEnvironmentList } from '../../domain/environment-routing.js';
import type { Environment } from '../../domain/evaluation.js';
import { resolveConfig, type PlatformConfig } from '../../main/config.js';
import { startServer, startWorkerProcess, stopOnSignals } from '../../main/roles.js';

interface CommonFlags {
  dataDir?: string;
  databaseUrl?: string;
  redisUrl?: string;
  logLevel?: PlatformConfig['logLevel'];
  maxQueueDepth?: number;
  namespace?: string;
  auth?: PlatformConfig['auth'];
  allowUnauthenticated?: boolean;
}

/** `serve` only: web sign-in. */
interface SignInFlags {
  publicUrl?: string;
  oidcIssuer?: string;
  oidcClientId?: string;
  oidcClientSecret?: string;
  oidcName?: string;
  oidcRoleClaim?: string;
  oidcProjectClaim?: string;
}

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a whole number, got "${v}"`);
  return n;
};

function commonOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'embedded mode: where the SQLite database and queue live (env CRUCIBLE_DATA_DIR)', undefined)
    .option('--database-url <url>', 'scale-out: PostgreSQL URL (env CRUCIBLE_DATABASE_URL)')
    .option('--redis-url <url>', 'scale-out: Redis URL for the queue and live events (env CRUCIBLE_REDIS_URL)')
    .option('--namespace <name>', 'PostgreSQL schema and Redis key prefix (env CRUCIBLE_NAMESPACE)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug (env CRUCIBLE_LOG_LEVEL)');
}

/** --environments: an unknown name stops the command with commander's usage error (exit 1), naming the known ones. */
function environmentsFlag(value: string): Environment[] {
  try {
    return parseEnvironmentList(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

const ENVIRONMENTS_HELP =
  'comma-separated environments the worker serves, e.g. python,python-data (env CRUCIBLE_ENVIRONMENTS; default: every environment available on this host)';

function configFrom(
  flags: CommonFlags & SignInFlags & { workers?: number; metricsPort?: number; metricsHost?: string; environments?: Environment[] },
): PlatformConfig {
  return resolveConfig({
    dataDir: flags.dataDir,
    databaseUrl: flags.databaseUrl,
    redisUrl: flags.redisUrl,
    logLevel: flags.logLevel,
    maxQueueDepth: flags.maxQueueDepth,
    namespace: flags.namespace,
    workers: flags.workers,
    environments: flags.environments,
    metricsPort: flags.metricsPort,
    metricsHost: flags.metricsHost,
    auth: flags.auth,
    allowUnauthenticated: flags.allowUnauthenticated,
    publicUrl: flags.publicUrl,
    oidcIssuer: flags.oidcIssuer,
    oidcClientId: flags.oidcClientId,
    oidcClientSecret: flags.oidcClientSecret,
    oidcName: flags.oidcName,
    oidcRoleClaim: flags.oidcRoleClaim,
    oidcProjectClaim: flags.oidcProjectClaim,
  });
}

const fail = (err: unknown) => {
  process.stderr.write(`crucible: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
};

export function registerServe(program: Command): void {
  commonOptions(
    program
      .command('serve')
      .description('Serve the API and web UI, with a local worker (embedded SQLite by default; PostgreSQL + Redis when given)')
      .option('--port <port>', 'TCP port (env CRUCIBLE_PORT)', int, Number(process.env.CRUCIBLE_PORT ?? 8080))
      .option('--host <host>', 'address to listen on (env CRUCIBLE_HOST)', process.env.CRUCIBLE_HOST ?? '127.0.0.1')
      .option('--workers <n>', 'evaluations run at once by the local worker; 0 for an API-only instance (env CRUCIBLE_WORKERS, default: CPU count)', int)
      .option('--environments <names>', ENVIRONMENTS_HELP, environmentsFlag)
      .option('--max-queue-depth <n>', 'waiting evaluations beyond which submissions get 503 (env CRUCIBLE_MAX_QUEUE_DEPTH)', int)
      .option('--auth <mode>', 'off|required: API keys required (env CRUCIBLE_AUTH; default: off on a loopback address, required otherwise)')
      .option('--allow-unauthenticated', 'accept listening on a non-loopback address with auth off (env CRUCIBLE_ALLOW_UNAUTHENTICATED=1)')
      .option('--public-url <url>', 'the URL browsers reach this server at, e.g. https://crucible.example.com (env CRUCIBLE_PUBLIC_URL)')
      .option('--oidc-issuer <url>', 'OpenID Connect provider for web sign-in (env CRUCIBLE_OIDC_ISSUER)')
      .option('--oidc-client-id <id>', "this server's client id at the provider (env CRUCIBLE_OIDC_CLIENT_ID)")
      .option('--oidc-client-secret <secret>', 'its client secret; prefer the env CRUCIBLE_OIDC_CLIENT_SECRET (a flag shows in the process list)')
      .option('--oidc-name <name>', 'the provider on the sign-in button (env CRUCIBLE_OIDC_NAME; default: its host)')
      .option(
        '--oidc-role-claim <claim>',
        'claim with the role: admin, researcher or viewer, or a list with one (env CRUCIBLE_OIDC_ROLE_CLAIM, default crucible_role)',
      )
      .option('--oidc-project-claim <claim>', 'claim with the project (env CRUCIBLE_OIDC_PROJECT_CLAIM, default crucible_project)'),
  ).action(async (flags: CommonFlags & SignInFlags & { port: number; host: string; workers?: number; environments?: Environment[] }) => {
    try {
      const server = await startServer(configFrom(flags), { host: flags.host, port: flags.port });
      process.stderr.write(`Crucible is serving on ${server.url}  (web UI: ${server.url}/, API docs: ${server.url}/docs)\n`);
      stopOnSignals(server, (m) => process.stderr.write(`crucible: ${m}\n`));
    } catch (err) {
      fail(err);
    }
  });

  commonOptions(
    program
      .command('worker')
      .description('Run a worker only (scale-out): take evaluations from Redis, run them, record them in PostgreSQL')
      .option('--concurrency <n>', 'evaluations run at once (env CRUCIBLE_WORKERS, default: CPU count)', int)
      .option('--environments <names>', ENVIRONMENTS_HELP, environmentsFlag)
      .option(
        '--metrics-port <port>',
        "serve this worker's Prometheus metrics (GET /metrics) and /healthz on this port (env CRUCIBLE_METRICS_PORT; default: none)",
        int,
      )
      .option('--metrics-host <host>', 'address of the metrics endpoint (env CRUCIBLE_METRICS_HOST, default 127.0.0.1)'),
  ).action(async (flags: CommonFlags & { concurrency?: number; metricsPort?: number; metricsHost?: string; environments?: Environment[] }) => {
    try {
      const running = await startWorkerProcess(configFrom({ ...flags, workers: flags.concurrency }));
      const serving = `environments: ${running.worker.environments.join(', ')}`;
      process.stderr.write(`Crucible worker ${running.worker.id} is running (${serving})${running.metricsUrl ? ` (metrics: ${running.metricsUrl})` : ''}\n`);
      stopOnSignals(running, (m) => process.stderr.write(`crucible: ${m}\n`));
    } catch (err) {
      fail(err);
    }
  });
}
