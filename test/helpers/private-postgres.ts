/**
 * A private PostgreSQL cluster for outage tests: initdb (as the postgres user) in a temporary
 * directory, a free loopback port, trust authentication, no fsync. It can be shut down the hard
 * way (SIGQUIT to its postmaster by PID: immediate shutdown, crash recovery on the next start)
 * and started again on the same port, without disturbing the machine's shared server.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { restartableServer, type RestartableServer } from './processes.js';
import { freePort, tempDir } from './server.js';

export interface PrivatePostgres extends RestartableServer {
  url: string;
  port: number;
}

/** The newest installed PostgreSQL's bin directory, or null. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return null;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, 'bin/initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : null;
}

/** Null when a private cluster can be made here, else why not. */
export function privatePostgresSupport(): string | null {
  if (!postgresBinDir()) return 'no PostgreSQL server binaries under /usr/lib/postgresql';
  if (process.getuid?.() !== 0) return 'needs root (to run initdb as the postgres user)';
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    return 'no postgres system user';
  }
  return null;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL binaries not found');
  const { uid, gid } = userIds('postgres');
  const port = await freePort();
  const dir = tempDir('crucible-pg-');
  const data = path.join(dir, 'data');
  fs.chownSync(dir, uid, gid);
  execFileSync(path.join(bin, 'initdb'), ['-D', data, '--auth=trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'], {
    uid,
    gid,
    stdio: 'pipe',
    timeout: 30_000,
  });
  const server = await restartableServer({
    argv: [
      path.join(bin, 'postgres'),
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'shared_buffers=16MB',
      '-c',
      'max_connections=50',
    ],
    ready: /database system is ready to accept connections/,
    // Immediate shutdown: connections are cut at once and the next start runs crash recovery.
    killSignal: 'SIGQUIT',
    dir,
    uid,
    gid,
  });
  return Object.assign(server, { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port });
}

function userIds(name: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
  return { uid, gid };
}
